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

// \require{…} names, as the archive wrote them for MathJax 2, are matched
// case-insensitively (\require{AMScd} -> amscd, HTML -> html) against the
// packages MathJax 3 has; these MathJax 2 names have another MathJax 3 name
// ('' = built into MathJax 3, nothing to load).
var KXSJ_V2_EXTENSIONS = {amsmath: 'ams', amssymbols: 'ams', 'autoload-all': '', mathchoice: ''};

window.MathJax = {
  // The vendored tex-chtml-full.js has every TeX package built in; a MathJax
  // from a URL (tex-chtml.js) may not, so only then is noerrors loaded.
  // noerrors: a formula with a TeX error is shown as written (in a red box,
  // the message as its tooltip), never replaced by the message alone.
  loader: {load: kxsjLocalMathJax ? [] : ['[tex]/noerrors']},
  tex: {
    inlineMath: [['\\(', '\\)']],
    displayMath: [['\\[', '\\]']],
    processEscapes: true,
    processEnvironments: true,
    tags: 'ams',
    // No textmacros: kexue.fm's MathJax showed \text{stop_gradient} as the
    // letters written, not as a TeX error about "_" outside math.
    packages: {'[+]': ['noerrors'], '[-]': ['textmacros']}
  },
  options: {
    ignoreHtmlClass: 'tex2jax_ignore|mathjax_ignore|.*|',
    processHtmlClass: 'arithmatex',
    // MathJax's own menu has English labels only (3.2 has no other locale);
    // static/js/mathview.js offers 「复制公式源码」 instead, from data-tex.
    enableMenu: false
  },
  startup: {
    typeset: false,
    ready: function () {
      MathJax.startup.defaultReady();
      kxsjRequireOffline(MathJax.startup.document.inputJax[0]);
    },
    pageReady: function () {
      return MathJax.startup.defaultPageReady().then(kxsjTypesetArticles);
    }
  }
};

function kxsjKnownPackages() {
  // name in lower case -> the package's name, for every "[tex]/…" component
  // the loader has: with the vendored tex-chtml-full.js, all of MathJax's.
  var known = {};
  var packages = MathJax._.components.package.Package.packages;
  packages.forEach(function (_, key) {
    if (key.indexOf('[tex]/') === 0) known[key.slice(6).toLowerCase()] = key.slice(6);
  });
  return known;
}

function kxsjRequireName(name, known) {
  // The MathJax 3 package for a \require{name}; '' for nothing to load;
  // undefined when MathJax does not know the name.
  var lower = name.toLowerCase();
  if (Object.prototype.hasOwnProperty.call(KXSJ_V2_EXTENSIONS, lower)) return KXSJ_V2_EXTENSIONS[lower];
  // A MathJax from a URL loads packages on request, and its file names are
  // all lower case: amscd.js, not AMScd.js.
  return known[lower] || (kxsjLocalMathJax ? undefined : lower);
}

function kxsjRequireOffline(jax) {
  // \require{…} never fetches a file: a name MathJax knows is mapped to its
  // built-in package; with the vendored MathJax an unknown name is refused
  // (a TeX error in that one formula) instead of a failed download that
  // stops MathJax from typesetting anything on the page.
  var known = kxsjKnownPackages();
  if (kxsjLocalMathJax) {
    var options = jax.parseOptions.options.require;
    options.defaultAllow = false;
    Object.keys(known).forEach(function (lower) {
      if (!Object.prototype.hasOwnProperty.call(options.allow, known[lower])) options.allow[known[lower]] = true;
    });
  }
  // First of all pre-filters: the TeX as written, kept for data-tex.
  jax.preFilters.add(function (args) { args.math.inputData.kxsjTex = args.math.math; }, -1000);
  jax.preFilters.add(function (args) {
    args.math.math = args.math.math.replace(/\\require\s*\{\s*([^{}]*?)\s*\}/g, function (all, name) {
      var mapped = kxsjRequireName(name, known);
      if (mapped === undefined) return all;
      return mapped === '' ? '' : '\\require{' + mapped + '}';
    });
  });
}

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

function kxsjKeepTex(el) {
  // Each formula's TeX as written (between its delimiters) on its
  // <mjx-container data-tex>, as a build-time typeset page has it: the
  // copy-TeX menu (static/js/mathview.js) reads it the same way in both.
  MathJax.startup.document.getMathItemsWithin(el).forEach(function (item) {
    if (item.typesetRoot) item.typesetRoot.setAttribute('data-tex', item.inputData.kxsjTex || item.math);
  });
}

function kxsjTypesetArticles() {
  var scopes = Array.prototype.slice.call(document.querySelectorAll('article'));
  if (scopes.length === 0) scopes = [document.body];
  return scopes.reduce(function (done, el, i) {
    return done.then(function () {
      MathJax.texReset();
      return MathJax.typesetPromise([el]).then(function () {
        kxsjKeepTex(el);
        if (scopes.length > 1) kxsjScopeIds(el, i + 1);
      });
    });
  }, Promise.resolve());
}
