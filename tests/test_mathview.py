"""Formulas for the reader (issue 18): phones, paper, copying the TeX, page weight.

One small site is built: a post with every kind of formula (short and very
long inline ones, ``$$…$$``, a numbered ``equation``), long words, a long
address and long code; a post with no formula; and the heaviest post of the
corpus (``10180``, 223 formulas).  Checked in Chromium:

* at 390 px no page is wider than the viewport; a wide display equation
  scrolls in its own box with a cue, its number reachable; a long inline
  formula scrolls in its own box (``mathview.js`` marks it);
* printed on A4 (``beforeprint``, then print media at the printed column's width; and a real PDF):
  no header, search box or footer, no formula past the column's edge;
* right-click (or Enter on a focused formula) shows 「复制公式源码」, which
  copies the TeX with its delimiters, through the clipboard or, without
  one, in a prompt; on typeset markup with no MathJax on the page as well
  (what a build-time typeset page is);
* a page without a formula requests no MathJax and no ``mathview.js``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from reader_view import CUT_OFF, display_boxes
from screen_pixels import mean_difference

from kxsj.build import BuildOptions, build_site
from kxsj.render.math import has_math

REPO = Path(__file__).resolve().parents[1]
HEAVY = "10180"
PHONE = 390
CUE = 12  # a cue's least change to its edge's pixels, mean over the edge (0-255)
PRINT_COLUMN = 680  # A4 (210 mm) less 15 mm margins each side, at 96 px per inch

LONG_INLINE = r"f(x_1,x_2,x_3,x_4,x_5,x_6,x_7,x_8) = \sum_{i=1}^{n} \alpha_i x_i + \sum_{i<j} \beta_{ij} x_i x_j + \sum_{i<j<k} \gamma_{ijk} x_i x_j x_k + \cdots"
WIDE_DISPLAY = " + ".join(f"\\frac{{a_{{{i}}}}}{{b_{{{i}}} + c_{{{i}}}}}" for i in range(14))  # wider than A4
MATH_POST = f"""---
title: 公式的读法
date: 2024-03-01
tags: ["公式"]
---
勾股定理$a^2+b^2=c^2$是最有名的。一个很长的行内公式：${LONG_INLINE}$，后面还有文字。

$$\\int_0^1 x\\,dx = \\frac{{1}}{{2}}$$

$$\\begin{{equation}}{WIDE_DISPLAY}\\end{{equation}}$$

$$\\begin{{equation}}E = mc^2 + \\sum_{{k=1}}^{{100}} \\frac{{(-1)^k}}{{k!}} \\left(\\frac{{x}}{{y}}\\right)^k + \\prod_{{j=1}}^{{50}} \\left(1 + \\frac{{1}}{{j^2}}\\right) + \\int_0^\\infty e^{{-t^2}} dt\\label{{eq:e}}\\end{{equation}}$$

由\\eqref{{eq:e}}可知。长单词：Pneumonoultramicroscopicsilicovolcanoconiosis_pneumonoultramicroscopicsilicovolcanoconiosis。
地址：https://kexue.fm/archives/10180/very/long/path/that/goes/on/and/on/without/any/break/at/all/index.html

