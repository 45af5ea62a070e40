/* kxsj reader helpers, all progressive enhancement (the pages read fine without them):
 *
 * - the colour theme switch in the header (跟随系统 → 浅色 → 深色), remembered in
 *   localStorage as "kxsj-theme"; templates/_theme_script.html applies it in <head>
 *   before the page paints, this file only handles the button and system changes;
 * - a post's automatic contents list (details.toc-auto) moves beside the text,
 *   open, on a wide screen (into the sidebar's [data-toc-slot]) and back above the
 *   text, folded, on a narrow one; the entry of the section being read is marked;
 * - a 复制 button on every code block and on the BibTeX entry; it uses the
 *   Clipboard API where the page may, and else selects the text and copies it
 *   with execCommand, and else leaves it selected for Ctrl+C.
 */
(function () {
  'use strict';
  var root = document.documentElement;
  var KEY = 'kxsj-theme';
  var LABELS = { system: '跟随系统', light: '浅色', dark: '深色' };
  var NEXT = { system: 'light', light: 'dark', dark: 'system' };
  var systemDark = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;

  function store(choice) {
    try {
      if (choice === 'system') localStorage.removeItem(KEY); else localStorage.setItem(KEY, choice);
    } catch (e) { /* private mode: the choice lasts for this page only */ }
  }

  function apply(choice) {
    var dark = choice === 'dark' || (choice === 'system' && systemDark && systemDark.matches);
    root.setAttribute('data-theme-choice', choice);
    root.setAttribute('data-theme', dark ? 'dark' : 'light');
    var buttons = document.querySelectorAll('[data-theme-toggle]');
    for (var i = 0; i < buttons.length; i++) {
      var label = buttons[i].querySelector('.theme-label');
      if (label) label.textContent = LABELS[choice];
      buttons[i].setAttribute('aria-label', '配色：' + LABELS[choice] + '（点击切换）');
    }
  }

  function setUpTheme() {
    var buttons = document.querySelectorAll('[data-theme-toggle]');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
      buttons[i].addEventListener('click', function () {
        var choice = NEXT[root.getAttribute('data-theme-choice')] || 'light';
        store(choice);
        apply(choice);
      });
    }
    apply(root.getAttribute('data-theme-choice') || 'system');
    if (systemDark && systemDark.addEventListener) {
      systemDark.addEventListener('change', function () {
        if (root.getAttribute('data-theme-choice') === 'system') apply('system');
      });
    }
  }

  function setUpToc() {
    var toc = document.querySelector('.post-body details.toc-auto');
    var slot = document.querySelector('[data-toc-slot]');
    if (!toc || !slot || !window.matchMedia) return;
    var home = document.createComment('toc');
    toc.parentNode.insertBefore(home, toc);
    var wide = window.matchMedia('(min-width: 64rem)');
    function place() {
      if (wide.matches) {
        slot.appendChild(toc);
        toc.open = true;
      } else {
        home.parentNode.insertBefore(toc, home);
        toc.open = false;
      }
    }
    place();
    if (wide.addEventListener) wide.addEventListener('change', place);
    followReading(toc);
  }

  // The entry of the section being read is marked (aria-current) as the page scrolls.
  function followReading(toc) {
    var links = toc.querySelectorAll('.toc a[href^="#"]');
    var entries = [];
    for (var i = 0; i < links.length; i++) {
      var heading = document.getElementById(decodeURIComponent(links[i].getAttribute('href').slice(1)));
      if (heading) entries.push([heading, links[i]]);
    }
    var current = null, pending = false;
    function update() {
      pending = false;
      var found = null;
      for (var j = 0; j < entries.length && entries[j][0].getBoundingClientRect().top < 80; j++) found = entries[j][1];
      if (found === current) return;
      if (current) current.removeAttribute('aria-current');
      if (found) found.setAttribute('aria-current', 'location');
      current = found;
    }
    window.addEventListener('scroll', function () {
      if (!pending) { pending = true; window.requestAnimationFrame(update); }
    }, { passive: true });
    window.requestAnimationFrame(update);  // after the first layout, not forcing one while the page loads
  }

  function fallbackCopy(text, source) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(area);
    if (!ok && source) {  // leave the text selected: Ctrl+C / long press copies it
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    return ok;
  }

  function copy(text, source) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () { return true; },
        function () { return fallbackCopy(text, source); });
    }
    return Promise.resolve(fallbackCopy(text, source));
  }

  function addCopyButton(box, source) {
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-button';
    button.setAttribute('data-pagefind-ignore', '');
    button.textContent = '复制';
    button.addEventListener('click', function () {
      copy(source.textContent, source).then(function (ok) {
        button.textContent = ok ? '已复制' : '请按 Ctrl+C';
        button.classList.toggle('copied', ok);
        setTimeout(function () { button.textContent = '复制'; button.classList.remove('copied'); }, 2000);
      });
    });
    box.classList.add('has-copy');
    box.appendChild(button);
  }

  function setUpCopy() {
    var blocks = document.querySelectorAll('.highlight, pre.bibtex');
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      if (block.matches('.highlight pre, .highlight .highlight')) continue;
      var code = block.querySelector('code') || block;
      if (block.tagName === 'PRE') {  // the BibTeX <pre>: a wrapper keeps the button out of the text
        var wrap = document.createElement('div');
        wrap.className = 'copy-box';
        block.parentNode.insertBefore(wrap, block);
        wrap.appendChild(block);
        block = wrap;
      }
      addCopyButton(block, code);
    }
  }

  function ready() {
    setUpTheme();
    setUpToc();
    setUpCopy();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
