/* Formulas for the reader, on pages that have any (kxsj).
 *
 * Works on MathJax's CommonHTML output, typeset in the browser or at build
 * time alike: <mjx-container> elements, display="true" for display math,
 * data-tex holding the TeX as written (mathjax-config.js sets it after
 * typesetting; a build-time page has it already).
 *
 * 1. An inline formula wider than the line it sits in gets the class
 *    kxsj-math-wide (site.css: it scrolls inside its own box, so the page
 *    never widens); measured again when the width changes.
 * 2. Print: every formula wider than the printed column gets
 *    --kxsj-print-zoom, the scale that fits it (site.css applies it on paper
 *    only).  The column is --kxsj-print-width at --kxsj-print-font.
 * 3. Copy the TeX: right-click (long-press on a touch screen, Enter or the
 *    menu key on a focused formula) opens 「复制公式源码」, which copies the
 *    formula with its delimiters: $…$, $$…$$, or a display environment as
 *    written.  Without a clipboard the TeX is shown selected in a prompt.
 */
(function () {
  'use strict';

  var WIDE = 'kxsj-math-wide';
  var LABEL = '复制公式源码';
  var DONE = '已复制';
  var ENVIRONMENTS = /^\s*\\begin\{(equation|align|gather|multline|eqnarray|flalign|alignat)(\*?)\}[\s\S]*\\end\{\1\2\}\s*$/;

  function formulas() {
    return Array.prototype.slice.call(document.querySelectorAll('mjx-container'));
  }

  function isDisplay(el) {
    return el.getAttribute('display') === 'true';
  }

  // --- 1. inline formulas wider than their line --------------------------

  function lineWidth(el) {
    var block = el.parentElement;
    while (block && getComputedStyle(block).display.indexOf('inline') === 0) block = block.parentElement;
    if (!block) return Infinity;
    var style = getComputedStyle(block);
    return block.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  }

  // Measured lazily: a formula is measured when it comes near the screen
  // (and again when the width changes), so loading a long page lays out
  // only what is shown (site.css lets the browser skip the rest).  Its
  // natural width is the larger of its box and its scroll width, so a
  // formula already marked is measured without unmarking it.
  function fitInline(els) {
    els.map(function (el) {  // read all, then write: one layout
      return [el, Math.max(el.getBoundingClientRect().width, el.scrollWidth) > lineWidth(el) + 0.5];
    }).forEach(function (pair) {
      pair[0].classList.toggle(WIDE, pair[1]);
    });
  }

  var watcher = null;

  function watchInline() {
    var inline = formulas().filter(function (el) { return !isDisplay(el); });
    if (!window.IntersectionObserver) return fitInline(inline);
    if (watcher) watcher.disconnect();
    watcher = new IntersectionObserver(function (entries) {
      fitInline(entries.filter(function (e) { return e.isIntersecting; }).map(function (e) { return e.target; }));
    }, {rootMargin: '100% 0px'});
    inline.forEach(function (el) { watcher.observe(el); });
  }

  // --- 2. print: scale what is wider than the paper ----------------------

  function printColumn() {
    var probe = document.createElement('div');
    probe.className = 'kxsj-print-probe';
    document.body.appendChild(probe);
    var column = {width: probe.getBoundingClientRect().width, font: parseFloat(getComputedStyle(probe).fontSize)};
    document.body.removeChild(probe);
    return column;
  }

  function fitPrint() {
    var column = printColumn();
    var main = document.querySelector('main') || document.body;
    var left = main.getBoundingClientRect().left + parseFloat(getComputedStyle(main).paddingLeft);
    formulas().map(function (el) {
      // On paper the text is column.font instead of its font here: every
      // width (the formula's, its indent) scales by the same ratio.
      var ratio = column.font / parseFloat(getComputedStyle(el.parentElement).fontSize);
      var rect = el.getBoundingClientRect();
      var natural = Math.max(el.scrollWidth, rect.width) * ratio;
      var room = column.width - Math.max(0, rect.left - left) * ratio;
      return [el, natural > room ? Math.max(0.01, room / natural * 0.98) : 0];  // small beats cut off
    }).forEach(function (pair) {
      if (pair[1]) pair[0].style.setProperty('--kxsj-print-zoom', pair[1].toFixed(3));
      else pair[0].style.removeProperty('--kxsj-print-zoom');
    });
  }

  // --- 3. copy the TeX ---------------------------------------------------

  function texOf(el) {
    var tex = el.getAttribute('data-tex');
    if (tex === null) return null;
    if (!isDisplay(el)) return '$' + tex + '$';
    return ENVIRONMENTS.test(tex) ? tex : '$$' + tex + '$$';
  }

  var menu = null;

  function closeMenu() {
    if (!menu) return;
    var owner = menu.owner;
    menu.parentNode.removeChild(menu);
    menu = null;
    if (owner && document.activeElement === document.body) owner.focus();
  }

  function copy(text, done) {
    function fallback() {
      window.prompt(LABEL + '（按 Ctrl+C 复制）', text);
      done(false);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  function openMenu(el, x, y) {
    var tex = texOf(el);
    if (tex === null) return false;
    closeMenu();
    menu = document.createElement('div');
    menu.className = 'kxsj-math-menu';
    menu.setAttribute('role', 'menu');
    menu.owner = el;
    var item = document.createElement('button');
    item.type = 'button';
    item.setAttribute('role', 'menuitem');
    item.textContent = LABEL;
    item.addEventListener('click', function () {
      copy(tex, function (copied) {
        if (!copied || !menu) return closeMenu();
        item.textContent = DONE;
        setTimeout(closeMenu, 700);
      });
    });
    menu.appendChild(item);
    document.body.appendChild(menu);
    var box = menu.getBoundingClientRect();
    menu.style.left = Math.max(4, Math.min(x, window.innerWidth - box.width - 4)) + 'px';
    menu.style.top = Math.max(4, Math.min(y, window.innerHeight - box.height - 4)) + 'px';
    item.focus({preventScroll: true});
    return true;
  }

  function openAt(el, event) {
    var x = event && event.clientX, y = event && event.clientY;
    if (!x && !y) {  // from the keyboard: below the formula's start
      var rect = el.getBoundingClientRect();
      x = rect.left;
      y = rect.bottom;
    }
    return openMenu(el, x, y);
  }

  function formulaAt(target) {
    return target && target.closest ? target.closest('mjx-container') : null;
  }

  document.addEventListener('contextmenu', function (event) {
    var el = formulaAt(event.target);
    if (el && openAt(el, event)) event.preventDefault();
  });

  document.addEventListener('keydown', function (event) {
    if (menu && (event.key === 'Escape' || event.key === 'Tab')) {
      closeMenu();
      if (event.key === 'Escape') event.preventDefault();
      return;
    }
    var el = formulaAt(event.target);
    if (el && event.target === el && event.key === 'Enter' && openAt(el, null)) event.preventDefault();
  });

  document.addEventListener('mousedown', function (event) {
    if (menu && !menu.contains(event.target)) closeMenu();
  });

  // Long-press: Android fires contextmenu by itself, iOS does not.
  var press = null;
  document.addEventListener('touchstart', function (event) {
    var el = formulaAt(event.target);
    if (!el || event.touches.length !== 1) return;
    var touch = event.touches[0];
    clearTimeout(press);
    press = setTimeout(function () {
      press = null;
      if (!menu || menu.owner !== el) openMenu(el, touch.clientX, touch.clientY);
    }, 550);
  }, {passive: true});
  ['touchend', 'touchmove', 'touchcancel', 'scroll'].forEach(function (name) {
    document.addEventListener(name, function () { clearTimeout(press); press = null; }, {passive: true, capture: true});
  });

  function ready() {
    formulas().forEach(function (el) {
      if (!el.hasAttribute('tabindex') && el.hasAttribute('data-tex')) el.setAttribute('tabindex', '0');
    });
    watchInline();
  }

  var pending = 0, width = window.innerWidth;
  window.addEventListener('resize', function () {
    if (window.innerWidth === width) return;  // a phone's toolbar sliding away changes the height only
    width = window.innerWidth;
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(watchInline);
  });
  // Print: measured as the page is about to be printed, on the screen's
  // layout, which fitPrint scales from.
  window.addEventListener('beforeprint', fitPrint);

  var startup = window.MathJax && window.MathJax.startup;
  if (startup && startup.promise) startup.promise.then(ready);
  else if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
