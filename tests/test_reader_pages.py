"""Reader features in the built HTML: heading anchors, the automatic contents
list (and ``[TOC]`` still working), code blocks ready for a copy button, the
site-wide sidebar and its place in the page keys, the theme script in <head>."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.render.markdown import BodyRenderer
from kxsj.render.sidebar import CLOUD_SIZES, sidebar_data
from kxsj.model import Post, PostDate

OLD_POST = "archives/1134/index.html"  # shares no tag or category with NEW_POST: only its sidebar changes


@pytest.fixture(scope="module")
def renderer() -> BodyRenderer:
    return BodyRenderer()


def body(renderer: BodyRenderer, text: str) -> str:
    return renderer.render(text).html


# --- headings and contents -----------------------------------------------------


def test_every_heading_gets_an_empty_anchor_to_itself(renderer):
    out = body(renderer, "## 旋转位置\n\n正文\n\n### 二维 RoPE")
    anchors = re.findall(r'<h(\d) id="([^"]+)">([^<]*)<a aria-label="本节链接" class="headerlink" href="#([^"]+)"></a></h\1>', out)
    assert [(level, text) for level, _, text, _ in anchors] == [("2", "旋转位置"), ("3", "二维 RoPE")]
    assert all(own == target for _, own, _, target in anchors)


def test_three_headings_make_a_contents_list_at_the_top(renderer):
    out = body(renderer, "开头一段。\n\n## 一\n\n甲\n\n## 二\n\n乙\n\n### 二点一\n\n丙")
    assert out.startswith('<details class="toc toc-auto"')
    assert out.index("</details>") < out.index("开头一段")
    contents = out[: out.index("</details>")]
    assert "<summary>目录</summary>" in contents
    assert re.findall(r'<a href="#([^"]+)">', contents) == ["一", "二", "二点一"]


def test_two_headings_make_no_contents_list(renderer):
    out = body(renderer, "## 一\n\n甲\n\n## 二\n\n乙")
    assert "toc" not in out.replace("headerlink", "")


def test_typed_toc_marker_is_the_only_contents_list(renderer):
    out = body(renderer, "[TOC]\n\n## 一\n\n## 二\n\n## 三")
    assert out.count('<div class="toc">') == 1
    assert "toc-auto" not in out and "[TOC]" not in out
    assert out.index('<div class="toc">') < out.index("<h2")


def test_marker_text_inside_a_paragraph_is_text_and_the_automatic_list_comes(renderer):
    out = body(renderer, "写 [TOC] 可以生成目录。\n\n## 一\n\n## 二\n\n## 三")
    assert "写 [TOC] 可以生成目录。" in out
    assert out.count('<div class="toc">') == 1 and "toc-auto" in out


def test_a_formula_in_a_heading_is_math_in_the_contents_not_tex_text(renderer):
    out = body(renderer, "## 求 $x^2$ 的导数\n\n## 二\n\n## 三")
    entry = re.search(r'<a href="#[^"]+">(.*?)</a></li>', out).group(1)
    assert entry == '求 <span class="arithmatex">\\(x^2\\)</span> 的导数'


def test_a_footnote_mark_stays_out_of_the_contents(renderer):
    out = body(renderer, "## 一[^1]\n\n## 二\n\n## 三\n\n[^1]: 注")
    contents = out[: out.index("</details>")]
    assert "fnref" not in contents and ">一</a>" in contents


def test_the_contents_code_is_part_of_the_body_cache_key(tmp_path):
    """A change to how headings are rendered must give cached bodies a new key."""
    import shutil

    from kxsj.incremental import keys

    package = tmp_path / "kxsj"
    shutil.copytree(keys.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = keys.code_digest(package)
    toc = package / "render" / "toc.py"
    toc.write_text(toc.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert keys.code_digest(package) != before


def test_code_without_a_language_gets_the_highlight_wrapper(renderer):
    fenced = body(renderer, "```\nx = 1 < 2\n```")
    indented = body(renderer, "文字\n\n    y = 2")
    assert fenced.startswith('<div class="highlight"><pre>') and "x = 1 &lt; 2" in fenced
    assert '<div class="highlight"><pre>' in indented and "y = 2" in indented


# --- the sidebar --------------------------------------------------------------


def _post(title: str, year: int, month: int, tags: list[str], categories: list[str]) -> Post:
    return Post(title=title, date=PostDate(year, month, 1), body="", excerpt="", kind="markdown", tags=tags, categories=categories)


def test_sidebar_data_counts_sizes_and_orders():
    posts = [
        _post("丙", 2024, 3, ["模型", "优化"], ["数学"]),
        _post("乙", 2024, 1, ["模型"], ["数学", "信息"]),
        _post("甲", 2023, 12, ["模型", "随笔"], ["信息"]),
    ] + [_post(f"旧{i}", 2020, 5, ["模型"], ["数学"]) for i in range(9)]
    data = sidebar_data(posts)
    assert data.categories == [("数学", 11), ("信息", 2)]
    assert [p.title for p in data.recent] == ["丙", "乙", "甲", "旧0", "旧1", "旧2", "旧3", "旧4"]
    sizes = {t.name: (t.count, t.size) for t in data.tags}
    assert sizes == {"模型": (12, CLOUD_SIZES), "优化": (1, 1), "随笔": (1, 1)}
    assert [t.name for t in data.tags] == sorted(sizes)
    assert [(y.year, y.count, y.months) for y in data.archive] == [
        (2024, 2, [(3, 1), (1, 1)]), (2023, 1, [(12, 1)]), (2020, 9, [(5, 9)])
    ]


def _sidebar_of(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    return text[text.index('<aside class="site-sidebar"') : text.index("</aside>")]


# Its category and tag exist already: new names would change every page's key on their own.
NEW_POST = """---
title: 新加的一篇侧栏测试
date: 2031-07-04
categories: [信息时代]
tags: [GAN]
---
正文。
"""


def test_an_added_post_updates_the_sidebar_of_an_unchanged_old_page(tmp_site):
    build_site(BuildOptions(tmp_site, tmp_site / "posts", tmp_site / "public"))
    out = tmp_site / "public"
    page = out / OLD_POST
    before = _sidebar_of(page)
    assert "新加的一篇侧栏测试" not in before
    old_inode = page.stat().st_ino

    (tmp_site / "posts" / "new.md").write_text(NEW_POST, encoding="utf-8")
    report = build_site(BuildOptions(tmp_site, tmp_site / "posts", tmp_site / "public"))
    assert report.written
    after = _sidebar_of(page)
    assert page.stat().st_ino != old_inode, "the old page was reused with its stale sidebar"
    assert "新加的一篇侧栏测试" in after
    assert "2031 年" in after
    assert _sidebar_of(out / "index.html") == after  # the same sidebar on a list page


def test_built_pages_carry_the_theme_script_and_the_sidebar_where_meant(tmp_site):
    build_site(BuildOptions(tmp_site, tmp_site / "posts", tmp_site / "public"))
    out = tmp_site / "public"
    post = (out / OLD_POST).read_text(encoding="utf-8")
    head = post[: post.index("</head>")]
    assert head.index("kxsj-theme") < head.index("site.css"), "the theme must be set before the stylesheet"
    assert "data-theme-toggle" in post
    assert 'class="has-sidebar"' in post
    for name in ("tags/index.html", "archives/index.html", "404.html"):
        assert "site-sidebar" not in (out / name).read_text(encoding="utf-8"), name
    sidebar = html.unescape(_sidebar_of(out / "index.html"))
    assert "最近文章" in sidebar and "标签云" in sidebar and "归档" in sidebar and "分类" in sidebar


def test_sidebar_false_leaves_it_out(tmp_site):
    with open(tmp_site / "kxsj.yml", "a", encoding="utf-8") as f:
        f.write("\nsidebar: false\n")
    report = build_site(BuildOptions(tmp_site, tmp_site / "posts", tmp_site / "public"))
    assert report.written and not [d for d in report.diagnostics if d.level != "info"]
    for name in (OLD_POST, "index.html"):
        page = (tmp_site / "public" / name).read_text(encoding="utf-8")
        assert "site-sidebar" not in page and "has-sidebar" not in page, name
        assert "data-theme-toggle" in page
