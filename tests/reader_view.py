"""The machinery of ``test_reader_view.py``: what the source says a post page
must show, and what Chromium shows (Playwright's async API, run in a thread of
its own so it never meets the sync API the other browser tests use).

A page is loaded at phone width and MathJax is waited for; then the viewport
is widened to desktop.  At each width every display equation is scrolled to
its far end (``DISPLAY_BOXES``): it must fit its box or scroll inside it,
with a cue drawn at its edges, and its equation number must then be inside
the box and the viewport.  MathJax 3's CommonHTML output does not depend on the
width (3.x has no line breaking), so one typesetting serves both widths, and
the layout is measured at each.
"""

from __future__ import annotations

import asyncio
import html
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

from conftest import CHROMIUM_ARGS

from kxsj import mathscan
from kxsj.lint import mask_code
from kxsj.render.prose_refs import find_prose_refs

PHONE, DESKTOP = 390, 1280
CONCURRENCY = 3
PAGE_TIMEOUT_MS = 120_000


@dataclass
class Expected:
    """What the renderer and the source say a post page must show."""

    key: str  # the post's id in its URL, e.g. "6280"
    path: str  # URL path under the site root, e.g. "archives/6280/"
    formulas: int  # .arithmatex elements in the built file
    parse_errors: list[str]
    source_chars: Counter


@dataclass
class Visit:
    """What Chromium showed for one post page."""

    key: str
    formulas: int = 0
    typeset: int = 0
    outside: int = 0
    errors: list[dict] = field(default_factory=list)  # {tex, message}
    page_chars: Counter = field(default_factory=Counter)
    width: dict[int, int] = field(default_factory=dict)  # viewport -> document width
    boxes: dict[int, dict] = field(default_factory=dict)  # viewport -> DISPLAY_BOXES' answer
    cut: dict[int, list[str]] = field(default_factory=dict)  # viewport -> CUT_OFF's answer
    equation_links: int = 0  # links MathJax made to equations (\\eqref, \\ref)
    dangling: list[str] = field(default_factory=list)  # "#id" links in the post to no element
    console: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)  # scripts, styles, fonts… from elsewhere
    external_media: list[str] = field(default_factory=list)  # images hot-linked from the original site
    failure: str = ""  # MathJax never finished / the page did not load