代码`a_very_long_identifier_name_that_never_ends_and_has_no_spaces_in_it_at_all()`也不能撑宽页面。
"""
PLAIN_POST = """---
title: 没有公式
date: 2024-03-02
tags: ["散文"]
---
今天天气很好，我们去散步。价格是5元，没有任何公式。
"""
EXPECTED_TEX = {
    "inline": "$a^2+b^2=c^2$",
    "display": "$$\\int_0^1 x\\,dx = \\frac{1}{2}$$",
    "equation": "\\begin{equation}E = mc^2 + \\sum_{k=1}^{100}",
}
MATH_SCRIPTS = re.compile(r"mathjax|mathview", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared_dir) -> Path:
    root = tmp_path_factory.mktemp("mathview")
    posts = root / "posts"
    posts.mkdir()
    (posts / "math.md").write_text(MATH_POST, encoding="utf-8")
    (posts / "plain.md").write_text(PLAIN_POST, encoding="utf-8")
    shutil.copy(shared_dir / "corpus" / "md" / f"{HEAVY}.md", posts / f"{HEAVY}.md")
    out = root / "public"
    report = build_site(BuildOptions(root=root, posts_dir=posts, out_dir=out))
    assert report.written, [str(d) for d in report.diagnostics]
    return out


def page_of(out: Path, title: str) -> str:
    """The site path of the post titled ``title``."""
    for index in sorted(out.rglob("index.html")):
        if f"<title>{title} -" in index.read_text(encoding="utf-8"):
            return index.parent.relative_to(out).as_posix() + "/"
    raise AssertionError(f"no page for {title}")


def tag_page(out: Path, name: str) -> str:
    for index in sorted(out.glob("tag/*/index.html")):
        if re.search(f"<title>[^<]*：{name} -", index.read_text(encoding="utf-8")):
            return index.parent.relative_to(out).as_posix() + "/"
    raise AssertionError(f"no tag page for {name}")


def typeset(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
    page.evaluate("() => MathJax.startup.promise")


# --- page weight ----------------------------------------------------------------


def test_has_math_sees_the_renderers_marks_only():
    assert has_math('<p>勾股<span class="arithmatex">\\(a^2\\)</span></p>')
    assert has_math('<div class="arithmatex">\\[x\\]</div>')
    assert has_math('<mjx-container class="MathJax" jax="CHTML" data-tex="x">')
    assert not has_math("<p>价格是$5，又花了$10。</p>")
    assert not has_math("<p>arithmatex 是一个扩展。</p>")


def test_pages_without_a_formula_name_no_mathjax(site):
    out = site
    plain = [page_of(out, "没有公式"), tag_page(out, "散文"), "archives/", "404.html", "tags/"]
    for path in plain:
        html = (out / path / "index.html" if path.endswith("/") else out / path).read_text(encoding="utf-8")
        assert not MATH_SCRIPTS.search(html), path
    for path in (page_of(out, "公式的读法"), tag_page(out, "公式"), ""):
        html = (out / path / "index.html").read_text(encoding="utf-8")
        for script in ("js/mathjax-config.js", "mathjax/tex-chtml-full.js", "js/mathview.js"):
            assert script in html, (path, script)


def test_a_math_less_page_requests_no_mathjax(site, page, serve_dir):
    base = serve_dir(site)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for path in (page_of(site, "没有公式"), tag_page(site, "散文"), "archives/", "tags/", "404.html"):
        page.goto(base + path)
        page.wait_for_load_state("load")
    assert requested and not [url for url in requested if MATH_SCRIPTS.search(url)]
    typeset(page, base + page_of(site, "公式的读法"))
    assert any(url.endswith("/tex-chtml-full.js") for url in requested)
    assert any(url.endswith("/mathview.js") for url in requested)


# --- phones -------------------------------------------------------------------


@pytest.mark.parametrize("title", ["公式的读法", None])
def test_nothing_widens_a_phone_page(site, page, serve_dir, title):
    base = serve_dir(site)
    page.set_viewport_size({"width": PHONE, "height": 800})
    typeset(page, base + (page_of(site, title) if title else f"archives/{HEAVY}/"))
    width = page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= PHONE
    boxes = display_boxes(page)
    assert boxes["problems"] == [] and boxes["scroll"] >= 1 and boxes["numbered"] >= 1, boxes
    assert page.evaluate(CUT_OFF) == []
    if title:  # the long inline formula scrolls in its own box; the short one is left alone
        wide = page.evaluate("""() => [...document.querySelectorAll('mjx-container.kxsj-math-wide')]
          .map((el) => [el.getAttribute('data-tex'), el.scrollWidth > el.clientWidth, getComputedStyle(el).overflowX])""")
        assert wide == [[LONG_INLINE, True, "auto"]]
    assert page.kxsj_errors == [] and page.kxsj_external == []


def test_a_long_inline_formula_left_unfitted_is_seen_sticking_out(site, page, serve_dir):
    """The check above can fail: without mathview.js the long inline formula sticks out of its paragraph."""
    base = serve_dir(site)
    page.route("**/mathview.js", lambda route: route.abort())
    page.set_viewport_size({"width": PHONE, "height": 800})
    typeset(page, base + page_of(site, "公式的读法"))
    cut = page.evaluate(CUT_OFF)
    assert cut[0] == f"sticks out of its block: {LONG_INLINE[:60]}" and len(cut) == 2, cut  # the formula, and so its paragraph


# The cue that a display equation scrolls, in the pixels: a shadow at each
# edge with more past it, for a box a few pixels too narrow as for one much
# too narrow, and none at an edge with nothing past it.  The box of a short
# display equation is narrowed to ``overflow`` pixels less than its formula.
NARROW = """(overflow) => {
  const box = [...document.querySelectorAll('mjx-container[display="true"]')]
    .find((b) => (b.getAttribute('data-tex') || '').startsWith('\\\\int_0^1'));
  const natural = Math.ceil(box.querySelector('mjx-math').getBoundingClientRect().width);
  if (overflow) box.style.width = `${natural - overflow}px`;
  box.scrollIntoView({block: 'center'});
  box.id = 'cue-probe';
  return box.scrollWidth - box.clientWidth;
}"""
EDGE = 4  # pixels of each edge looked at


def edge_cue(page, side: str) -> float:
    """How much the box's ``side`` edge differs with its background from without."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    r = page.evaluate("() => { const r = document.getElementById('cue-probe').getBoundingClientRect(); return [r.left, r.top, r.right, r.height]; }")
    left, top, right, height = r
    clip = {"x": left if side == "left" else right - EDGE, "y": top, "width": EDGE, "height": height}
    shown = page.screenshot(clip=clip)
    page.evaluate("() => { document.getElementById('cue-probe').style.background = 'none'; }")
    bare = page.screenshot(clip=clip)
    page.evaluate("() => { document.getElementById('cue-probe').style.background = ''; }")
    return mean_difference(shown, bare)


