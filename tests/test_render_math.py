"""Math in post bodies: where the formulas are, and that their TeX is untouched."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kxsj.mathscan import scan
from kxsj.render.markdown import BodyRenderer
from test_formula_fidelity import expected_tex, mask_code, page_inner_tex


@pytest.fixture(scope="module")
def renderer() -> BodyRenderer:
    return BodyRenderer()


class _Math(HTMLParser):
    """``(tag, text content)`` of each ``.arithmatex`` element, plus block nesting errors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self.stack: list[tuple[str, bool]] = []
        self.div_in_p = False

    def handle_starttag(self, tag, attrs):
        is_math = "arithmatex" in (dict(attrs).get("class") or "").split()
        if tag == "div" and any(t == "p" for t, _ in self.stack):
            self.div_in_p = True
        self.stack.append((tag, is_math))
        if is_math:
            self.found.append((tag, ""))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if any(m for _, m in self.stack):
            tag, text = self.found[-1]
            self.found[-1] = (tag, text + data)


def math_of(html: str) -> list[tuple[str, str]]:
    parser = _Math()
    parser.feed(html)
    parser.close()
    assert not parser.div_in_p, f"<div> inside <p>: {html}"
    return parser.found


def paragraphs(html: str) -> list[str]:
    """Text content of each ``<p>``."""
    return [unescape(re.sub(r"<[^>]+>", "", p)) for p in re.findall(r"<p>(.*?)</p>", html, re.S)]


def render(renderer: BodyRenderer, text: str) -> str:
    return renderer.render(text).html


# --- where the formulas are -------------------------------------------------


@pytest.mark.parametrize(
    "text, math, paras",
    [
        ("设$x^2+y^2=1$为单位圆", [("span", "\\(x^2+y^2=1\\)")], ["设\\(x^2+y^2=1\\)为单位圆"]),
        ("“$n$个$m$分类”", [("span", "\\(n\\)"), ("span", "\\(m\\)")], ["“\\(n\\)个\\(m\\)分类”"]),
        # money is not math: a closing ``$`` followed by a digit does not close
        ("花了$5，又花了$10", [], ["花了$5，又花了$10"]),
        # ``\$`` is a literal dollar and never opens math
        ("价格\\$5与\\$x\\$", [], ["价格$5与$x$"]),
        ("前\\$\\$x\\$\\$后", [], ["前$$x$$后"]),
        ("$$中文$", [], ["$$中文$"]),
    ],
)
def test_where_the_formulas_are(renderer, text, math, paras):
    html = render(renderer, text)
    assert math_of(html) == math
    assert paragraphs(html) == paras


def test_round_and_square_brackets_are_kept(renderer):
    html = render(renderer, "行内\\(a+b\\)与\n\n\\[c+d\\]")
    assert math_of(html) == [("span", "\\(a+b\\)"), ("div", "\\[c+d\\]")]


def test_display_dollars_become_square_brackets(renderer):
    assert math_of(render(renderer, "$$\\int_0^1 f(x)\\,dx$$")) == [
        ("div", "\\[\\int_0^1 f(x)\\,dx\\]")
    ]


@pytest.mark.parametrize("env", ["equation", "array", "aligned", "cases", "gather", "align", "equation*"])
def test_bare_environment_is_display_math_as_written(renderer, env):
    tex = f"\\begin{{{env}}}a & b \\\\\nc & d\\end{{{env}}}"
    html = render(renderer, f"如下\n{tex}\n所以")
    assert math_of(html) == [("div", tex)]
    assert paragraphs(html) == ["如下", "所以"]


def test_nested_environments_are_one_formula(renderer):
    tex = "\\begin{equation}\\begin{aligned}x &= 1 \\\\\ny &= 2\\end{aligned}\\end{equation}"
    assert math_of(render(renderer, tex)) == [("div", tex)]


def test_bare_environment_nesting_its_own_name_gets_display_delimiters(renderer):
    """MathJax would end a bare ``array`` at the inner ``\\end{array}``: an error."""
    tex = "\\begin{array}{|l|}\\hline\n\\begin{array}{ll} 1: & a \\end{array} \\\\\n\\hline\n\\end{array}"
    assert math_of(render(renderer, f"流程\n\n{tex}\n\n结束")) == [("div", f"\\[{tex}\\]")]


def test_environment_inside_dollars_is_inline_math(renderer):
    html = render(renderer, "矩阵$\\begin{pmatrix}1 & 0\\\\ 0 & 1\\end{pmatrix}$是单位阵")
    assert math_of(html) == [("span", "\\(\\begin{pmatrix}1 & 0\\\\ 0 & 1\\end{pmatrix}\\)")]


