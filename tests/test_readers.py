"""Front-matter keys documented and used (issue 20): 「N位读者」 where the count is
known, ``series:`` from front matter, every key the loader reads in the README."""

from __future__ import annotations

import re
from pathlib import Path

from kxsj.build import BuildOptions, build_site
from kxsj.load import load_posts
from kxsj.load.markdown_posts import _FM_KEYS

REPO = Path(__file__).resolve().parents[1]


def _post(site: Path, name: str, front: str, body: str = "正文。\n") -> None:
    (site / "posts").mkdir(parents=True, exist_ok=True)
    (site / "posts" / name).write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")


def test_every_front_matter_key_is_documented_in_the_readme():
    readme = REPO.joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split("Every front-matter key", 1)[1].split("\n\n**", 1)[0]
    documented = set(re.findall(r"`(\w+)`", section))
    assert _FM_KEYS <= documented, _FM_KEYS - documented


def test_reader_count_on_the_post_page_and_in_lists(tmp_path):
    site = tmp_path / "site"
    _post(site, "a.md", "title: 有读者\ndate: 2024-01-01\nslug: a\nreaders: 1234")
    _post(site, "b.md", "title: 没有读者数\ndate: 2024-01-02\nslug: b")
    report = build_site(BuildOptions(root=site, posts_dir=site / "posts", out_dir=site / "public", strict=True))
    assert report.ok, [str(d) for d in report.diagnostics]
    page = (site / "public/posts/a/index.html").read_text(encoding="utf-8")
    assert page.count("1234位读者") == 1
    assert "位读者" not in (site / "public/posts/b/index.html").read_text(encoding="utf-8")
    home = (site / "public/index.html").read_text(encoding="utf-8")
    assert home.count("位读者") == 1 and "1234位读者" in home


def test_dump_byline_readers_are_kept(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "d.txt").write_text(
        "Whitening论文\nBy 苏剑林 | 2021-04-11 | 141,741位读者 | 引用一月份的时候……\n", encoding="utf-8")
    result = load_posts(posts)
    assert [p.readers for p in result.posts] == [141741]


def test_bad_readers_and_series_values_warn_with_their_line(tmp_path):
    site = tmp_path / "site"
    _post(site, "a.md", "title: 坏值\ndate: 2024-01-01\nreaders: 很多\nseries: [1, 2]")
    result = load_posts(site / "posts")
    messages = [(d.line, d.level, d.message.split(" ")[0]) for d in result.diagnostics]
    assert (4, "warning", "`readers`") in messages and (5, "warning", "`series`") in messages
    assert result.posts[0].readers is None


def test_series_from_front_matter(tmp_path):
    site = tmp_path / "site"
    _post(site, "a.md", "title: 生成扩散模型漫谈（三）：DDIM\ndate: 2024-01-03\nseries: 扩散漫谈")
    _post(site, "b.md", "title: 另一篇\ndate: 2024-01-01\nseries: {name: 扩散漫谈, number: 1}")
    _post(site, "c.md", "title: 没编号的\ndate: 2024-01-02\nseries: 随想")
    posts = {p.title: p.series for p in load_posts(site / "posts").posts}
    assert (posts["生成扩散模型漫谈（三）：DDIM"].name, posts["生成扩散模型漫谈（三）：DDIM"].number) == ("扩散漫谈", 3)
    assert (posts["另一篇"].name, posts["另一篇"].number) == ("扩散漫谈", 1)
    assert (posts["没编号的"].name, posts["没编号的"].number) == ("随想", 0)
    report = build_site(BuildOptions(root=site, posts_dir=site / "posts", out_dir=site / "public", strict=True))
    assert report.ok, [str(d) for d in report.diagnostics]
    page = next((site / "public/posts").glob("*/index.html"))
    pages = {p.parent.name: p.read_text(encoding="utf-8") for p in (site / "public/posts").glob("*/index.html")}
    assert any("系列「<a" in t and "随想</a>」的一篇" in t for t in pages.values()), page
