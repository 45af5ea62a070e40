"""``math: build`` in Chromium: with JavaScript off every formula shows, numbered as MathJax numbers it in the browser.

Real corpus posts (the heaviest, and the one with most ``\\eqref``) and a
post with ``\\require``, built twice: ``math: browser`` read with JavaScript
on (MathJax typesets in the page) and ``math: build`` read with JavaScript
off.  The equation numbers, the ``\\eqref`` links' text and the number of
formulas must be the same, and no TeX may be left as text.
"""

from __future__ import annotations

import http.server
import re
import shutil
import threading
from functools import partial
from pathlib import Path

import pytest
from reader_view import display_boxes

from kxsj.build import BuildOptions, build_site
from kxsj.render import mathengine

pytestmark = pytest.mark.skipif(not mathengine.available(), reason="mini-racer is not installed")

REQUIRE_POST = """---
title: 交换图
date: 2020-01-02
id: 1
---
用 AMScd 画图：

$$\\require{AMScd}\\begin{CD} A @>f>> B \\\\ @VgVV @VVhV \\\\ C @>>k> D \\end{CD}\\tag{CD}\\label{eq:cd}$$

以及编号公式

$$\\begin{equation}x^2+y^2=1\\label{eq:circle}\\end{equation}$$

由\\eqref{eq:cd}与$\\eqref{eq:circle}$可知。
"""

# What a page shows of its math, read from CHTML's markup (each character is
# an mjx-c whose class names its code point; CSS draws it).
READ_MATH = """() => {
  const text = el => Array.from(el.querySelectorAll('mjx-c')).map(
    c => String.fromCodePoint(parseInt(c.className.match(/mjx-c([0-9A-F]+)/)[1], 16))).join('');
  const article = document.querySelector('article') || document.body;
  const all = Array.from(article.querySelectorAll('mjx-container'));
  return {
    count: all.length,
    display: all.filter(c => c.getAttribute('display') === 'true').length,
    labels: Array.from(article.querySelectorAll('mjx-labels mjx-mtd')).map(text),
    refs: Array.from(article.querySelectorAll('mjx-container a[href^="#mjx-eqn"]')).map(
      a => [a.getAttribute('href'), text(a)]),
    empty: all.filter(c => { const r = c.getBoundingClientRect(); return r.width === 0 || r.height === 0; }).length,
    errors: article.querySelectorAll('mjx-merror').length,
    text: article.innerText,
  };
}"""


def _heaviest(md: Path) -> Path:
    return max(md.glob("*.md"), key=lambda p: len(re.findall(r"\$|\\begin\{", p.read_text(encoding="utf-8"))))


def _most_eqref(md: Path) -> Path:
    return max(md.glob("*.md"), key=lambda p: p.read_text(encoding="utf-8").count("\\eqref"))


@pytest.fixture(scope="module")
def sites(tmp_path_factory, shared_dir):
    md = shared_dir / "corpus" / "md"
    chosen = {_heaviest(md), _most_eqref(md)}
    out = {}
    for mode in ("browser", "build"):
        root = tmp_path_factory.mktemp(f"math-{mode}")
        (root / "posts").mkdir()
        for source in chosen:
            shutil.copy(source, root / "posts" / source.name)
        (root / "posts" / "cd.md").write_text(REQUIRE_POST, encoding="utf-8")
        (root / "kxsj.yml").write_text(f"title: t\nsearch: false\nmath: {mode}\n", encoding="utf-8")
        report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=root / "public"))
        assert report.ok
        out[mode] = root / "public"
    pages = sorted(p.parent.relative_to(out["build"]).as_posix() for p in (out["build"] / "archives").glob("*/index.html"))
    assert len(pages) == len(chosen) + 1
    return out, pages


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _serve(folder: Path):
    handler = partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _read(browser, folder: Path, pages: list[str], js: bool) -> dict[str, dict]:
    server = _serve(folder)
    context = browser.new_context(java_script_enabled=js, viewport={"width": 1280, "height": 900})
    try:
        out = {}
        for path in pages:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/{path}/", wait_until="load")
            if js:
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
                page.evaluate("() => MathJax.startup.promise")
            page.evaluate("() => document.fonts.ready")
            out[path] = page.evaluate(READ_MATH)
            page.close()
        return out
    finally:
        context.close()
        server.shutdown()