@pytest.mark.parametrize("overflow, scheme", [(0, "light"), (2, "light"), (11, "light"), (60, "light"), (11, "dark")])
def test_a_display_equation_too_wide_by_any_amount_shows_a_cue(site, page, serve_dir, overflow, scheme):
    base = serve_dir(site)
    page.set_viewport_size({"width": PHONE, "height": 800})
    page.emulate_media(color_scheme=scheme)
    typeset(page, base + page_of(site, "公式的读法"))
    assert abs(page.evaluate(NARROW, overflow) - overflow) <= 1
    start = {side: edge_cue(page, side) for side in ("left", "right")}
    page.evaluate("() => { const box = document.getElementById('cue-probe'); box.scrollLeft = box.scrollWidth; }")
    end = {side: edge_cue(page, side) for side in ("left", "right")}
    seen = {"start": start, "end": end}
    if overflow:  # more to the right at first, more to the left at the end
        assert start["right"] >= CUE and start["left"] < 1 and end["left"] >= CUE and end["right"] < 1, seen
    else:
        assert max(start.values()) < 1 and max(end.values()) < 1, seen


# --- print --------------------------------------------------------------------

PRINTED = """(column) => {
  const shown = (sel) => [...document.querySelectorAll(sel)].filter((el) => el.getClientRects().length).length;
  const past = [...document.querySelectorAll('mjx-container')]
    .filter((el) => el.getBoundingClientRect().right > column + 1)
    .map((el) => (el.getAttribute('data-tex') || '').slice(0, 50));
  return {header: shown('.site-header, .site-search, .site-footer, .site-nav'), past,
          scaled: document.querySelectorAll('mjx-container[style*="--kxsj-print-zoom"]').length,
          width: document.documentElement.scrollWidth};
}"""


@pytest.mark.parametrize("title", ["公式的读法", None])
def test_printed_on_a4_no_formula_is_cut_and_no_header_is_shown(site, page, serve_dir, tmp_path, title):
    base = serve_dir(site)
    page.set_viewport_size({"width": PHONE, "height": 800})  # measured for paper whatever the screen
    typeset(page, base + (page_of(site, title) if title else f"archives/{HEAVY}/"))
    page.evaluate("() => dispatchEvent(new Event('beforeprint'))")  # what a browser does first when asked to print
    page.set_viewport_size({"width": PRINT_COLUMN, "height": 1000})
    page.emulate_media(media="print")
    printed = page.evaluate(PRINTED, PRINT_COLUMN)
    assert printed["header"] == 0 and printed["past"] == [] and printed["width"] <= PRINT_COLUMN, printed
    if title:  # the formula wider than A4 is scaled to fit, not left to run off
        assert printed["scaled"] >= 1, printed
        return
    pdf = tmp_path / "print.pdf"
    page.emulate_media(media=None)  # page.pdf prints with print media itself
    page.pdf(path=str(pdf), format="A4")
    assert pdf.stat().st_size > 50_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "由 kxsj 生成" not in text
        assert text.count("\f") > 3  # pages


