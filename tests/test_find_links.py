"""Restored 《…》 links: found in the text, never inside math, code or links,
and shown both ways on the built bundled archive (link and "被引用")."""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import REPO
from kxsj.build import BuildOptions, build_site, markdown_renderer
from kxsj.enrich.links import TitleLinker, mentions, restore_citations, title_key
from kxsj.model import Post, PostDate

DDPM1 = "生成扩散模型漫谈（一）：DDPM = 拆楼 + 建楼"


def post(url: str, title: str, body: str = "", year: int = 2022) -> Post:
    return Post(title=title, date=PostDate(year, 1, 1), body=body, excerpt="", kind="markdown", url=url)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """The repo's bundled archive, built once without a search index (not tested here)."""
    where = tmp_path_factory.mktemp("links")
    root = where / "site"
    shutil.copytree(REPO / "posts", root / "posts")
    config = (REPO / "kxsj.yml").read_text(encoding="utf-8") if (REPO / "kxsj.yml").is_file() else ""
    (root / "kxsj.yml").write_text(config + "\nsearch: false\n", encoding="utf-8")
    out = where / "public"
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=out))
    assert report.written, [str(d) for d in report.diagnostics]
    return out


def page(out, url: str) -> str:
    return (out / url.strip("/") / "index.html").read_text(encoding="utf-8")


def test_titles_match_after_nfkc_and_without_spaces():
    assert title_key("生成扩散模型漫谈(一):DDPM = 拆楼 + 建楼") == title_key(DDPM1)
    assert title_key("Ａ Ｂ") == "AB"
    assert title_key("扩散（一）") != title_key("扩散（二）")


def test_mentions_skip_math_and_code():
    body = "见《甲》与 $《乙》$ 和 `《丙》`\n\n```\n《丁》\n```\n\n\\begin{equation}《戊》\\end{equation}\n\n还有《己\\*》"
    assert mentions(body) == ["甲", "己*"]


def test_dump_links_ddpm2_to_ddpm1_and_ddpm1_lists_it_as_citing(bundled):
    ddpm2 = page(bundled, "/archives/9152/")
    link = re.search(r'在文章《<a class="post-ref" href="([^"]+)"[^>]*>([^<]+)</a>》中', ddpm2)
    assert link, "the 《…》 mention in （二） is not linked"
    assert link.group(1) == "/archives/9119/"
    assert link.group(2) == "生成扩散模型漫谈(一):DDPM = 拆楼 + 建楼"  # the text as written stays
    ddpm1 = page(bundled, "/archives/9119/")
    backlinks = re.search(r'<section class="backlinks".*?</section>', ddpm1, re.S)
    assert backlinks and "被引用" in backlinks.group(0)
    assert '<a href="/archives/9152/">生成扩散模型漫谈（二）：DDPM = 自回归式VAE</a>' in backlinks.group(0)
    # A post nobody cites has no empty section.
    assert 'class="backlinks"' not in page(bundled, "/archives/9969/")


def test_unknown_titles_stay_plain_text(bundled):
    wgan = page(bundled, "/archives/8757/")
    assert "《Gradient Normalization for Generative Adversarial Networks》" in wgan
    assert 'class="post-ref"' not in wgan


def test_rendered_html_is_linked_outside_math_code_and_links_only():
    posts = [post("/archives/1/", "甲：一"), post("/archives/2/", "A&B")]
    linker = TitleLinker(posts, lambda url: "/repo" + url)
    to_html = markdown_renderer()  # the default settings: math: browser
    html = linker.link(to_html(
        "看《甲:一》和《A&B》。$《甲：一》$ `《甲：一》` [《甲：一》](http://x)\n\n"
        "$$\\text{《甲：一》}$$\n\n<pre>《甲：一》</pre>\n\n<!-- 《甲：一》 -->"
    ))
    assert html.count('class="post-ref"') == 2, html
    assert '《<a class="post-ref" href="/repo/archives/1/" title="甲：一">甲:一</a>》' in html
    assert '《<a class="post-ref" href="/repo/archives/2/" title="A&amp;B">A&amp;B</a>》' in html
    assert '<span class="arithmatex">\\(《甲：一》\\)</span>' in html
    assert "<code>《甲：一》</code>" in html and '<a href="http://x">《甲：一》</a>' in html
    assert "<pre>《甲：一》</pre>" in html and "<!-- 《甲：一》 -->" in html


