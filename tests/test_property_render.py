"""Property tests: no Markdown body makes the renderer raise or break a formula (issue 8).

Bodies mix the block shapes a post has (paragraphs, headings, list items,
quotes, fenced code with ``$`` in it, display math with and without blank
lines inside, display math between two lines of text) with inline formulas in
every text.  Each well-formed formula must reach the page byte-identical: the
text of one ``.arithmatex`` element is the formula as MathJax reads it, and
no other element is math.  Separately, arbitrary text (``$``, backslashes,
backticks, HTML, blank runs) must render without raising.
"""

from __future__ import annotations

import collections
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kxsj.render.markdown import BodyRenderer
from tests.test_formula_fidelity import math_in_html

EXAMPLES = collections.Counter()

_RENDERER: list[BodyRenderer] = []


def renderer() -> BodyRenderer:
    if not _RENDERER:
        _RENDERER.append(BodyRenderer())
    return _RENDERER[0]


# TeX: Markdown and HTML specials, backslash pairs, CJK; never ``$`` or a backtick.
TEX_PIECES = st.sampled_from(
    list("abxyz019_*{}^&<>;#!-+=.,()[]|~ ") + ["\\\\", "\\,", "\\_", "\\alpha", "\\frac{1}{2}", "&amp;", "中", "\\{", "\\}", "<b>"]
)
_ODD_BACKSLASH_END = re.compile(r"(?<!\\)(\\\\)*\\$")
# Known renderer gap, left out here and reported: Python-Markdown's raw-HTML
# preprocessor rewrites a character reference without ``;`` (``&#12``) to
# ``&#12;`` before the math processors see the text.
_CHARREF_WITHOUT_SEMICOLON = re.compile(r"&#(\d|[xX][0-9a-fA-F])")


def tex(closer: str = ""):
    """One line of TeX that no delimiter in it can end early."""

    def ok(t: str) -> bool:
        if not t.strip() or _ODD_BACKSLASH_END.search(t) or _CHARREF_WITHOUT_SEMICOLON.search(t):
            return False
        return not closer or not re.search(r"(?<!\\)(\\\\)*" + re.escape(closer), t)

    return st.lists(TEX_PIECES, min_size=1, max_size=12).map("".join).filter(ok)


# Text: no ``$``, backslash, backtick or ``<`` (each would change what is math,
# by design; nor ``[``: a formula inside ``[…](…)`` is a URL); ``*`` and ``_``
# only in pairs (see the upstream bug below).
TEXT = st.lists(
    st.sampled_from(list("中文的是了在有概率模型 abcXYZ#-+.!()|~&，。：") + ["**粗**", "_斜_", "[链接](http://a.cn/)"]),
    max_size=12,
).map("".join)


@st.composite
def inline_formula(draw) -> tuple[str, str]:
    """(as written, as the page's MathJax reads it)."""
    if draw(st.booleans()):
        t = draw(tex())
        return f"${t}$", f"\\({t}\\)"
    t = draw(tex("\\)"))
    return f"\\({t}\\)", f"\\({t}\\)"


@st.composite
def text_with_math(draw) -> tuple[str, list[str]]:
    parts, expected = [], []
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(TEXT))
        written, page = draw(inline_formula())
        parts.append(written)
        expected.append(page)
        parts.append("中")  # a digit right after ``$`` would make it money
    parts.append(draw(TEXT))
    return "".join(parts).lstrip(), expected


@st.composite
def display_formula(draw) -> tuple[str, str]:
    kind = draw(st.sampled_from(["$$", "\\[", "env"]))
    closer = {"$$": "", "\\[": "\\]", "env": "\\end{"}[kind]
    lines = draw(st.lists(tex(closer), min_size=1, max_size=4))
    if draw(st.booleans()) and len(lines) > 1:
        lines.insert(1, "")  # a blank line inside display math
    inner = "\n".join(lines)
    if kind == "$$":
        return f"$${inner}$$", f"\\[{inner}\\]"
    if kind == "\\[":
        return f"\\[{inner}\\]", f"\\[{inner}\\]"
    env = draw(st.sampled_from(["equation", "align*", "gather"]))
    written = f"\\begin{{{env}}}\n{inner}\n\\end{{{env}}}"
    return written, written


@st.composite
def bodies(draw) -> tuple[str, list[str]]:
    blocks, expected = [], []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["para", "para", "heading", "list", "quote", "code", "display", "between"]))
        if kind == "display":
            written, page = draw(display_formula())
            blocks.append(written)
            expected.append(page)
        elif kind == "between":
            before, e1 = draw(text_with_math())
            written, page = draw(display_formula())
            after, e2 = draw(text_with_math())
            blocks.append(f"{before}中\n{written}\n中{after}")
            expected += e1 + [page] + e2
        elif kind == "code":
            code = draw(st.lists(st.sampled_from(list("$x\\{}ab ") + ["$$"]), max_size=20).map("".join))
            blocks.append(f"```\n{code}\n```")
        else:
            text, found = draw(text_with_math())
            prefix = {"para": "", "heading": "## ", "list": "- ", "quote": "> "}[kind]
            blocks.append(prefix + "中" + text)
            expected += found
    return "\n\n".join(blocks), expected


@settings(max_examples=500, deadline=None)
@given(body=bodies())
def test_every_well_formed_formula_reaches_the_page_intact(body):
    EXAMPLES["render formulas"] += 1
    text, expected = body
    found = math_in_html(renderer().render(text).html)
    assert collections.Counter(found) == collections.Counter(expected), text


ANY_CHARS = st.sampled_from(
    list("$\\`{}<>&*_#-+>|[]()!\n \t中文x1") + ["$$", "\\begin{equation}", "\\end{equation}", "\\[", "\\]", "\\(", "\\)",
                                                 "<div>", "</div>", "<!--more-->", "```", "\n\n", "    ", "<script>", "&#0;", "\x00", "\r"]
)


@settings(max_examples=500, deadline=None)
@given(text=st.lists(ANY_CHARS, max_size=60).map("".join))
def test_rendering_any_text_never_raises(text):
    EXAMPLES["render any text"] += 1
    html = renderer().render(text).html
    assert isinstance(html, str)


def test_a_lone_star_before_emphasis_loses_no_formula_or_text():
    # Python-Markdown's em/strong processor has leaked an inline placeholder
    # here and dropped the next inline element (a formula, a code span).  It
    # does not with the floor or the newest releases pyproject.toml allows;
    # a release that does again fails this test, and gets a ceiling.
    html = renderer().render("*a**b*$c$d *A**B**$a$C_D_$b$E**F**").html
    assert math_in_html(html) == ["\\(c\\)", "\\(a\\)", "\\(b\\)"]
    assert "lzzwxh" not in html and "\x02" not in html


def test_zz_report_examples_tried(capsys):
    with capsys.disabled():
        print(f"\nproperty inputs tried: {dict(EXAMPLES)}")
