"""Sharing: each page's description, canonical link, Open Graph, Twitter card,
JSON-LD and favicon (kxsj.render.share, templates/_head_meta.html)."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest

from conftest import REPO
from kxsj.build import BuildOptions, build_site
from kxsj.render.share import json_ld, plain_text, shorten

HOSTILE = "我的</script><script>alert(1)</script>标题 & 更多"


def test_plain_text_keeps_inline_tex_and_drops_display_math_and_footnote_marks():
    html = ('<p>设 <span class="arithmatex">\\(x&lt;y\\)</span>，则</p>\n'
            '<div class="arithmatex">\\begin{equation}E=mc^2\\end{equation}</div>\n'
            '<p>成立<sup id="fnref:1"><a class="footnote-ref" href="#fn:1">1</a></sup>。'
            '<script>var a = 1;</script>A&amp;B</p>')
    assert plain_text(html) == "设 $x<y$，则 成立。A&B"


def test_a_description_read_from_the_start_of_a_long_body_is_the_one_read_from_all_of_it():
    """``plain_text(html, enough=…)`` stops reading early; the description must not change."""
    from pathlib import Path

    from kxsj.load.markdown_posts import split_front_matter
    from kxsj.render.markdown import BodyRenderer

    renderer = BodyRenderer()
    corpus = sorted((REPO.parent / "shared" / "corpus" / "md").glob("*.md"))[:40]
    htmls = [renderer.render(split_front_matter(Path(p).read_text(encoding="utf-8"))[1]).html for p in corpus]
    entity = "<p>" + "甲" * 4090 + "A&amp;B &lt;" + "乙" * 300 + "</p>"  # a character reference across a chunk's end
    math = "<p>" + "丙" * 4094 + '<span class="arithmatex">\\(x&lt;y\\)</span>' + "丁" * 200 + "</p>"
    for html in htmls + [entity, math, "<p>短</p>", ""]:
        for limit in (5, 120, 300, 5000):
            assert shorten(plain_text(html, enough=limit + 1), limit) == shorten(plain_text(html), limit)


def test_shorten_at_a_sentence_end_and_never_inside_a_formula():
    text = "甲" * 70 + "。" + "乙" * 100
    assert shorten(text) == "甲" * 70 + "。"
    long = "丙" * 110 + "$\\frac{a}{b}+\\sum_{i=1}^n x_i$" + "丁" * 50
    cut = shorten(long)
    assert cut.endswith("…") and cut.count("$") % 2 == 0 and len(cut) <= 121
    assert shorten("短句。") == "短句。"


def test_json_ld_cannot_end_its_script():
    value = HOSTILE + "\u2028<!--"
    text = str(json_ld({"headline": value}))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"headline": value}


POST = """\
---
title: "{title}"
date: 2022-06-13
tags: [概率, 生成模型]
category: 信息时代
id: 9119
url: https://kexue.fm/archives/9119
---
设 $x_t$ 是第 $t$ 步的样本，那么：

$$x_t = \\alpha_t x_{{t-1}} + \\beta_t \\varepsilon_t$$

这就是前向过程。

<!--more-->

后文。
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    where = tmp_path_factory.mktemp("share")
    root = where / "site"
    (root / "posts").mkdir(parents=True)
    title = HOSTILE.replace('"', '\\"')
    (root / "posts" / "ddpm.md").write_text(POST.format(title=title), encoding="utf-8")
    (root / "posts" / "plain.md").write_text("---\ntitle: 第二篇\ndate: 2023-01-02\nsummary: 作者写的**摘要**。\n---\n正文。\n", encoding="utf-8")
    (root / "kxsj.yml").write_text(textwrap.dedent("""\
        title: 测试站
        description: 一个测试站点
        author: 苏剑林
        search: false
        base_url: https://example.org/blog/
        """), encoding="utf-8")
    out = where / "public"
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=out))
    assert report.written, [str(d) for d in report.diagnostics]
    return out


def head_of(out, rel: str):
    html5lib = pytest.importorskip("html5lib")
    doc = html5lib.parse((out / rel).read_bytes(), namespaceHTMLElements=False)
    return doc.find("head")


def metas(head) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for m in head.iter("meta"):
        key = m.get("property") or m.get("name")
        if key:
            found.setdefault(key, []).append(m.get("content"))
    return found