def test_dollar_wrapped_equation_is_written_bare(renderer):
    """MathJax rejects ``equation`` inside ``\\[…\\]``; the inner TeX is unchanged."""
    html = render(renderer, "$$\\begin{equation}(q+px)^n\\end{equation}$$")
    assert math_of(html) == [("div", "\\begin{equation}(q+px)^n\\end{equation}")]
    html = render(renderer, "$$\\begin{aligned}a\\\\b\\end{aligned}$$")
    assert math_of(html) == [("div", "\\[\\begin{aligned}a\\\\b\\end{aligned}\\]")]


# --- display math inside a paragraph ------------------------------------------


def test_equation_right_after_a_line_of_text_splits_the_paragraph(renderer):
    html = render(renderer, "它满足\n\\begin{equation}R_m^{\\top}R_n=R_{n-m}\\end{equation}\n这样一来")
    assert math_of(html) == [("div", "\\begin{equation}R_m^{\\top}R_n=R_{n-m}\\end{equation}")]
    assert paragraphs(html) == ["它满足", "这样一来"]
    assert html.index("它满足") < html.index("arithmatex") < html.index("这样一来")


def test_display_dollars_after_text_and_followed_by_text_on_the_same_line(renderer):
    html = render(renderer, "前文\n$$x^2$$根据上式可得")
    assert math_of(html) == [("div", "\\[x^2\\]")]
    assert paragraphs(html) == ["前文", "根据上式可得"]


def test_two_equations_in_a_row(renderer):
    html = render(renderer, "于是\n\\begin{equation}a\\end{equation}\n\\begin{equation}b\\end{equation}\n$$c$$$$d$$\n完")
    assert [t for _, t in math_of(html)] == [
        "\\begin{equation}a\\end{equation}",
        "\\begin{equation}b\\end{equation}",
        "\\[c\\]",
        "\\[d\\]",
    ]
    assert paragraphs(html) == ["于是", "完"]


def test_display_math_mid_line_keeps_inline_math_around_it(renderer):
    html = render(renderer, "设$a$满足$$a^2=1$$其中$a>0$")
    assert math_of(html) == [("span", "\\(a\\)"), ("div", "\\[a^2=1\\]"), ("span", "\\(a>0\\)")]
    assert paragraphs(html) == ["设\\(a\\)满足", "其中\\(a>0\\)"]


def test_display_math_in_a_list_item_stays_in_the_item(renderer):
    html = render(renderer, "- 第一项\n  $$x$$\n  后文")
    assert re.search(r"<li>第一项<div class=\"arithmatex\">\\\[x\\\]</div>\s*后文</li>", html), html


def test_display_math_in_a_blockquote(renderer):
    html = render(renderer, "> 引文\n> $$x$$\n> 后文")
    assert "<blockquote>" in html
    assert math_of(html) == [("div", "\\[x\\]")]
    assert paragraphs(html) == ["引文", "后文"]


@pytest.mark.parametrize("before", ["", "由此\n"])
def test_formula_lines_that_look_like_markdown_stay_tex(renderer, before):
    tex = "\\begin{equation}\n# x\n- y\n1. z\n> 0\n---\n[a]: b\n\\end{equation}"
    assert math_of(render(renderer, before + tex)) == [("div", tex)]


def test_heading_line_before_a_formula_is_still_a_heading(renderer):
    html = render(renderer, "## 推导\n$$x$$\n其中")
    assert html.startswith('<h2 id="推导">推导<a aria-label="本节链接" class="headerlink" href="#推导"></a></h2>')
    assert math_of(html) == [("div", "\\[x\\]")]


# --- a formula spanning a blank line ----------------------------------------


def test_display_formula_with_a_blank_line_is_one_formula(renderer):
    html = render(renderer, "前文\n$$a+b\n\n= c$$\n后文")
    assert math_of(html) == [("div", "\\[a+b\n\n= c\\]")]
    assert paragraphs(html) == ["前文", "后文"]


def test_environment_with_blank_lines_starting_a_block(renderer):
    tex = "\\begin{aligned}\nx &= 1\n\n    y &= 2\n\n# z\n\\end{aligned}"
    html = render(renderer, f"{tex}\n\n后文")
    assert math_of(html) == [("div", tex)]
    assert paragraphs(html) == ["后文"]


def test_two_formulas_spanning_blank_lines_in_one_paragraph(renderer):
    html = render(renderer, "甲$$a\n\nb$$乙$$c\n\nd$$丙")
    assert [t for _, t in math_of(html)] == ["\\[a\n\nb\\]", "\\[c\n\nd\\]"]
    assert paragraphs(html) == ["甲", "乙", "丙"]


def test_unclosed_display_dollars_lose_no_text(renderer):
    html = render(renderer, "前$$a\n\n后面没有闭合")
    assert math_of(html) == []
    assert paragraphs(html) == ["前$$a", "后面没有闭合"]


# --- inside math nothing is touched -------------------------------------------


