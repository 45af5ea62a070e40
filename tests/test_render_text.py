"""The reader sees what the author wrote: the text snippets of issue 17.

Each case is a snippet from a real kexue.fm post that stock Python-Markdown
got wrong (TeX the crawl left without ``$`` turned into emphasis or eaten,
tag-like text turned into HTML, line breaks lost), next to what authors do
use and must keep working (``**bold**``, ``\\*``, ``{: .cls}``, ``<sub>``).
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from kxsj.render.markdown import BodyRenderer


@pytest.fixture(scope="module")
def renderer() -> BodyRenderer:
    return BodyRenderer()


def html_of(renderer: BodyRenderer, text: str) -> str:
    return renderer.render(text).html


def visible(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


# --- 1, 2: TeX left outside formulas, intraword _ and *: no emphasis, nothing eaten


@pytest.mark.parametrize(
    "text",
    [
        "从而\\boldsymbol{M}_t\\boldsymbol{V}_{t-1}可以写成",  # attr_list ate `{t-1}`
        "为了估计\\Vert \\bar{\\boldsymbol{u}}_t\\Vert_{RMS}^2，我们需要",
        "其中\\boldsymbol{O}_+ \\boldsymbol{I}_- 是正负部分",
        "记x_{i,j}^*为最优解，y_{i,j}^*为对应的值",
        "输入是64*64的图片，输出是32*32的",
        "通过实现__iter__方法，或者直接 __iter__ 都行",
        "推特上的@_arohan_ 说过",
        "变量名snake_case_name和a_b_c",
    ],
)
def test_no_emphasis_and_no_text_lost(renderer, text):
    html = html_of(renderer, text)
    assert "<em" not in html and "<strong" not in html, html
    assert visible(html) == text


def test_tex_run_is_shown_verbatim_and_whole(renderer):
    html = html_of(renderer, "设t\\in\\{0,1\\}，则\\boldsymbol{x}_{t}\\{a\\}成立")
    assert visible(html) == "设t\\in\\{0,1\\}，则\\boldsymbol{x}_{t}\\{a\\}成立"


@pytest.mark.parametrize(
    "text, tag, inner",
    [
        ("这是**粗体**文字", "strong", "粗体"),
        ("a *b* c", "em", "b"),
        ("a _b_ c，_强调_。", "em", "b"),
        ("**今天是年三十了。^_^**", "strong", "今天是年三十了。^_^"),
        ("**注意：x^2**很重要", "strong", "注意：x^2"),
    ],
)
def test_emphasis_authors_write_still_works(renderer, text, tag, inner):
    assert f"<{tag}>{inner}</{tag}>" in html_of(renderer, text)


# --- 3: escapes


@pytest.mark.parametrize(
    "text, shown",
    [
        ("t\\in\\{0,1\\}", "t\\in\\{0,1\\}"),
        ("\\*不是强调\\*", "*不是强调*"),
        ("my\\_var", "my_var"),
        ("\\# 不是标题", "# 不是标题"),
        ("价格\\$5", "价格$5"),
    ],
)
def test_escapes_apply_outside_tex_only(renderer, text, shown):
    assert visible(html_of(renderer, text)) == shown


# --- 4: tag-like text


@pytest.mark.parametrize(
    "text",
    [
        "源代码中都有<title>字段，后面的内容",
        "给每个<h2>标签加上编号",
        "可以通过https://papers.cool/arxiv/<paper_id>访问",
        "<textarea>不闭合的\n\n后面的段落",
        "<title>开头的一行\n\n后面的段落",
        "中间有<xmp>和<plaintext>和<style>",
    ],
)
def test_tag_like_text_is_text(renderer, text):
    html = html_of(renderer, text)
    for name in ("title", "h2", "paper_id", "textarea", "xmp", "plaintext", "style"):
        assert f"<{name}" not in html, html
    assert "后面" not in text or "后面" in visible(html)


def test_phrasing_html_and_block_html_still_work(renderer):
    assert "H<sub>2</sub>O" in html_of(renderer, "H<sub>2</sub>O是水")
    assert "<div>原样</div>" in html_of(renderer, "<div>原样</div>\n\n后文")
    assert "<style>p{}</style>" in html_of(renderer, "<style>p{}</style>\n\n后文")


# --- 1: attr_list only in its block form


def test_attr_list_block_form_kept_inline_form_is_text(renderer):
    assert '<p class="note">注意</p>' in html_of(renderer, "注意\n{: .note}")
    assert '<h2 id="own">标题<a aria-label="本节链接" class="headerlink" href="#own"></a></h2>' in html_of(renderer, "## 标题 {: #own}")
    html = html_of(renderer, "![图](/i.png){: width=\"50%\"}")
    assert "width" not in html.split(">")[1] and '{: width="50%"}' in visible(html)
    # Without the colon a last line of TeX braces is text, not attributes.
    assert visible(html_of(renderer, "公式\n{t-1}")) == "公式\n{t-1}"


# --- 5: headings and line breaks


def test_hash_needs_a_space_to_open_a_heading(renderer):
    assert "<h1" not in html_of(renderer, "#训练数据")
    assert '<h1 id="训练数据">训练数据<a aria-label="本节链接" class="headerlink" href="#训练数据"></a></h1>' in html_of(renderer, "# 训练数据")


def test_backslash_at_line_end_is_a_hard_break(renderer):
    html = html_of(renderer, "第一行\\\n第二行\n\n## 标题")
    assert re.search(r"第一行<br>\s*第二行", html) and "\\" not in visible(html)
    assert "<h2" in html
    assert "第一行\\" in visible(html_of(renderer, "第一行\\\\\n第二行"))  # an escaped backslash is no break


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("joined", "明月几时有明天会更好。\n下一句"),
        ("space", "明月几时有\n明天会更好。\n下一句"),
        ("br", "明月几时有<br>\n明天会更好。<br>\n下一句"),
    ],
)
def test_line_breaks_setting(mode, expected):
    assert BodyRenderer(mode).render("明月几时有\n明天会更好。\n下一句").html == f"<p>{expected}</p>"


def test_line_breaks_never_joined_after_clause_ends(renderer):
    for mark in "。？！：；":
        assert f"{mark}\n下" in html_of(renderer, f"上{mark}\n下")


def test_br_mode_keeps_math_code_and_block_edges(renderer):
    html = BodyRenderer("br").render("设$a\nb$与`c\nd`\n*强\n调*\n\n- 项\n  续").html
    assert "\\(a\nb\\)" in html and "<code>c\nd</code>" in html
    assert "<em>强<br>\n调</em>" in html and "<li>项<br>\n续</li>" in html


def test_unknown_line_breaks_mode_is_refused():
    with pytest.raises(ValueError):
        BodyRenderer("wrapped")


# --- 6: footnotes


def test_footnotes(renderer):
    html = html_of(renderer, "正文[^1]。\n\n[^1]: 注释的内容")
    assert '<a class="footnote-ref" href="#fn:1">1</a>' in html
    assert 'id="fn:1"' in html and "注释的内容" in html
    assert 'href="注释的内容"' not in html


# --- control characters


def test_control_characters_are_left_out(renderer):
    assert html_of(renderer, "理论化。\x08当然") == "<p>理论化。当然</p>"


# --- the settings in kxsj.yml


def test_line_breaks_and_original_url_config(tmp_path):
    from kxsj.config import load_config

    (tmp_path / "kxsj.yml").write_text("line_breaks: br\noriginal_url: https://kexue.fm\n", encoding="utf-8")
    config, diags = load_config(tmp_path)
    assert (config.line_breaks, config.original_url, diags) == ("br", "https://kexue.fm", [])
    (tmp_path / "kxsj.yml").write_text("title: t\nline_breaks: wrapped\noriginal_url: kexue.fm\n", encoding="utf-8")
    config, diags = load_config(tmp_path)
    assert (config.line_breaks, config.original_url) == ("joined", "")
    assert [(d.line, d.level) for d in diags] == [(2, "error"), (3, "error")]
    assert "`line_breaks` must be one of joined, space, br" in diags[0].message


def test_the_build_renders_with_the_sites_line_breaks(tmp_path):
    from kxsj.build import BuildOptions, build_site

    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "a.md").write_text(
        "---\ntitle: 诗\ndate: 2020-01-01\nslug: poem\n---\n明月几时有\n把酒问青天\n", encoding="utf-8"
    )
    pages = {}
    for mode in ("br", "joined"):
        (tmp_path / "kxsj.yml").write_text(f"search: false\nline_breaks: {mode}\n", encoding="utf-8")
        report = build_site(BuildOptions(root=tmp_path, posts_dir=tmp_path / "posts", out_dir=tmp_path / "public"))
        assert report.ok, [str(d) for d in report.diagnostics]
        pages[mode] = (tmp_path / "public" / "posts" / "poem" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"明月几时有<br>\s*把酒问青天", pages["br"])
    assert "明月几时有把酒问青天" in pages["joined"]  # and not the cached HTML of the other mode


@pytest.mark.parametrize("text", ["<h2>标签的用法\n\n后文", "<div>没有闭合\n\n*后文*", "<table>x\n\n后文"])
def test_unclosed_block_tag_at_a_line_start_is_text(renderer, text):
    html = html_of(renderer, text)
    assert html.startswith("<p>&lt;") and "后文" in html.split("</p>", 1)[1]


def test_html_blocks_with_optional_end_tags_stay_html(renderer):
    assert "<ul>\n<li>one\n<li>two\n</ul>" in html_of(renderer, "<ul>\n<li>one\n<li>two\n</ul>\n\nz")


@pytest.mark.parametrize(
    "text, html",
    [
        ("H<sub>2</sub>O", "<p>H<sub>2</sub>O</p>"),
        ("只有开头<sub>没有结尾", "<p>只有开头&lt;sub&gt;没有结尾</p>"),
        ("只有结尾</b>", "<p>只有结尾&lt;/b&gt;</p>"),
        ("<sub><sub>x</sub>", "<p>&lt;sub&gt;<sub>x</sub></p>"),
        ("换行<br>与<img src=\"/a.png\" alt=\"图\">", "<p>换行<br>与<img src=\"/a.png\" alt=\"图\"></p>"),
        ("<span/>自闭合", "<p>&lt;span/&gt;自闭合</p>"),
    ],
)
def test_inline_html_only_when_balanced(renderer, text, html):
    assert html_of(renderer, text) == html


def test_links_with_backslashes_stay_links(renderer):
    assert '<a href="C:\\path\\file">x</a>' in html_of(renderer, "[x](C:\\path\\file)")
    assert '<a href="http://x.com/a\\b">' in html_of(renderer, "见<http://x.com/a\\b>")
    assert '<a href="/u">\\alpha链接</a>' in html_of(renderer, "[\\alpha链接](/u)")


@pytest.mark.parametrize(
    "text, html",
    [
        ("<sub>_x</sub>_", "<p><sub>_x</sub>_</p>"),
        ("*a <b>b* c</b>", "<p>*a <b>b* c</b></p>"),
        ("**注意<sub>2</sub>要点**", "<p><strong>注意<sub>2</sub>要点</strong></p>"),
        ("<b>*a* b</b>", "<p><b><em>a</em> b</b></p>"),
        ("<b>*a</b>和<b>b*</b>", "<p><b>*a</b>和<b>b*</b></p>"),
    ],
)
def test_emphasis_never_crosses_an_inline_tag(renderer, text, html):
    assert html_of(renderer, text) == html
