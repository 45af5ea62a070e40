"""Body Markdown around the math: dump escapes, code, captions, headings, CJK lines."""

from __future__ import annotations

import re
from html import unescape

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kxsj.mathscan import scan
from kxsj.render.markdown import BodyRenderer, RenderedBody
from kxsj.render.math import page_tex
from kxsj.render.md_literal import _BACKSLASHED, literal_line, literal_text

@pytest.fixture(scope="module")
def renderer() -> BodyRenderer:
    return BodyRenderer()


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def paragraphs(html: str) -> list[str]:
    return [text_of(p) for p in re.findall(r"<p>(.*?)</p>", html, re.S)]


# --- what the dump reader writes renders back to the literal text --------------


@pytest.mark.parametrize(
    "markdown, text",
    [
        ("\\*不是强调\\*", "*不是强调*"),
        ("a\\_b\\_c", "a_b_c"),
        ("\\# 不是标题", "# 不是标题"),
        ("1\\. 不是列表", "1. 不是列表"),
        ("\\- 不是列表", "- 不是列表"),
        ("\\> 不是引用", "> 不是引用"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("价格\\$5", "价格$5"),
        ("&#91;1&#93; 参考", "[1] 参考"),
        ("a &amp;&amp; b", "a && b"),
        ("\\`code\\`", "`code`"),
    ],
)
def test_dump_escapes_render_back_to_the_text(renderer, markdown, text):
    html = renderer.render(markdown).html
    assert paragraphs(html) == [text]
    assert "<script" not in html and "arithmatex" not in html


def test_escaped_square_bracket_would_open_display_math(renderer):
    """Why the dump reader writes ``&#91;`` and not ``\\[``: ``\\[…\\]`` is math."""
    assert "arithmatex" in renderer.render("见\\[1\\]").html


def test_each_line_its_own_paragraph(renderer):
    html = renderer.render("第一行\n\n第二行\n\n第三行").html
    assert paragraphs(html) == ["第一行", "第二行", "第三行"]


def test_url_autolink(renderer):
    html = renderer.render("链接<https://kexue.fm/archives/8265?a=1&b=2_x>完").html
    assert '<a href="https://kexue.fm/archives/8265?a=1&amp;b=2_x">' in html
    assert paragraphs(html) == ["链接https://kexue.fm/archives/8265?a=1&b=2_x完"]


def test_fenced_code_keeps_its_text_and_is_highlighted_with_classes(renderer):
    code = "x = a_1 * b_2  # $5 < 6 & 7\nprint(f'{x}')\n"
    html = renderer.render(f"```python\n{code}```").html
    assert html.startswith('<div class="highlight"><pre>')
    assert "style=" not in html
    assert re.search(r'<span class="[a-z]+">', html)
    assert text_of(html) == code


def test_figure_caption_is_html_with_markdown_inside(renderer):
    html = renderer.render(
        '<figure class="caption" markdown="span"><figcaption markdown="span">'
        "图1：\\*位置\\*与$x$</figcaption></figure>"
    ).html
    assert re.fullmatch(
        r'<figure class="caption">\s*<figcaption>图1：\*位置\*与'
        r'<span class="arithmatex">\\\(x\\\)</span></figcaption>\s*</figure>',
        html,
    ), html


def test_table_with_math_in_a_cell(renderer):
    html = renderer.render("| 量 | 值 |\n|---|---|\n| $x_1$ | 2 |").html
    assert '<td><span class="arithmatex">\\(x_1\\)</span></td>' in html


def test_attr_list_on_a_paragraph(renderer):
    assert '<p class="note">注意</p>' in renderer.render("注意\n{: .note}").html


# --- headings and the table of contents --------------------------------------


def test_toc_has_unicode_ids_levels_and_titles(renderer):
    out = renderer.render("## 旋转位置\n\n正文\n\n### 二维 RoPE\n\n## 旋转位置")
    assert isinstance(out, RenderedBody)
    assert out.toc == [(2, "旋转位置", "旋转位置"), (3, "二维-rope", "二维 RoPE"), (2, "旋转位置_1", "旋转位置")]
    assert '<h2 id="旋转位置">旋转位置<a aria-label="本节链接" class="headerlink" href="#旋转位置"></a></h2>' in out.html


def test_renderer_is_reused_without_state_leaking(renderer):
    first = renderer.render("## 小结\n\n$a$\n\n$$b$$")
    other = renderer.render("## 小结\n\n```\ncode\n```\n\n<div>raw</div>")
    again = renderer.render("## 小结\n\n$a$\n\n$$b$$")
    assert again == first
    assert other.toc == [(2, "小结", "小结")]
    assert "raw" in other.html and "code" in other.html


# --- Chinese lines ---------------------------------------------------------------


def test_chinese_lines_are_joined_without_a_space(renderer):
    html = renderer.render("第一行文字，\n第二行“引用”\n*强调*继续\n  缩进的行").html
    assert paragraphs(html) == ["第一行文字，第二行“引用”强调继续缩进的行"]


def test_english_lines_keep_their_break(renderer):
    html = renderer.render("English line\nnext line\n中文\nword").html
    assert paragraphs(html) == ["English line\nnext line\n中文\nword"]


def test_no_join_inside_code_pre_or_math(renderer):
    html = renderer.render("前`代码\n代码`后\n\n```\n中\n文\n```\n\n设$\\text{甲}\n\\text{乙}$止").html
    assert "<code>代码\n代码</code>" in html
    assert "中\n文" in html
    assert "\\(\\text{甲}\n\\text{乙}\\)" in html


# --- the escaping contract, as a property ------------------------------------------


def test_backslash_escapes_are_markdown_escapes(renderer):
    assert _BACKSLASHED <= renderer.escaped_chars
    assert "$" in renderer.escaped_chars


_PLAIN = (
    st.lists(
        st.sampled_from(list("中文，。“”abc 019\\`*_{}[]()<>#+-.!|$&~=:;'\"/^%@") + ["1. ", "- ", "---", "~~~", "&amp;"]),
        max_size=30,
    )
    .map("".join)
    .map(str.strip)
)


@settings(max_examples=400, deadline=None)
@given(text=_PLAIN)
def test_any_plain_line_renders_back_exactly(text):
    html = _shared_renderer().render(literal_text(text)).html
    assert text_of(html).strip() == text
    assert "arithmatex" not in html


@settings(max_examples=300, deadline=None)
@given(
    before=_PLAIN,
    tex=st.sampled_from(["$x_1*y$", "\\(a<b\\)", "$$\\sum_i x_i$$", "\\begin{cases}1\\\\2\\end{cases}"]),
    after=_PLAIN,
)
def test_dump_line_keeps_formulas_and_escapes_the_rest(before, tex, after):
    """Whatever the text around it, the page shows the line, formulas as MathJax reads them."""
    line = f"{before} {tex} {after}".strip()
    # A backtick inside a formula may pair with one outside: a code span wins
    # over math (by design, so ``$`` in code stays text).
    assume(not any("`" in span.tex(line) for span in scan(line)))
    expected, pos = [], 0
    for span in scan(line):
        expected += [line[pos : span.start], page_tex(line, span)]
        pos = span.end
    expected.append(line[pos:])
    html = _shared_renderer().render(literal_line(line)).html
    assert html.count('class="arithmatex"') == len(scan(line))
    assert re.sub(r"\s+", "", text_of(html)) == re.sub(r"\s+", "", "".join(expected))


_RENDERER: list[BodyRenderer] = []


def _shared_renderer() -> BodyRenderer:
    if not _RENDERER:
        _RENDERER.append(BodyRenderer())
    return _RENDERER[0]


# --- what a real browser makes of it ----------------------------------------------


def test_browser_reads_exact_tex_and_no_math_inside_paragraphs(renderer, page):
    body = (
        "它满足\n\\begin{equation}a_1 < b_2 & c \\\\ d\\end{equation}\n这样一来\n"
        "$$x^2$$根据$y>0$可知\n\n花了$5，又花了$10"
    )
    page.set_content(f'<!doctype html><meta charset="utf-8"><body>{renderer.render(body).html}</body>')
    found = page.eval_on_selector_all(
        ".arithmatex",
        "els => els.map(e => [e.tagName, e.parentElement.tagName, e.textContent])",
    )
    assert found == [
        ["DIV", "BODY", "\\begin{equation}a_1 < b_2 & c \\\\ d\\end{equation}"],
        ["DIV", "BODY", "\\[x^2\\]"],
        ["SPAN", "P", "\\(y>0\\)"],
    ]
    paragraphs_text = page.eval_on_selector_all("p", "els => els.map(e => e.textContent)")
    assert paragraphs_text == ["它满足", "这样一来", "根据\\(y>0\\)可知", "花了$5，又花了$10"]
    assert page.kxsj_errors == []