def test_post_head_has_its_own_description_canonical_og_and_json_ld(built):
    head = head_of(built, "archives/9119/index.html")
    meta = metas(head)
    assert meta["description"] == ["设 $x_t$ 是第 $t$ 步的样本，那么： 这就是前向过程。"]
    assert meta["og:description"] == meta["description"] == meta["twitter:description"]
    assert meta["og:type"] == ["article"] and meta["og:title"] == [HOSTILE]
    assert meta["og:url"] == ["https://example.org/blog/archives/9119/"]
    assert meta["og:site_name"] == ["测试站"] and meta["article:published_time"] == ["2022-06-13"]
    assert meta["article:tag"] == ["概率", "生成模型"] and meta["twitter:card"] == ["summary"]
    links = {l.get("rel"): l.get("href") for l in head.iter("link")}
    assert links["canonical"] == "https://example.org/blog/archives/9119/"
    assert links["icon"] == "/blog/static/favicon.svg"
    [script] = [s for s in head.iter("script") if s.get("type") == "application/ld+json"]
    data = json.loads(script.text)
    assert data["@type"] == "BlogPosting" and data["headline"] == HOSTILE
    assert data["author"] == {"@type": "Person", "name": "苏剑林"}
    assert data["datePublished"] == "2022-06-13" and data["keywords"] == "概率, 生成模型"
    assert data["url"] == data["mainEntityOfPage"]["@id"] == "https://example.org/blog/archives/9119/"
    assert data["isBasedOn"] == data["sameAs"] == "https://kexue.fm/archives/9119"
    assert data["description"] == meta["description"][0]
    # The hostile title never opened a script of its own.
    assert sum(1 for s in head.iter("script") if "alert(1)" in (s.text or "")) == 1  # only inside the JSON
    assert (built / "static" / "favicon.svg").read_text(encoding="utf-8").startswith("<svg")


def test_a_summary_is_the_description_as_plain_text(built):
    [url] = [p.parent.name for p in (built / "posts").glob("*/index.html")]
    meta = metas(head_of(built, f"posts/{url}/index.html"))
    assert meta["description"] == ["作者写的摘要。"]


def test_list_pages_have_a_description_and_canonical_but_no_article(built):
    home = metas(head_of(built, "index.html"))
    assert home["description"] == ["一个测试站点"] and home["og:type"] == ["website"]
    tag = head_of(built, "tag/概率/index.html")
    meta = metas(tag)
    assert meta["description"] == ["测试站「标签：概率」的文章。一个测试站点"]
    assert "article:tag" not in meta and not [s for s in tag.iter("script") if s.get("type") == "application/ld+json"]
    assert {l.get("rel"): l.get("href") for l in tag.iter("link")}["canonical"] == "https://example.org/blog/tag/%E6%A6%82%E7%8E%87/"


def test_bundled_posts_each_have_their_own_description(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(REPO / "posts", root / "posts")
    (root / "kxsj.yml").write_text((REPO / "kxsj.yml").read_text(encoding="utf-8") + "\nsearch: false\n", encoding="utf-8")
    out = tmp_path / "public"
    assert build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=out)).written
    descriptions = [metas(head_of(out, str(p.relative_to(out))))["description"][0] for p in (out / "archives").glob("*/index.html")]
    assert len(descriptions) == 36 and len(set(descriptions)) == 36
    assert all(10 <= len(d) <= 121 and "<" not in d for d in descriptions)


def test_json_ld_takes_the_pages_description_unescaped():
    from markupsafe import Markup

    from kxsj.config import Config
    from kxsj.model import Post, PostDate
    from kxsj.render.pages import RenderedPost
    from kxsj.render.share import post_share

    post = Post(title="A<B", date=PostDate(None, 3, 4), body="", excerpt="", kind="markdown", url="/posts/a/")
    shared = post_share(RenderedPost(post, "<p>正文</p>", ""), Config(), lambda path: path, Markup("甲 &amp; &lt;乙&gt;"))
    data = json.loads(str(shared["json_ld"]))
    assert data["description"] == shared["description"] == "甲 & <乙>"
    assert "datePublished" not in data and "author" not in data and data["headline"] == "A<B"
    assert post_share(RenderedPost(post, "<p>正文。</p>", ""), Config(), lambda path: path)["description"] == "正文。"
