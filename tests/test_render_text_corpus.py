"""Every real post renders to well-formed HTML that shows all of its text.

Over the shared corpus (130 kexue.fm posts as Markdown) and the bundled
archive, in the default and the ``br`` line-break modes:

* an HTML5 parser (html5lib, the WHATWG parsing algorithm) reports no parse
  error for the body, so no tag-like text opens an element the author did
  not write and nothing hides the rest of the page;
* conservation: the Chinese characters the reader sees are those of the
  source, in the same order (nothing eaten, nothing moved: attr_list's
  inline form once moved the rest of a sentence 250 characters earlier);
* every run of TeX the crawl left outside formulas is shown verbatim.

``test_checks_can_fail`` feeds the checks the HTML stock Markdown made of
those snippets, so a check that passes everything would be caught.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

html5lib = pytest.importorskip("html5lib")

from kxsj import mathscan
from kxsj.render.prose_refs import _PROSE_REF  # noqa: E402
from kxsj.lint import mask_code  # noqa: E402
from kxsj.load import load_posts  # noqa: E402
from kxsj.render.markdown import BodyRenderer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DESTINATION = re.compile(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_PREFIX = "<!DOCTYPE html><html><head><title>t</title></head><body>"


def parse_errors(body: str) -> list:
    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
    parser.parse(_PREFIX + body + "</body></html>")
    return parser.errors


def visible_text(body: str) -> str:
    """The text a reader sees: text nodes, and the ``alt`` of images, in document order.

    A contents list (``class="toc"``) repeats the headings to navigate by; it is not the text.
    """
    tree = html5lib.parse(_PREFIX + body + "</body></html>", namespaceHTMLElements=False)
    out: list[str] = []

    def walk(el) -> None:
        if "toc" in (el.get("class") or "").split():
            return
        if el.tag == "img":
            out.append(el.get("alt") or "")
        out.append(el.text or "")
        for child in el:
            walk(child)
            out.append(child.tail or "")

    walk(tree.find("body"))
    return "".join(out)


def source_chinese(markdown: str) -> str:
    """The Chinese characters of a body that a reader should see, in order."""
    return "".join(_CJK.findall(_DESTINATION.sub("]", _COMMENT.sub("", markdown))))


def stray_tex(markdown: str) -> list[str]:
    """The TeX runs outside formulas and code (``kxsj.mathscan.tex_runs``)."""
    body = mask_code(markdown)
    runs, pos = [], 0
    for span in [*mathscan.scan(body), None]:
        end = span.start if span else len(body)
        runs += [body[a:b] for a, b in mathscan.tex_runs(body, pos, end)]
        pos = span.end if span else pos
    return runs


def problems(markdown: str, html: str, dump: bool) -> list[str]:
    """What is wrong with ``html`` as the page of ``markdown``; empty when nothing."""
    found = [f"HTML parse error {e[1]} {e[2]} at {e[0]}" for e in parse_errors(html)]
    shown = visible_text(html)
    want = source_chinese(markdown)
    got = "".join(_CJK.findall(shown))
    if got != want:
        at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        found.append(f"Chinese text differs at character {at}: shown {got[at:at + 30]!r}, written {want[at:at + 30]!r}")
    if not dump:  # a dump's TeX is doubled-backslash literal text, compared above through its Chinese
        at = 0
        for run in stray_tex(markdown):
            # A bare \eqref/\ref in it is typeset, as kexue.fm did (``kxsj.render.prose_refs``).
            run = _PROSE_REF.sub(lambda m: f"\\({m.group(0)}\\)", run)
            at = shown.find(run, at)
            if at < 0:
                found.append(f"TeX outside a formula not shown verbatim: {run!r}")
                break
    return found


def _posts():
    posts = list(load_posts(REPO / "posts", root=REPO).posts)
    shared = REPO.parent / "shared"
    if (shared / "corpus/md").is_dir():
        posts += load_posts(shared / "corpus/md", root=shared).posts
    return posts


@pytest.fixture(scope="module")
def posts():
    found = _posts()
    assert len(found) >= 36
    return found


@pytest.mark.parametrize("line_breaks", ["joined", "br"])
def test_every_page_is_well_formed_and_shows_all_its_text(posts, line_breaks):
    renderer = BodyRenderer(line_breaks)
    report = {}
    for post in posts:
        html = renderer.render(post.body).html
        found = problems(post.body, html, post.kind == "dump")
        if found:
            report[post.source_of(0).path] = found[:3]
    assert not report, "\n".join(f"{k}: {v}" for k, v in report.items())


@pytest.mark.parametrize(
    "markdown, stock_html",
    [
        # What Python-Markdown 3.11 with attr_list made of these (issue 17).
        ("从而\\boldsymbol{M}_t\\boldsymbol{V}_{t-1}可以写成", "<p>从而\\boldsymbol{M}<em t-1>t\\boldsymbol{V}</em>可以写成</p>"),
        ("源代码中都有<title>字段，后面", "<p>源代码中都有<title>字段，后面</p>"),
        ("给每个<h2>标签", "<p>给每个<h2>标签</p>"),
        ("明月几时有\n明天", "<p>明月有\n明天</p>"),  # made up: a character lost
        ("设t\\in\\{0,1\\}，则", "<p>设t\\in{0,1}，则</p>"),
    ],
)
def test_checks_can_fail(markdown, stock_html):
    assert problems(markdown, stock_html, dump=False)
    assert not problems(markdown, BodyRenderer().render(markdown).html, dump=False)


_TOKENS = [
    "明月", "几时有", "。", "，", "：", " ", "\n", "\n\n", "\\boldsymbol{M}", "\\in", "\\{", "\\}", "{t-1}",
    "_", "__", "*", "**", "^*", "_t", "64", "x", "@", "iter", "\\", "\\*", "\\_", "<title>", "<h2>",
    "<textarea>", "# ", "#训练", "{: .c}", "\\\\", "(", ")", "&", ";",
    "<b>", "</b>", "<i>", "</i>", "<sub>", "</sub>", "<div>", "$", "[", "](/u)", "- ", "> ", "1. ",
]
"""Tokens of the texts tried: TeX, delimiters, tag-like text.  No closing block tag: an HTML block the
author closed (``<h2>…</h2>`` on its own line) is passed through as written, whatever it holds."""
_RENDERER: list[BodyRenderer] = []


@settings(max_examples=int(os.environ.get('KXSJ_TEXT_EXAMPLES', '300')), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOKENS), max_size=30).map("".join))
def test_any_text_is_well_formed_and_shown_whole(text):
    if not _RENDERER:
        _RENDERER.append(BodyRenderer())
    assert problems(text, _RENDERER[0].render(text).html, dump=False) == []
