/* The MathJax configuration of the build-time engine: static/js/mathjax-config.js
 * as it is with the vendored MathJax (data-mathjax="local"), on a liteDOM
 * instead of the browser's DOM.  First in the bundle, so the components read
 * it as they read window.MathJax on a page.
 */
var MathJax = {
  loader: {load: []},
  tex: {
    inlineMath: [['\\(', '\\)']],
    displayMath: [['\\[', '\\]']],
    processEscapes: true,
    processEnvironments: true,
    tags: 'ams',
    packages: {'[+]': ['noerrors'], '[-]': ['textmacros']}
  },
  options: {
    ignoreHtmlClass: 'tex2jax_ignore|mathjax_ignore|.*|',
    processHtmlClass: 'arithmatex'
  },
  chtml: {
    // Every character's CSS, not only those of the formulas typeset so far:
    // one stylesheet serves every page, written once (kxsj-chtml.css beside
    // the fonts' folder, so this relative address is right from there).
    adaptiveCSS: false,
    fontURL: 'output/chtml/fonts/woff-v2'
  },
  startup: {
    typeset: false,
    ready: function () { kxsjReady(); }  // kxsj.js, run at its end if not here first
  }
};