def test_build_mode_without_javascript_shows_every_formula_numbered_as_the_browser(browser, sites):
    out, pages = sites
    typeset = _read(browser, out["browser"], pages, js=True)
    built = _read(browser, out["build"], pages, js=False)
    for path in pages:
        want, got = typeset[path], built[path]
        assert want["count"] > 0, path
        assert (got["count"], got["display"]) == (want["count"], want["display"]), path
        assert got["labels"] == want["labels"], path
        assert got["refs"] == want["refs"], path
        assert got["errors"] == want["errors"], path
        assert got["empty"] == 0, path
        for raw in ("\\begin{", "\\(", "\\[", "$$"):
            assert raw not in got["text"], (path, raw)
    cd = next(p for p in pages if built[p]["labels"] and "(CD)" in built[p]["labels"])
    assert built[cd]["labels"] == ["(CD)", "(1)"]
    assert [text for _, text in built[cd]["refs"]] == ["(CD)", "(1)"]
    assert any(len(built[p]["labels"]) > 20 for p in pages)  # the heaviest post is numbered throughout


# --- every corpus post with a formula, JavaScript off, on a phone -----------

# Read at 390 px with JavaScript off: sideways overflow of the page, and of
# each display formula whether it fits its box or scrolls inside it with its
# equation number inside the scrolled area; every \eqref link's target.
PHONE_CHECK = """() => {
  const article = document.querySelector('article') || document.body;
  const all = Array.from(article.querySelectorAll('mjx-container'));
  const displays = all.filter(c => c.getAttribute('display') === 'true');
  const bad = [];
  for (const c of displays) {
    const box = c.getBoundingClientRect(), style = getComputedStyle(c);
    const tex = (c.getAttribute('data-tex') || '').slice(0, 60);
    if (box.left < -0.5 || box.right > innerWidth + 0.5) bad.push(['box outside the viewport', tex]);
    const scrolls = ['auto', 'scroll'].includes(style.overflowX);
    if (c.scrollWidth > c.clientWidth + 1 && !scrolls) bad.push(['wider than its box and does not scroll', tex]);
    for (const label of c.querySelectorAll('mjx-labels mjx-mtd')) {
      const r = label.getBoundingClientRect();
      const left = r.left - box.left + c.scrollLeft, right = r.right - box.left + c.scrollLeft;
      if (left < -1 || right > c.scrollWidth + 1 || r.width === 0) bad.push(['equation number out of reach', tex]);
    }
  }
  const links = Array.from(article.querySelectorAll('mjx-container a[href^="#"]'));
  const dangling = links.filter(a => !document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1))));
  return {
    count: all.length,
    labels: article.querySelectorAll('mjx-labels mjx-mtd').length,
    empty: all.filter(c => { const r = c.getBoundingClientRect(); return r.width === 0 || r.height === 0; }).length,
    pageWidth: document.documentElement.scrollWidth,
    viewport: innerWidth,
    bad,
    dangling: dangling.map(a => a.getAttribute('href')),
    text: article.innerText,
  };
}"""


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory, shared_dir):
    root = tmp_path_factory.mktemp("math-corpus")
    (root / "posts").mkdir()
    for source in (shared_dir / "corpus" / "md").glob("*.md"):
        shutil.copy(source, root / "posts" / source.name)
    (root / "kxsj.yml").write_text("title: t\nsearch: false\nmath: build\n", encoding="utf-8")
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=root / "public"))
    assert report.written
    # Every post page with a formula (as the renderer found them).
    pages = sorted(
        p.parent.relative_to(root / "public").as_posix()
        for p in (root / "public" / "archives").glob("*/index.html")
        if "<mjx-container" in p.read_text(encoding="utf-8")
    )
    assert len(pages) > 90
    return root / "public", pages


@pytest.mark.slow
def test_every_corpus_formula_shows_on_a_phone_without_javascript(browser, corpus_site):
    out, pages = corpus_site
    server = _serve(out)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    problems, formulas, labels = [], 0, 0
    try:
        page = context.new_page()
        for path in pages:
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/{path}/", wait_until="load")
            page.evaluate("() => document.fonts.ready")
            got = page.evaluate(PHONE_CHECK)
            formulas += got["count"]
            labels += got["labels"]
            if got["empty"]:
                problems.append((path, f"{got['empty']} formulas not shown"))
            if got["pageWidth"] > got["viewport"]:
                problems.append((path, f"page {got['pageWidth']} px wide at {got['viewport']} px"))
            problems += [(path, f"{why}: {tex}") for why, tex in got["bad"]]
            problems += [(path, problem) for problem in display_boxes(page)["problems"]]  # the scroll cue is CSS alone
            problems += [(path, f"\\eqref to nothing: {href}") for href in got["dangling"]]
            problems += [(path, f"TeX left as text: {raw}") for raw in ("\\begin{", "\\(", "\\[", "$$") if raw in got["text"]]
    finally:
        context.close()
        server.shutdown()
    assert problems == [], "\n".join(f"{path}: {what}" for path, what in problems)
    assert formulas > 5000 and labels > 500  # the whole corpus was read, numbers and all
