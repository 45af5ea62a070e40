/* The build-time engine's MathJax configuration: the pages' own,
 * static/js/mathjax-config.js, as it is with the vendored MathJax
 * (data-mathjax="local"), read here before any MathJax component.  It is
 * written for a browser, so it is given a window and a <script> element to
 * read, both taken away again before MathJax looks for a DOM (it uses
 * liteDOM here).  Then only what a build needs differs from the page:
 */
globalThis.window = globalThis;
globalThis.document = {currentScript: {dataset: {mathjax: 'local'}}};
/*@MATHJAX_CONFIG@*/
delete globalThis.window;
delete globalThis.document;
MathJax.chtml = {
  // Every character's CSS, not only those of the formulas typeset so far:
  // one stylesheet serves every page, written once (kxsj-chtml.css beside
  // the fonts' folder, so this relative address is right from there).
  adaptiveCSS: false,
  fontURL: 'output/chtml/fonts/woff-v2'
};
// No page to wait for: kxsj.js sets MathJax up as soon as it is read.
MathJax.startup.ready = function () { kxsjReady(); };
delete MathJax.startup.pageReady;