# --- copying the TeX ------------------------------------------------------------

RECORD_CLIPBOARD = """
window.copied = [];
Object.defineProperty(navigator, 'clipboard', {configurable: true, value: {
  writeText: (text) => { window.copied.push(text); return Promise.resolve(); }}});
"""
FORMULAS = {  # which formula of the math post, by what its data-tex starts with
    "inline": "mjx-container:not([display])[data-tex^='a^2']",
    "display": "mjx-container[display='true'][data-tex^='\\\\int']",
    "equation": "mjx-container[display='true'][data-tex^='\\\\begin{equation}E']",
}


def copy_by_menu(page, selector: str) -> str:
    page.locator(selector).click(button="right")
    item = page.get_by_role("menuitem", name="复制公式源码")
    item.click()
    page.wait_for_function("() => window.copied.length > 0")
    return page.evaluate("() => window.copied.pop()")


def test_right_click_copies_the_tex_with_its_delimiters(site, page, serve_dir):
    page.add_init_script(RECORD_CLIPBOARD)
    typeset(page, serve_dir(site) + page_of(site, "公式的读法"))
    for kind, selector in FORMULAS.items():
        copied = copy_by_menu(page, selector)
        assert copied.startswith(EXPECTED_TEX[kind]), (kind, copied)
    assert copied.endswith("\\label{eq:e}\\end{equation}")
    assert page.kxsj_errors == []


def test_keyboard_and_a_missing_clipboard_still_give_the_tex(site, page, serve_dir):
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined});")
    typeset(page, serve_dir(site) + page_of(site, "公式的读法"))
    prompts = []

    def on_dialog(dialog):
        prompts.append(dialog.default_value)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.locator(FORMULAS["inline"]).focus()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.textContent") == "复制公式源码"
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.querySelector('.kxsj-math-menu')")
    assert prompts == [EXPECTED_TEX["inline"]]
    page.locator(FORMULAS["display"]).focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    assert page.locator(".kxsj-math-menu").count() == 0


def test_a_long_press_opens_the_menu_on_a_touch_screen(site, browser, serve_dir):
    context = browser.new_context(has_touch=True, viewport={"width": PHONE, "height": 800})
    try:
        page = context.new_page()
        typeset(page, serve_dir(site) + page_of(site, "公式的读法"))
        page.evaluate("""(selector) => {
          const el = document.querySelector(selector);
          const r = el.getBoundingClientRect();
          const touch = new Touch({identifier: 1, target: el, clientX: r.left + 2, clientY: r.top + 2});
          el.dispatchEvent(new TouchEvent('touchstart', {touches: [touch], bubbles: true}));
        }""", FORMULAS["inline"])
        assert page.locator(".kxsj-math-menu").count() == 0  # not at once: a tap is a tap
        page.get_by_role("menuitem", name="复制公式源码").wait_for(timeout=3000)
    finally:
        context.close()


def test_typeset_markup_without_mathjax_works_the_same(site, page, serve_dir):
    """A page whose formulas are typeset already (as ``math: build`` writes
    them) and that loads no MathJax: the menu and the phone layout work."""
    base = serve_dir(site)
    page.set_viewport_size({"width": PHONE, "height": 800})
    typeset(page, base + page_of(site, "公式的读法"))
    styles = page.evaluate("""() => [...document.styleSheets].filter((s) => !s.href)
      .map((s) => [...s.cssRules].map((r) => r.cssText).join('\\n')).join('\\n')""")
    html = page.content()
    html = re.sub(r'<script[^>]*(mathjax-config|tex-chtml-full)[^>]*></script>', "", html)
    html = re.sub(r'<style id="MJX-CHTML-styles">.*?</style>', "", html, flags=re.S)
    html = html.replace("</head>", f"<style>{styles}</style></head>")
    html = re.sub(r' class="kxsj-math-wide"| kxsj-math-wide| tabindex="0"', "", html)
    assert "kxsj-math-wide" not in html and "tex-chtml-full" not in html
    (site / "typeset.html").write_text(html, encoding="utf-8")
    page.add_init_script(RECORD_CLIPBOARD)
    page.goto(base + "typeset.html")
    page.wait_for_load_state("load")
    assert page.evaluate("() => window.MathJax === undefined")
    assert page.locator("mjx-container.kxsj-math-wide").count() == 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE
    assert copy_by_menu(page, FORMULAS["display"]) == EXPECTED_TEX["display"]
