/* MathJax 3 configuration for kxsj pages.
 *
 * Only the formulas the Markdown renderer marked are typeset: it wraps each in
 * <span class="arithmatex">\(…\)</span> or <div class="arithmatex">\[…\]</div>,
 * so a stray "$" in prose or code is never taken for math.  ignoreHtmlClass
 * matches every element (".*|" also matches an empty class) and
 * processHtmlClass switches typesetting back on inside .arithmatex.
 *
 * Each <article> is typeset on its own after MathJax.texReset(): on a page that
 * shows several posts, one post's \label{eq:x} must not clash with another's,
 * and equation numbers restart at (1) in every post.  The ids MathJax gives
 * numbered equations are then made unique per article, so \eqref links stay
 * inside their own post.  MathJax.startup.promise resolves when all are done.
 */
var kxsjLocalMathJax = (document.currentScript || {dataset: {}}).dataset.mathjax === 'local';

window.MathJax = {
  // The vendored tex-chtml-full.js has textmacros and noerrors built in; a
  // MathJax from a URL (tex-chtml.js) may not, so only then are they loaded.
  // noerrors: a formula with a TeX error is shown as written (in a red box,
  // the message as its tooltip), never replaced by the message alone.
  loader: {load: kxsjLocalMathJax ? [] : ['[tex]/textmacros', '[tex]/noerrors']},
  tex: {
    inlineMath: [['\\(', '\\)']],
    displayMath: [['\\[', '\\]']],
    processEscapes: true,
    processEnvironments: true,
    tags: 'ams',
    packages: {'[+]': ['textmacros', 'noerrors']}
  },
  options: {
    ignoreHtmlClass: 'tex2jax_ignore|mathjax_ignore|.*|',
    processHtmlClass: 'arithmatex'
  },
  startup: {
    typeset: false,
    pageReady: function () {
      return MathJax.startup.defaultPageReady().then(kxsjTypesetArticles);
    }
  }
};

function kxsjScopeIds(article, n) {
  // Prefix "mjx-eqn…" ids (and the #links to them) with the article's number.
  var prefix = 'a' + n + '-';
  article.querySelectorAll('[id^="mjx-eqn"]').forEach(function (el) {
    el.id = prefix + el.id;
  });
  article.querySelectorAll('a[href^="#mjx-eqn"]').forEach(function (a) {
    a.setAttribute('href', '#' + prefix + a.getAttribute('href').slice(1));
  });
}

function kxsjTypesetArticles() {
  var scopes = Array.prototype.slice.call(document.querySelectorAll('article'));
  if (scopes.length === 0) scopes = [document.body];
  return scopes.reduce(function (done, el, i) {
    return done.then(function () {
      MathJax.texReset();
      return MathJax.typesetPromise([el]).then(function () {
        if (scopes.length > 1) kxsjScopeIds(el, i + 1);
      });
    });
  }, Promise.resolve());
}
