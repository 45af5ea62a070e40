/* kxsj's build-time MathJax, last in the bundle: after config.js (with
 * static/js/mathjax-config.js in it) and
 * mathjax-full 3.2.2's own components (the ones the vendored
 * tex-chtml-full.js is made of, less the browser's DOM and the menu, with
 * liteDOM instead), so the formulas are typeset by the same code and
 * configuration as on the pages.  kxsj.render.mathengine runs the bundle in
 * V8 (the mini-racer wheel).
 *
 * Functions for Python, each taking and returning JSON text:
 *   kxsjTypeset(fragments) -> [innerHTML, ...]   the CHTML of each fragment
 *       (no assistive MathML: role="math" and aria-label, the TeX, instead;
 *       data-width on an inline formula at least 14em wide)
 *   kxsjMathML(fragments)  -> {html: [innerHTML, ...], mml: [MathML, ...]}
 *       each formula replaced by <kxsj-mml n="i"></kxsj-mml>, standing for
 *       mml[i]: MathML with the TeX as written as its annotation
 *   kxsjStylesheet()       -> CSS text, what the CHTML output needs
 * fragments: [[tag, html], ...], each an element name ("span" or "div") and
 * the HTML-escaped text the Markdown renderer wrote into
 * <tag class="arithmatex">.  One call is one post: equation numbers start
 * at (1) and \label/\eqref are the post's own, as mathjax-config.js
 * typesets each <article> after MathJax.texReset().
 */

var kxsjAdaptor = null;
var KXSJ_WIDE_EM = 14;  // narrower inline formulas fit a phone's line, even in a list

function kxsjReady() {
  if (kxsjAdaptor) return;
  // Attribute values with <, > escaped too (liteDOM leaves them), so a
  // data-tex="a > b" never ends a tag for a reader of the HTML that is not
  // a full HTML parser.
  MathJax._.adaptors.lite.Parser.LiteParser.prototype.protectAttribute = function (text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  };
  MathJax.startup.defaultReady();
  var jax = MathJax.startup.document.inputJax[0];
  // Before any other pre-filter (mathjax-config.js's \require mapping among
  // them): the TeX as written, for data-tex.
  jax.preFilters.add(function (args) { args.math.inputData.kxsjTex = args.math.math; }, -1000);
  kxsjRequireOffline(jax);  // mathjax-config.js's, as on the page
  kxsjAdaptor = MathJax.startup.adaptor;
}

function kxsjDocument(fragments) {
  var body = JSON.parse(fragments).map(function (f) {
    return '<' + f[0] + ' class="arithmatex">' + f[1] + '</' + f[0] + '>';
  }).join('');
  MathJax.texReset();
  return MathJax.startup.getDocument('<!DOCTYPE html><html><head></head><body>' + body + '</body></html>');
}

function kxsjInners(doc) {
  return kxsjAdaptor.childNodes(kxsjAdaptor.body(doc.document)).map(function (node) {
    return kxsjAdaptor.innerHTML(node);
  });
}

function kxsjTypeset(fragments) {
  var doc = kxsjDocument(fragments);
  // No <style> into this document's head: the stylesheet is written once
  // (kxsjStylesheet), and with adaptiveCSS off making it costs more than
  // typesetting a post.
  doc.addStyleSheet = function () {};
  // No hidden MathML copy of each formula (<mjx-assistive-mml>, as large as
  // the formula's CHTML again): a screen reader is given the TeX as written
  // instead, as the formula's accessible name (role="math", aria-label).
  // What the assistive-mml action does besides is done here: the drawn
  // glyphs are hidden from screen readers, and the container stays the
  // positioned box equation numbers are placed in.
  doc.options.enableAssistiveMml = false;
  doc.render();
  var nodes = kxsjAdaptor.childNodes(kxsjAdaptor.body(doc.document)), inline = [];
  Array.from(doc.math).forEach(function (math) {
    var root = math.typesetRoot, tex = math.inputData.kxsjTex;
    kxsjAdaptor.setAttribute(kxsjAdaptor.firstChild(root), 'aria-hidden', 'true');
    kxsjAdaptor.setStyle(root, 'position', 'relative');
    kxsjAdaptor.setAttribute(root, 'data-tex', tex);
    kxsjAdaptor.setAttribute(root, 'role', 'math');
    kxsjAdaptor.setAttribute(root, 'aria-label', tex);
    if (!math.display) inline.push([nodes.indexOf(kxsjAdaptor.parent(root)), math]);
  });
  var inners = kxsjInners(doc);
  // An inline formula that may be wider than a phone's line gets its width
  // in the surrounding text's em, rounded up, as data-width.  With
  // JavaScript off such a formula scrolls in its own box (_math_head.html),
  // so it never widens the page; with it on, mathview.js does that to the
  // formulas it measures wider than their line.  Measured only once the
  // HTML is taken: getBBox lays a formula out again, which can empty
  // another formula of the document.
  inline.forEach(function (item) {
    var width = Math.ceil(MathJax.startup.output.getBBox(item[1], doc).w * item[1].metrics.scale);
    if (width >= KXSJ_WIDE_EM && item[0] >= 0) {
      inners[item[0]] = inners[item[0]].replace(/^<mjx-container /, '<mjx-container data-width="' + width + '" ');
    }
  });
  return JSON.stringify(inners);
}

function kxsjEscapeXml(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

var kxsjVisitor = null;

function kxsjMathMLOf(math) {
  // <math …>…</math> with the formula in <semantics>, its TeX as annotation.
  if (!kxsjVisitor) kxsjVisitor = new MathJax._.core.MmlTree.SerializedMmlVisitor.SerializedMmlVisitor();
  var mml = kxsjVisitor.visitTree(math.root);
  var open = mml.indexOf('>') + 1, close = mml.lastIndexOf('</math>');
  return mml.slice(0, open) + '<semantics><mrow>' + mml.slice(open, close) + '</mrow>' +
    '<annotation encoding="application/x-tex">' + kxsjEscapeXml(math.inputData.kxsjTex) + '</annotation>' +
    '</semantics></math>';
}

function kxsjMathML(fragments) {
  var doc = kxsjDocument(fragments);
  doc.findMath().compile();
  var mml = [];
  Array.from(doc.math).forEach(function (math) {
    math.typesetRoot = kxsjAdaptor.node('kxsj-mml', {n: String(mml.length)});
    mml.push(kxsjMathMLOf(math));
  });
  doc.updateDocument();
  return JSON.stringify({html: kxsjInners(doc), mml: mml});
}

function kxsjStylesheet() {
  return kxsjAdaptor.textContent(MathJax.startup.output.styleSheet(MathJax.startup.document));
}

function kxsjVersion() {
  return MathJax.version;
}

MathJax.loader.preLoad(
  'loader', 'startup', 'core', 'adaptors/liteDOM', 'input/tex-full',
  'output/chtml', 'output/chtml/fonts/tex', 'a11y/assistive-mml'
);
kxsjReady();