# --- what the source says ---------------------------------------------------

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_LINK_TARGET = re.compile(r"\]\([^)\n]*\)")
_REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]+\S.*$", re.M)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_FENCE_LINE = re.compile(r"^[ \t>]*(?:`{3,}|~{3,}).*$", re.M)  # its info string is not shown
_LIST_NUMBER = re.compile(r"^[ \t>]*\d+[.)](?=[ \t])", re.M)  # numbered by the browser


def counted(text: str) -> Counter:
    """The characters the conservation check counts: letters, digits, non-ASCII.

    Left out: spaces (Markdown and the CJK line joining move them) and ASCII
    punctuation (Markdown's syntax: ``*``, ``_``, ``#``, ``[``, ``\\``…).
    """
    return Counter(c for c in text if (c.isalnum() if c.isascii() else not c.isspace()))


def source_text(body: str) -> str:
    """A post body's text as a reader should see it, formulas taken out.

    Only what Markdown and HTML syntax hide is removed: formulas (and bare
    ``\\eqref`` references, which are math on the page), comments, images
    (alt text is not shown), link targets and titles, reference
    definitions, tags with their attributes.  Code stays: it is shown.
    """
    masked = mask_code(body)
    spans = list(mathscan.scan(masked))
    cuts = sorted([(s.start, s.end) for s in spans] + [(at, at + len(t)) for at, t in find_prose_refs(masked, spans)])
    kept, pos = [], 0
    for start, end in cuts:
        kept.append(body[pos:start])
        pos = max(pos, end)
    kept.append(body[pos:])
    text = "\n".join(kept)
    for pattern, replacement in ((_HTML_COMMENT, ""), (_IMAGE, ""), (_LINK_TARGET, "]"), (_REFERENCE_DEF, ""), (_TAG, ""), (_FENCE_LINE, ""), (_LIST_NUMBER, "")):
        text = pattern.sub(replacement, text)
    return html.unescape(text)


def parse_built_page(text: str) -> tuple[int, list[str]]:
    """``(formulas, parse errors)`` of a built page, read by an HTML5 parser."""
    import html5lib

    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"), strict=False, namespaceHTMLElements=False)
    doc = parser.parse(text)
    formulas = sum(1 for el in doc.iter() if "arithmatex" in (el.get("class") or "").split())
    errors = [f"line {pos[0]} col {pos[1]}: {code} {data or ''}" for pos, code, data in parser.errors]
    return formulas, errors


# --- what the browser shows -------------------------------------------------

WAIT_FOR_MATHJAX = "() => window.MathJax && MathJax.startup && MathJax.startup.promise"

READ_PAGE = """() => {
  // No MathJax on the page: no formula (nothing to typeset) or typeset at build time (read the markup).
  const doc = window.MathJax && MathJax.startup && MathJax.startup.document;
  const math = [...document.querySelectorAll('.arithmatex')];
  const errors = doc ? [] : [...document.querySelectorAll('mjx-merror')].map((merror) => ({
    tex: (merror.closest('mjx-container') || merror).getAttribute('data-tex') || '',
    message: merror.getAttribute('data-mjx-error') || 'error',
  }));
  for (const item of doc ? doc.getMathItemsWithin(document.body) : []) {
    const merror = item.typesetRoot && item.typesetRoot.querySelector('mjx-merror');
    if (merror) errors.push({tex: item.math, message: merror.getAttribute('data-mjx-error') || 'error'});
    const red = [];  // noundefined shows an undefined \\macro as red text
    item.root.walkTree((node) => {
      if (node.isKind('mtext') && node.attributes.get('mathcolor') === 'red' && node.childNodes.length
          && node.childNodes[0].getText && node.childNodes[0].getText().startsWith('\\\\')) {
        red.push(node.childNodes[0].getText());
      }
    });
    if (red.length) errors.push({tex: item.math, message: 'undefined ' + red.join(' ')});
  }
  const body = document.querySelector('.post-body');
  const parts = [];
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el.closest('.arithmatex, mjx-container, .toc, .copy-button, script, style')) continue;  // contents and buttons are not the text
    if (!el.checkVisibility()) continue;
    parts.push(node.data);
  }
  const links = [...body.querySelectorAll('a[href^="#"]')].map((a) => a.getAttribute('href'));
  return {
    equationLinks: links.filter((h) => h.startsWith('#mjx-eqn')).length,
    dangling: links.filter((h) => !document.getElementById(decodeURIComponent(h.slice(1)))),
    formulas: math.length,
    typeset: math.filter((e) => e.querySelector('mjx-container')).length,
    outside: document.querySelectorAll('mjx-container:not(.arithmatex mjx-container)').length,
    errors,
    text: parts.join(''),
  };
}"""

DOCUMENT_WIDTH = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"

# Nothing in a post's text sticks out of its block (``.post-body > *``).
# The blocks are laid out and painted contained (site.css: content-visibility),
# so what sticks out would be cut off rather than widen the page, and the
# page width alone no longer shows it.  A long inline formula is made to
# scroll in its own box as it comes near the screen (mathview.js): each one
# found sticking out is brought into view, then measured again.  What is
# inside a scrolling box (a wide table, code) is that box's to show.
CUT_OFF = """async () => {
  const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const settled = async (el) => {  // the observer's answer comes a task or two after the frame
    for (let i = 0; i < 20 && sticksOut(el); i++) await frames();
    return !sticksOut(el);
  };
  const scrolls = (el, block) => {
    for (let a = el.parentElement; a && a !== block; a = a.parentElement) {
      const style = getComputedStyle(a);  // an inline element never scrolls, whatever its overflow says
      if (style.display !== 'inline' && ['auto', 'scroll'].includes(style.overflowX)) return true;
    }
    return false;
  };
  const sticksOut = (el) => {
    const block = el.closest('.post-body > *');
    if (!block || scrolls(el, block)) return false;
    const b = block.getBoundingClientRect(), r = el.getBoundingClientRect();
    return r.right > b.right + 1 || r.left < b.left - 1;
  };
  const name = (el) => (el.getAttribute('data-tex') || el.tagName).slice(0, 60);
  const problems = [];
  for (const el of [...document.querySelectorAll('.post-body mjx-container')].filter(sticksOut)) {
    el.scrollIntoView({block: 'center'});
    if (!(await settled(el))) problems.push(`sticks out of its block: ${name(el)}`);
  }
  window.scrollTo(0, 0);
  for (const block of document.querySelectorAll('.post-body > *')) {
    if (getComputedStyle(block).overflowX === 'visible' && block.scrollWidth > block.clientWidth + 1) {
      problems.push(`${block.tagName.toLowerCase()} is ${block.scrollWidth - block.clientWidth} px wider than its box: ${block.textContent.trim().slice(0, 40)}`);
    }
  }
  return problems;
}"""

# Every display equation: fits its box, or scrolls inside it (overflow auto)
# with its cue on (site.css's --kxsj-more-right, which test_mathview.py sees
# in the pixels), and no cue on a box that fits; scrolled to its end, its
# equation numbers (mjx-labels' cells) lie inside the box and the viewport.
# Asked of each block as it is when the reader scrolls to it: laid out
# (site.css lets the browser skip blocks far from the screen) and its scroll
# timeline current, which ``display_boxes`` sees to.
DISPLAY_BOXES = """() => {
  const cue = (box) => getComputedStyle(box).getPropertyValue('--kxsj-more-right').trim();
  const out = {fit: 0, scroll: 0, numbered: 0, problems: []};
  for (const box of document.querySelectorAll('mjx-container[display="true"]')) {
    const tex = (box.getAttribute('data-tex') || '').slice(0, 60);
    const style = getComputedStyle(box);
    const wide = box.scrollWidth > box.clientWidth + 1;
    const scrolls = ['auto', 'scroll'].includes(style.overflowX);
    if (wide) {
      out.scroll++;
      if (!scrolls) out.problems.push(`cut off (overflow ${style.overflowX}): ${tex}`);
      if (cue(box) !== '1') out.problems.push(`scrolls with no cue: ${tex}`);
    } else {
      out.fit++;
      if (box.scrollWidth <= box.clientWidth && cue(box) !== '0') out.problems.push(`fits but shows a cue: ${tex}`);
    }
    // Scrolled to its end as a reader can scroll it: a box that "fits" by the
    // rounded scrollWidth may still be a pixel and a fraction narrower than
    // its numbers (MathJax's scale follows the machine's fonts).
    if (scrolls) box.scrollLeft = box.scrollWidth;
    const outer = box.getBoundingClientRect();
    for (const label of box.querySelectorAll('mjx-labels mjx-mtd')) {  // the numbers, not their row
      out.numbered++;
      const r = label.getBoundingClientRect();
      if (r.left < outer.left - 1 || r.right > outer.right + 1 || r.right > innerWidth + 1 || r.left < -1) {
        out.problems.push(`number out of reach (${Math.round(r.left)}-${Math.round(r.right)} px, box ${Math.round(outer.left)}-${Math.round(outer.right)}): ${tex}`);
      }
    }
    box.scrollLeft = 0;
  }
  return out;
}"""
LAY_OUT_EVERY_BLOCK = """(all) => {
  for (const block of document.querySelectorAll('.post-body > *')) block.style.contentVisibility = all ? 'visible' : '';
}"""


def display_boxes(page) -> dict:
    """``DISPLAY_BOXES``' answer for a page of Playwright's sync API, with
    JavaScript on or off (a screenshot draws a frame either way; the page's
    timers do not run without it)."""
    page.evaluate(LAY_OUT_EVERY_BLOCK, True)
    try:
        page.screenshot()
        page.screenshot()
        return page.evaluate(DISPLAY_BOXES)
    finally:
        page.evaluate(LAY_OUT_EVERY_BLOCK, False)


async def display_boxes_async(page) -> dict:
    """The same for the async API, on a page with JavaScript on."""
    await page.evaluate(LAY_OUT_EVERY_BLOCK, True)
    try:
        await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        return await page.evaluate(DISPLAY_BOXES)
    finally:
        await page.evaluate(LAY_OUT_EVERY_BLOCK, False)


def is_local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))


async def visit(context, base: str, expected: Expected) -> Visit:
    result = Visit(expected.key)
    page = await context.new_page()

    async def block(route):  # the page must work offline; hot-linked images are content
        request = route.request
        media = request.resource_type in ("image", "media")
        (result.external_media if media else result.external).append(request.url)
        await route.abort()

    def on_console(message):  # a blocked image's failed load is not the page's error
        if message.type == "error" and is_local(message.location.get("url") or "http://127.0.0.1"):
            result.console.append(message.text)

    await page.route(lambda url: not is_local(url), block)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: result.console.append(f"pageerror: {exc}"))
    try:
        await page.set_viewport_size({"width": PHONE, "height": 800})
        await page.goto(base + expected.path)
        if await page.locator("#MathJax-script").count():  # math: build pages are typeset already
            await page.wait_for_function(WAIT_FOR_MATHJAX, timeout=PAGE_TIMEOUT_MS)
            await page.evaluate("() => MathJax.startup.promise")
        else:
            await page.evaluate("() => document.fonts.ready")
        result.width[PHONE] = await page.evaluate(DOCUMENT_WIDTH)
        result.cut[PHONE] = await page.evaluate(CUT_OFF)
        result.boxes[PHONE] = await display_boxes_async(page)
        read = await page.evaluate(READ_PAGE)
        await page.set_viewport_size({"width": DESKTOP, "height": 800})
        await page.evaluate("() => new Promise(requestAnimationFrame)")  # mathview.js measures again
        result.width[DESKTOP] = await page.evaluate(DOCUMENT_WIDTH)
        result.cut[DESKTOP] = await page.evaluate(CUT_OFF)
        result.boxes[DESKTOP] = await display_boxes_async(page)
    except Exception as exc:  # reported per page by the tests, never hides the others
        result.failure = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return result
    finally:
        await page.close()
    result.formulas, result.typeset, result.outside = read["formulas"], read["typeset"], read["outside"]
    result.errors = read["errors"]
    result.equation_links, result.dangling = read["equationLinks"], read["dangling"]
    result.page_chars = counted(read["text"])
    return result


async def visit_all(chromium_path: str, base: str, pages: list[Expected]) -> dict[str, Visit]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            slots = asyncio.Semaphore(CONCURRENCY)

            async def one(expected: Expected) -> Visit:
                async with slots:
                    return await visit(context, base, expected)

            visits = await asyncio.gather(*(one(p) for p in pages))
            return {v.key: v for v in visits}
        finally:
            await browser.close()


def run_in_thread(coroutine):
    """Run ``coroutine`` on an event loop of its own thread (sync Playwright may own this one)."""
    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="reader-view")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
