"""The built site from constructed posts: every page kind, links, pagination,
undated posts, feed, sitemap, escaping, citation, sub-path hosting."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.model import Post, PostDate, Series, SourceRef
from kxsj.render.citation import cite
from kxsj.config import Config

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
EVIL = "<script>alert(1)</script>"


def make_post(n: int, date: PostDate, **kw) -> Post:
    kw.setdefault("title", f"第{n}篇文章")
    kw.setdefault("body", f"正文{n}：公式 $x_{{{n}}}$ 和\n\n$$\\sum_{{i=1}}^{{{n}}} i$$")
    kw.setdefault("excerpt", f"摘要{n}")
    kw.setdefault("url", f"/archives/{n}/")
    kw.setdefault("original_id", n)
    kw.setdefault("source", [SourceRef(f"posts/{n}.md", 1)])
    return Post(date=date, kind=kw.pop("kind", "markdown"), **kw)


def sample_posts() -> list[Post]:
    posts = [make_post(100 + i, PostDate(2020, 1 + i % 12, 1 + i), tags=["数学"], categories=["数学研究"]) for i in range(21)]
    posts += [
        make_post(
            8757,
            PostDate(2021, 11, 15),
            title="WGAN新方案：通过梯度归一化来实现L约束",
            kind="dump",
            has_more=True,
            tags=["GAN", "生成模型"],
            categories=["信息时代"],
            original_url="https://kexue.fm/archives/8757",
        ),
        make_post(9119, PostDate(2022, 6, 13), title="扩散（一）", series=Series("生成扩散模型漫谈", 1), tags=["扩散"]),
        make_post(9152, PostDate(2022, 7, 6), title="扩散（二）", series=Series("生成扩散模型漫谈", 2), tags=["扩散"]),
        make_post(1, PostDate(None, 3, 4), title="不知哪年的文章", url="/posts/不知哪年/", original_id=None, slug="不知哪年"),
        make_post(2, PostDate(2023, 5, 5), title=EVIL, tags=[EVIL, "a/b", ".."], url="/posts/evil/", original_id=None),
    ]
    return posts


def build(tmp_path: Path, posts=None, **options):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True, exist_ok=True)
    (root / "kxsj.yml").write_text("title: 测试站\nauthor: 苏剑林\npage_size: 10\nsearch: false\n", encoding="utf-8")
    out = tmp_path / "public"
    report = build_site(
        BuildOptions(root=root, posts_dir=root / "posts", out_dir=out, **options),
        posts=sample_posts() if posts is None else posts,
    )
    assert report.written, report.diagnostics
    return out, report


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def links_of(path: Path) -> list[str]:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.links


def file_for(out: Path, link: str, prefix: str) -> Path:
    assert link.startswith(prefix), f"{link} is not under {prefix}"
    rel = unquote(urlsplit(link[len(prefix):]).path)
    target = out / rel
    return target / "index.html" if link.endswith("/") or not rel else target


def html_pages(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.html") if "static" not in p.relative_to(out).parts]


def text(out: Path, site_path: str) -> str:
    return file_for(out, site_path, "/").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build(tmp_path_factory.mktemp("pages"))


def test_every_page_kind_exists(site):
    out, report = site
    for path in [
        "/", "/page/2/", "/page/3/", "/archives/8757/", "/posts/不知哪年/", "/tags/", "/tag/数学/",
        "/tag/数学/page/2/", "/categories/", "/category/数学研究/", "/archives/", "/date/2020/",
        "/date/2020/01/", "/date/undated/", "/series/生成扩散模型漫谈/", "/feed.xml", "/sitemap.xml",
        "/robots.txt", "/404.html",
    ]:
        assert file_for(out, path, "/").is_file(), path
    assert (out / ".kxsj-output").is_file()
    assert (out / "static/mathjax/tex-chtml-full.js").is_file()
    assert (out / "static/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff").is_file()
    assert report.posts == 26 and report.ok


def test_every_internal_link_and_asset_resolves(site):
    out, _ = site
    checked = 0
    for page in html_pages(out):
        for link in links_of(page):
            if link.startswith("/"):
                assert file_for(out, link, "/").is_file(), f"{page}: broken link {link}"
                checked += 1
            else:
                assert link.startswith(("https://", "data:", "#")), f"{page}: unexpected link {link}"
    assert checked > 500


def test_home_is_paginated_newest_first_with_every_post_once(site):
    out, _ = site
    titles = []
    for path in ["/", "/page/2/", "/page/3/"]:
        titles += re.findall(r'<h2 class="post-title"><a href="[^"]+">([^<]+)</a>', text(out, path))
    assert len(titles) == 26 and len(set(titles)) == 26
    assert titles[0] == "&lt;script&gt;alert(1)&lt;/script&gt;"  # 2023, the newest
    assert titles[-1] == "不知哪年的文章"  # unknown year goes last, not dropped
    assert 'rel="next" href="/page/2/"' in text(out, "/")
    assert 'rel="prev" href="/"' in text(out, "/page/2/")
    assert not (out / "page/4").exists()


def test_home_card_has_date_categories_tags_excerpt_and_read_more(site):
    out, _ = site
    home = text(out, "/page/2/") + text(out, "/")
    card = re.search(r'<article class="post-card">(?:(?!</article>).)*WGAN新方案(?:(?!</article>).)*</article>', home, re.S).group(0)
    assert '<time datetime="2021-11-15">2021年11月15日</time>' in card
    assert "信息时代" in card and "#GAN" in card and "摘要8757" in card
    assert '点击阅读全文' in card and 'href="/archives/8757/"' in card
    no_more = re.search(r'<article class="post-card">(?:(?!</article>).)*扩散（二）(?:(?!</article>).)*</article>', home, re.S).group(0)
    assert "点击阅读全文" not in no_more


def test_post_page_has_neighbours_series_original_and_citation(site):
    out, _ = site
    page = text(out, "/archives/9152/")
    assert "上一篇：<a href=\"/archives/9119/\">扩散（一）</a>" in page
    assert "下一篇：<a href=\"/posts/evil/\">" in page
    assert 'href="/series/%E7%94%9F%E6%88%90%E6%89%A9%E6%95%A3%E6%A8%A1%E5%9E%8B%E6%BC%AB%E8%B0%88/"' in page
    assert re.search(r'<li value="1"><a href="/archives/9119/">扩散（一）</a>', page)
    assert '<div class="arithmatex">' in page and '<span class="arithmatex">' in page
    dump = text(out, "/archives/8757/")
    assert "本页只收录了文章的摘录" in dump and 'href="https://kexue.fm/archives/8757"' in dump
    assert "苏剑林. (Nov. 15, 2021). 《WGAN新方案：通过梯度归一化来实现L约束》[Blog post]. Retrieved from https://kexue.fm/archives/8757" in dump
    assert "@online{kexuefm-8757," in dump and "url={\\url{https://kexue.fm/archives/8757}}," in dump
    undated = text(out, "/posts/不知哪年/")
    assert "03月04日（年份不详）" in undated and "本页只收录" not in undated


def test_citation_matches_the_original_sites_format():
    post = make_post(8757, PostDate(2021, 11, 15), title="WGAN新方案：通过梯度归一化来实现L约束",
                     original_url="https://kexue.fm/archives/8757")
    c = cite(post, Config(author="苏剑林"))
    assert c.text == "苏剑林. (Nov. 15, 2021). 《WGAN新方案：通过梯度归一化来实现L约束》[Blog post]. Retrieved from https://kexue.fm/archives/8757"
    assert c.bibtex == (
        "@online{kexuefm-8757,\n"
        "        title={WGAN新方案：通过梯度归一化来实现L约束},\n"
        "        author={苏剑林},\n"
        "        year={2021},\n"
        "        month={Nov},\n"
        "        url={\\url{https://kexue.fm/archives/8757}},\n"
        "}"
    )
    own = cite(make_post(5, PostDate(2020, 5, 3), url="/posts/x/", original_id=None, slug="x", author="某人"),
               Config(base_url="https://example.org/blog/"))
    assert own.text.startswith("某人. (May. 03, 2020).") and own.url == "https://example.org/blog/posts/x/"


def test_undated_posts_have_their_own_listing(site):
    out, _ = site
    archives = text(out, "/archives/")
    assert re.search(r'<a href="/date/undated/">年份不详</a> <span class="count">\(1\)</span>', archives)
    assert '<a href="/date/2020/">2020年</a> <span class="count">(21)</span>' in archives
    assert "不知哪年的文章" in text(out, "/date/undated/")
    year = text(out, "/date/2020/")
    assert year.count("<li><time") == 21 and 'href="/date/2020/01/"' in year


def test_tag_and_category_indexes_have_counts(site):
    out, _ = site
    tags = text(out, "/tags/")
    assert '<a href="/tag/%E6%95%B0%E5%AD%A6/">数学</a> <span class="count">(21)</span>' in tags
    assert '<span class="count">(2)</span>' in tags  # 扩散
    assert '<a href="/category/%E6%95%B0%E5%AD%A6%E7%A0%94%E7%A9%B6/">数学研究</a>' in text(out, "/categories/")


def test_script_in_title_and_tag_is_escaped_everywhere(site):
    out, _ = site
    for path in [*html_pages(out), out / "feed.xml", out / "sitemap.xml"]:
        assert "<script>alert" not in path.read_text(encoding="utf-8"), path
    # Hostile tag names become safe folder names inside the output.
    names = {p.name for p in (out / "tag").iterdir()}
    assert {"-script-alert(1)-script-", "a-b", "-"} <= names


def test_feed_is_atom_and_sitemap_lists_every_page(site):
    out, _ = site
    feed = ET.parse(out / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}updated").text == "2023-05-05T00:00:00Z"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 20  # feed_size; the undated post cannot be dated
    assert entries[0].find(f"{ATOM}title").text == EVIL  # escaped in XML, intact once parsed
    # Formulas reach the feed as MathML with their TeX (kxsj.render.mathbuild.feed_body).
    assert '<annotation encoding="application/x-tex">\\sum_{i=1}^{9152} i</annotation>' in entries[1].find(f"{ATOM}content").text
    locs = {loc.text for loc in ET.parse(out / "sitemap.xml").getroot().iter(f"{SITEMAP}loc")}
    pages = {"/" + str(p.relative_to(out).parent).removeprefix(".") for p in html_pages(out) if p.name == "index.html"}
    pages.discard("/search")  # a search page is not content to crawl
    assert {unquote(loc) for loc in locs} == {p.rstrip("/") + "/" for p in pages}
    assert "Sitemap: /sitemap.xml" in text(out, "/robots.txt")


def test_sub_path_site_links_under_the_base_path_and_feeds_absolute(tmp_path):
    base = "https://user.github.io/repo/"
    out, _ = build(tmp_path, base_url=base)
    checked = 0
    for page in html_pages(out):
        for link in links_of(page):
            if link.startswith(("#", "data:", "https://kexue.fm")):
                continue
            if link.startswith(base):  # the canonical link is absolute, and must be under base_url too
                link = "/repo/" + link[len(base):]
            assert file_for(out, link, "/repo/").is_file(), f"{page}: {link}"
            checked += 1
    assert checked > 500
    feed = ET.parse(out / "feed.xml").getroot()
    for link in feed.iter(f"{ATOM}link"):
        assert link.get("href").startswith(base)
    for entry in feed.iter(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}id").text.startswith(base)
    for loc in ET.parse(out / "sitemap.xml").getroot().iter(f"{SITEMAP}loc"):
        assert loc.text.startswith(base)
    assert f"Sitemap: {base}sitemap.xml" in (out / "robots.txt").read_text(encoding="utf-8")
    assert "No base_url" not in (out / "feed.xml").read_text(encoding="utf-8")


def test_bad_or_clashing_post_urls_are_reported_not_written(tmp_path):
    posts = [
        make_post(3, PostDate(2020, 1, 1)),
        make_post(4, PostDate(2020, 1, 2), url="/archives/3/"),
        make_post(5, PostDate(2020, 1, 3), url="/date/2020/"),
        make_post(6, PostDate(2020, 1, 4), url="/posts/../../etc/"),
    ]
    out, report = build(tmp_path, posts=posts)
    messages = [str(d) for d in report.diagnostics]
    assert any("posts/4.md:1: error:" in m and "same URL /archives/3/" in m for m in messages)
    assert any("posts/5.md:1: error:" in m and "'/date/2020/'" in m for m in messages)
    assert any("posts/6.md:1: error:" in m for m in messages)
    assert report.posts == 1 and report.ok  # non-strict: the bad posts are left out, the site is built
    assert "第3篇文章" in text(out, "/archives/3/") and "第5篇文章" not in text(out, "/date/2020/")


def test_a_post_that_fails_to_render_does_not_stop_the_others(tmp_path):
    def to_html(markdown_text):
        if "炸" in markdown_text:
            raise ValueError("boom")
        return f"<p>{markdown_text}</p>"

    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "kxsj.yml").write_text("search: false\n", encoding="utf-8")
    posts = [make_post(7, PostDate(2020, 1, 1), body="炸"), make_post(8, PostDate(2020, 1, 2))]
    report = build_site(BuildOptions(root, root / "posts", tmp_path / "out"), to_html=to_html, posts=posts)
    assert [str(d) for d in report.diagnostics if d.level != "info"] == [
        "posts/7.md:1: error: could not render «第7篇文章» (ValueError: boom); the post is left out of the site"
    ]
    assert report.written and report.ok and report.posts == 1  # non-strict: reported, left out, built
    assert (tmp_path / "out/archives/8/index.html").is_file()
    assert not (tmp_path / "out/archives/7").exists()
    assert "第7篇文章" not in (tmp_path / "out/index.html").read_text(encoding="utf-8")


def test_mathjax_from_a_url_is_used_and_the_vendored_copy_left_out(tmp_path):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "kxsj.yml").write_text("search: false\nmathjax: https://cdn.example.org/mathjax/tex-chtml.js\n", encoding="utf-8")
    out = tmp_path / "public"
    report = build_site(BuildOptions(root, root / "posts", out), posts=[make_post(3, PostDate(2020, 1, 1))])
    assert report.ok
    page = (out / "archives/3/index.html").read_text(encoding="utf-8")
    assert 'src="https://cdn.example.org/mathjax/tex-chtml.js"' in page
    assert 'data-mathjax="remote"' in page  # the config then loads [tex]/textmacros itself
    assert not (out / "static/mathjax").exists() and (out / "static/js/mathjax-config.js").is_file()


def test_a_sites_own_templates_and_static_files_override_the_shipped_ones(tmp_path):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "static/css").mkdir(parents=True)
    (root / "kxsj.yml").write_text("search: false\n", encoding="utf-8")
    (root / "templates/404.html").write_text('{% extends "base.html" %}{% block content %}自己的404{% endblock %}', encoding="utf-8")
    (root / "static/css/site.css").write_text("body { color: red; }", encoding="utf-8")
    out = tmp_path / "public"
    assert build_site(BuildOptions(root, root / "posts", out), posts=[make_post(3, PostDate(2020, 1, 1))]).ok
    assert "自己的404" in (out / "404.html").read_text(encoding="utf-8")
    assert (out / "static/css/site.css").read_text(encoding="utf-8") == "body { color: red; }"
    assert (out / "static/css/pygments.css").is_file()  # the rest still comes from kxsj


def test_a_broken_site_template_is_a_message_not_a_traceback(tmp_path):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "kxsj.yml").write_text("search: false\n", encoding="utf-8")
    (root / "templates/404.html").write_text("{% block content %}\n{% if %}\n", encoding="utf-8")
    report = build_site(BuildOptions(root, root / "posts", tmp_path / "public"), posts=[make_post(3, PostDate(2020, 1, 1))])
    assert not report.ok and not report.written
    [diag] = [d for d in report.diagnostics if d.level == "error"]
    assert diag.path.endswith("404.html") and diag.line == 2 and "template error" in diag.message


def test_a_post_card_made_once_is_the_card_the_macro_makes_on_every_list_page(tmp_path, monkeypatch):
    """List pages take each post's card from one rendering of the ``post_card`` macro per post."""
    from kxsj.render import pages

    made = []
    real = pages._Site.post_card

    def counted(self, rp):
        made.append(id(rp))
        return real(self, rp)

    monkeypatch.setattr(pages._Site, "post_card", counted)
    once, _ = build(tmp_path / "once")
    assert len(made) > len(sample_posts()) * 2, "each post is on several list pages"

    def every_time(self, rp):
        return self.env.get_template("_macros.html").module.post_card(rp)

    monkeypatch.setattr(pages._Site, "post_card", every_time)
    each, _ = build(tmp_path / "each")
    assert {p.relative_to(once): p.read_bytes() for p in html_pages(once)} == {
        p.relative_to(each): p.read_bytes() for p in html_pages(each)
    }
    assert sum(1 for p in html_pages(once) if 'class="post-card"' in p.read_text(encoding="utf-8")) > 5