def test_html_naming_no_archive_post_is_returned_as_is():
    linker = TitleLinker([post("/archives/1/", "甲")], lambda url: url)
    for html in ("", "<p>无书名号</p>", "<p>《乙》与《甲 乙》</p><code>《甲》</code>", "<p>《甲\n》《》《丙</p>"):
        assert linker.link(html) == html
    assert linker.link("<p>《甲》</p><code>《甲》</code>").count('class="post-ref"') == 1


def test_citations_both_ways_without_self_or_repeats():
    a = post("/archives/1/", "甲", "《乙》《乙》《甲》《丙》", year=2023)
    b = post("/archives/2/", "乙", "《丙》", year=2022)
    c = post("/archives/3/", "丙", "", year=2021)
    restore_citations([a, b, c])
    assert [r.url for r in a.cites] == ["/archives/2/", "/archives/3/"]
    assert [r.url for r in c.cited_by] == ["/archives/1/", "/archives/2/"]  # newest first
    assert a.cited_by == [] and [r.title for r in b.cited_by] == ["甲"]


def test_citations_only_outside_math_and_code_and_through_markdown_escapes():
    a = post("/archives/1/", "甲", "$《乙》$ `《乙》` 《丙\\*》 《无此文》", year=2023)
    b = post("/archives/2/", "乙")
    c = post("/archives/3/", "丙*")
    d = post("/archives/4/", "丁", "没有书名号")
    restore_citations([a, b, c, d])
    assert [r.url for r in a.cites] == ["/archives/3/"]
    assert b.cited_by == [] and [r.url for r in c.cited_by] == ["/archives/1/"] and d.cites == []


def test_series_page_lists_parts_by_number_and_names_the_gaps(bundled):
    series = (bundled / "series" / "生成扩散模型漫谈" / "index.html").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r'<li value="(\d+)">', series)]
    assert numbers == [1, 2, 6, 9, 15]
    assert "本站收录了这个系列的 5 篇文章" in series and "未收录第 3、4、5、7、8、10、11、12、13、14 篇" in series


def test_post_page_shows_series_parts_related_and_reading_time(bundled):
    ddpm6 = page(bundled, "/archives/9228/")
    box = re.search(r'<nav class="series".*?</nav>', ddpm6, re.S).group(0)
    assert '<li value="2"><a href="/archives/9152/">生成扩散模型漫谈（二）：DDPM = 自回归式VAE</a></li>' in box
    assert '<li value="9"><a href="/archives/9257/">生成扩散模型漫谈（九）：条件控制生成结果</a></li>' in box
    related = re.search(r'<section class="related".*?</section>', ddpm6, re.S).group(0)
    assert 1 <= related.count("<li>") <= 5 and "/archives/9152/" not in related
    assert re.search(r'<p class="reading-info" data-pagefind-ignore>本页摘录 [\d,]+ 字，阅读约 \d+ 分钟</p>', ddpm6)


def test_links_to_the_original_sites_posts_go_to_the_local_page():
    here = post("/archives/8265/", "博采众长")
    here.original_id = 8265
    linker = TitleLinker([here], lambda url: "/repo" + url, "https://kexue.fm/")
    html = linker.link(markdown_renderer()(
        "见[《博采众长》](https://kexue.fm/archives/8265)、[旧址](http://www.kexue.fm/archives/8265/#comments)、"
        "[不在此](https://kexue.fm/archives/1)、[别站](https://spaces.ac.cn.example/archives/8265)"
    ))
    assert '<a href="/repo/archives/8265/">《博采众长》</a>' in html
    assert '<a href="/repo/archives/8265/#comments">旧址</a>' in html
    assert 'href="https://kexue.fm/archives/1"' in html
    assert 'href="https://spaces.ac.cn.example/archives/8265"' in html
    # Without the setting nothing is rewritten.
    plain = TitleLinker([here], lambda url: url).link('<a href="https://kexue.fm/archives/8265">x</a>')
    assert plain == '<a href="https://kexue.fm/archives/8265">x</a>'
    # Only an href attribute: not one whose name merely ends so.
    other = '<a xhref="https://kexue.fm/archives/8265" data-x="1">x</a>'
    assert linker.link(other) == other


def test_archive_links_are_part_of_the_page_key():
    here = post("/archives/8265/", "博采众长")
    here.original_id = 8265
    linker = TitleLinker([here], lambda url: url, "https://kexue.fm")
    from kxsj.enrich.links import html_mention_keys

    keys = html_mention_keys('<a href="https://kexue.fm/archives/8265">x</a>')
    assert linker.targets(keys) == [("@https://kexue.fm/archives/8265", "/archives/8265/", "博采众长")]