def test_markdown_and_html_characters_inside_math_reach_the_page(renderer):
    tex = "a_1*b_2*c_3 \\\\ x\\,y \\_ \\* \\# <p> a<b>c & d &amp; e"
    html = render(renderer, f"公式${tex}$完")
    assert math_of(html) == [("span", f"\\({tex}\\)")]
    assert "&lt;p&gt;" in html and "&amp;amp;" in html


def test_special_characters_inside_display_math_reach_the_page(renderer):
    tex = "\\begin{cases}a_1 < b_2 & *x* \\\\\n{c}\\end{cases}"
    html = render(renderer, f"于是\n{tex}")
    assert math_of(html) == [("div", tex)]


def test_trailing_brace_line_is_not_taken_for_attributes(renderer):
    """attr_list reads ``{…}`` on a block's last line as attributes; not in math."""
    tex = "\\begin{equation}\n{a}\n{b}\\end{equation}"
    html = render(renderer, tex)
    assert math_of(html) == [("div", tex)]


def test_math_in_a_heading_is_inline_math(renderer):
    out = renderer.render("## 定理$\\alpha$与$$\\beta$$")
    assert math_of(out.html) == [("span", "\\(\\alpha\\)"), ("span", "\\[\\beta\\]")]


# --- code and escapes ---------------------------------------------------------


def test_code_span_keeps_its_dollars(renderer):
    html = render(renderer, "运行`echo $HOME $PATH`与`$$x$$`，以及$y$")
    assert math_of(html) == [("span", "\\(y\\)")]
    assert "<code>echo $HOME $PATH</code>" in html and "<code>$$x$$</code>" in html


def test_fenced_code_keeps_its_dollars(renderer):
    html = render(renderer, "```bash\necho $a $$ \\begin{equation}\n```\n\n$z$")
    assert math_of(html) == [("span", "\\(z\\)")]
    code = unescape(re.sub(r"<[^>]+>", "", html.split("</pre>")[0]))
    assert code == "echo $a $$ \\begin{equation}\n"


def test_dollar_is_an_escapable_character(renderer):
    assert "$" in renderer.escaped_chars


# --- any formula survives (property) -------------------------------------------

# TeX-ish text: Markdown syntax, HTML specials, backslashes; no ``$`` (it would
# end the formula), no backtick (a code span wins over math, by design).
# Known limits, left out: Python-Markdown's raw-HTML preprocessor reads the
# whole text before any extension, so ``&#12`` gains a ``;`` and a formula
# line that starts with a block-level tag (``<div>``) or ``<!--`` is HTML.
_TEX_CHARS = st.sampled_from(list("abxyz019_*\\{}^&<>;#!-+=.,()[]|~ ") + ["\\\\", "\\,", "\\_", "&amp;", "中"])


def _tex(min_size: int = 1):
    return st.lists(_TEX_CHARS, min_size=min_size, max_size=30).map("".join).filter(
        lambda t: t.strip() and "&#" not in t and not re.search(r"(?<!\\)(\\\\)*\\$", t)
    )


@settings(max_examples=300, deadline=None)
@given(tex=_tex())
def test_any_inline_formula_reaches_the_page_intact(tex):
    renderer = _shared_renderer()
    found = math_of(renderer.render(f"文字${tex}$文字").html)
    assert found == [("span", f"\\({tex}\\)")]


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_tex(), min_size=1, max_size=4))
def test_any_display_formula_reaches_the_page_intact(lines):
    tex = "\n".join(lines)
    renderer = _shared_renderer()
    found = math_of(renderer.render(f"文字\n$${tex}$$\n文字").html)
    assert found == [("div", f"\\[{tex}\\]")]


_RENDERER: list[BodyRenderer] = []


def _shared_renderer() -> BodyRenderer:
    if not _RENDERER:
        _RENDERER.append(BodyRenderer())
    return _RENDERER[0]


# Pieces of Chinese prose with math: delimiters, money, escapes, line breaks
# and blank lines in any order (no block markers such as ``# ``; a heading
# line is Markdown's, whatever math it cuts).
_PIECES = st.sampled_from(
    ["中文", "word", " ", "\n", "\n\n", "$", "$$", "\\$", "\\(", "\\)", "\\[", "\\]", "5"]
    + ["\\begin{equation}", "\\end{equation}", "\\begin{aligned}", "\\end{aligned}"]
    + ["x_1", "*", "_", "{", "}", "\\\\", "<", "&"]
)


@settings(max_examples=400, deadline=None)
@given(doc=st.lists(_PIECES, max_size=40).map("".join))
def test_any_document_shows_exactly_the_scanned_formulas(doc):
    """The page's math is what ``mathscan.scan`` finds, in order, TeX intact.

    (Markdown turns a whitespace-only line into an empty one; TeX reads both
    as a blank line.)
    """
    found = [page_inner_tex(tex) for _, tex in math_of(_shared_renderer().render(doc).html)]
    expected = [re.sub(r"(?<=\n) +(?=\n)", "", expected_tex(doc, s)) for s in scan(mask_code(doc))]
    assert found == expected
