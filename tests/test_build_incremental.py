"""A build after a small change reuses the previous output's unchanged pages, and is still exact.

``kxsj.incremental.pages`` keys every page by what it is made from; a page
whose key is unchanged is hard-linked from the previous output instead of
rendered.  These tests check the two halves of that promise on real
builds: the output is byte for byte what a build from nothing writes, and
the pages that did not change really were reused (same inode), while
anything that could change every page (a template, the config, a touched
output file) is rendered again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.incremental.store import CACHE_DIR
from tests.test_cache_render import tree

EDITED_POST = "/archives/6409/"
ANCHOR = "本文来给大家分享一下笔者最近的一个工作"


def inodes(folder: Path) -> dict[str, int]:
    """Inode of every HTML page: a reused page keeps the inode of the previous output's file."""
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*.html")}


def build(root: Path, out: str = "public") -> Path:
    report = build_site(BuildOptions(root, root / "posts", root / out))
    assert report.written, [str(d) for d in report.diagnostics]
    return root / out


@pytest.fixture
def site(tmp_site: Path) -> Path:
    with open(tmp_site / "kxsj.yml", "a", encoding="utf-8") as f:
        f.write("\nsearch: false\n")  # Pagefind's files are rebuilt whole; leave them out of the comparison
    return tmp_site


def edit_post(site: Path, words: str) -> None:
    dump = site / "posts" / "001_c2a2170592dad9eb.txt"
    text = dump.read_text(encoding="utf-8")
    assert ANCHOR in text
    dump.write_text(text.replace(ANCHOR, ANCHOR + words, 1), encoding="utf-8")


def test_one_edit_reuses_other_pages_and_matches_a_build_from_nothing(site):
    out = build(site)
    before = inodes(out)
    edit_post(site, "（增补的一句话）")
    build(site)
    after = inodes(out)

    post_page = EDITED_POST.strip("/") + "/index.html"
    assert "增补的一句话" in (out / post_page).read_text(encoding="utf-8")
    assert after[post_page] != before[post_page], "the edited post must be rendered again"
    kept = [p for p in after if before.get(p) == after[p]]
    assert len(kept) >= 0.8 * len(after), f"only {len(kept)} of {len(after)} pages reused"

    fresh = build(site, "fresh")
    assert tree(out) == tree(fresh)


def test_a_touched_output_file_is_rendered_again(site):
    out = build(site)
    page = out / "archives" / "index.html"
    good = page.read_bytes()
    page.write_bytes(b"x" * len(good))  # same size, new mtime: the manifest no longer matches it
    edit_post(site, "（再改一处）")
    build(site)
    assert page.read_bytes() == good


def test_a_template_change_renders_every_page(site):
    out = build(site)
    before = inodes(out)
    from kxsj.assets import shipped_dir

    (site / "templates").mkdir()
    base = (shipped_dir("templates") / "base.html").read_text(encoding="utf-8")
    (site / "templates" / "base.html").write_text(base.replace("</body>", "<!-- 自定义页脚 --></body>"), encoding="utf-8")
    build(site)
    after = inodes(out)
    assert not [p for p in after if before.get(p) == after[p]]
    assert "自定义页脚" in (out / "index.html").read_text(encoding="utf-8")


def test_a_config_change_renders_every_page(site):
    out = build(site)
    before = inodes(out)
    config = site / "kxsj.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("科学空间", "科学空间（镜像）"), encoding="utf-8")
    build(site)
    after = inodes(out)
    assert not [p for p in after if before.get(p) == after[p]]
    assert tree(out) == tree(build(site, "fresh"))


def test_pages_are_never_reused_from_another_output_folder(site):
    build(site)
    edit_post(site, "（第三处）")
    other = build(site, "other")  # a fresh folder: nothing to reuse, everything written
    assert all(os.stat(p).st_nlink == 1 for p in other.rglob("*.html"))
    assert tree(other) == tree(build(site, "fresh"))


def test_reading_counts_travel_with_the_output(site):
    """The cached character counts and reading times are kept, and an edit counts again."""
    out = build(site)
    shards = list((out / CACHE_DIR / "reading").rglob("*.bin"))
    assert shards, "the counts travel with the output"
    edit_post(site, "（又一句）")
    build(site)
    assert tree(out) == tree(build(site, "fresh"))


# --------------------------------------------------------------------------
# Bodies whose HTML a build never reads: pages keyed on the facts of their HTML


def _post(site: Path, name: str, title: str, body: str, year: int) -> None:
    """A Markdown post in a year and under a tag of its own, so no list page or neighbour links two of them."""
    (site / "posts" / name).write_text(
        f"---\ntitle: {title}\nslug: {name[:-3]}\ndate: {year}-01-02\ntags: [测试{year}]\n---\n{body}\n", encoding="utf-8"
    )


@pytest.fixture
def citing_site(site: Path, monkeypatch) -> tuple[Path, list]:
    """The bundled archive plus a post citing another by its title; counts posts whose HTML is deferred."""
    # The mentions are written with an HTML entity: only the rendered HTML names the titles
    # (the Markdown says "&amp;"), so the citing post's own fields (``cites``) do not record
    # them, and only the facts of its HTML can tell its pages to change.
    _post(site, "zz-cited.md", "'被引用 & 文章'", "正文，公式 $e^{i\\pi}+1=0$。", 2001)
    _post(site, "zz-citing.md", "引用者", "参见《被引用 &amp; 文章》与《尚未 &amp; 写出》。\n\n<!--more-->\n\n后文 $x^2$。", 2030)
    deferred: list = []
    import kxsj.render.pages as pages

    real = pages.RenderedPost.later
    monkeypatch.setattr(pages.RenderedPost, "later", classmethod(lambda cls, *a: deferred.append(a[0].title) or real(*a)))
    return site, deferred


def test_a_cited_title_change_relinks_a_page_whose_html_is_not_read_again(citing_site):
    site, deferred = citing_site
    out = build(site)
    citing = "posts/zz-citing/index.html"
    assert "被引用 &amp; 文章</a>》" in (out / citing).read_text(encoding="utf-8")
    edit_post(site, "（无关的改动）")  # a build that keys the citing page on its HTML's facts
    build(site)
    assert "引用者" in deferred
    before = inodes(out)[citing]

    # The citing post's text is unchanged, so its HTML is deferred; the title it cites changes.
    _post(site, "zz-cited.md", "改了名的文章", "正文，公式 $e^{i\\pi}+1=0$。", 2001)
    deferred.clear()
    build(site)
    assert "引用者" in deferred, "the citing post's body should not have been read up front"
    assert "《被引用 &amp; 文章》" in (out / citing).read_text(encoding="utf-8"), "the link to the renamed post must go"
    assert inodes(out)[citing] != before
    assert tree(out) == tree(build(site, "fresh1"))

    # A post with the other cited title appears: the citing page links it, still without re-rendering its body.
    _post(site, "zz-new.md", "'尚未 & 写出'", "新文章。", 2002)
    deferred.clear()
    build(site)
    assert "引用者" in deferred
    assert "尚未 &amp; 写出</a>》" in (out / citing).read_text(encoding="utf-8")
    assert tree(out) == tree(build(site, "fresh2"))


def test_facts_that_do_not_match_the_html_never_reach_a_page(citing_site):
    """Cached facts claiming other HTML (a damaged cache): pages come out right and no page key is kept."""
    from kxsj.incremental.store import _decode_shard, _encode_shard

    site, deferred = citing_site
    out = build(site)
    for shard in (out / CACHE_DIR / "facts").rglob("*.bin"):
        label = f"facts/{shard.parent.name}/{shard.stem}"
        entries = _decode_shard(shard.read_bytes(), label)
        shard.write_bytes(_encode_shard({k: "0" * 64 + v[64:] for k, v in entries.items()}, label))
    edit_post(site, "（改动）")
    build(site)
    assert deferred, "the damaged facts were not used at all"
    assert not (out / CACHE_DIR / "pages.json").exists(), "page keys made from wrong facts were kept"
    assert tree(out) == tree(build(site, "fresh"))
    edit_post(site, "（再改）")  # and the next build, from the repaired facts, is right too
    build(site)
    assert tree(out) == tree(build(site, "fresh2"))


def test_deferred_html_missing_from_the_cache_is_rendered_again(citing_site):
    site, deferred = citing_site
    out = build(site)
    shards = sorted((out / CACHE_DIR / "html").rglob("*.bin"))
    for shard in shards[: len(shards) // 2]:
        shard.unlink()
    (site / "templates").mkdir(exist_ok=True)  # every page rendered again, by the page workers
    (site / "templates" / "404.html").write_text('{% extends "base.html" %}{% block content %}无此页{% endblock %}', encoding="utf-8")
    build(site)
    assert deferred
    assert tree(out) == tree(build(site, "fresh"))


def test_page_keys_tell_every_kind_of_context_value_apart(tmp_path):
    """A page key spells common values directly: no two different values may share a key, equal ones must."""
    from markupsafe import Markup

    from kxsj.model import Post, PostDate
    from kxsj.render.pages import RenderedPost
    from kxsj.incremental.pages import PageStore

    def rendered(title: str) -> RenderedPost:
        post = Post(title=title, date=PostDate(2024, 5, 6), body=f"{title} $x$", excerpt=title, kind="markdown")
        return RenderedPost(post, f"<p>{title}</p>", f"<p>{title}</p>")

    def values() -> list:
        a, b = rendered("甲"), rendered("乙")
        return [
            a, b, a.post, None, "", "a", Markup("a"), "1", 1, True, 1.0, [], (), [a], [b], [a, b], [b, a], [a, None],
            ["a"], ("a",), {"n": 1}, {"n": True}, {"n": "1"}, {"n": None}, {"n": "a"}, {"n": Markup("a")}, [("甲", 1)],
            [(1, [a])], [(1, [b])],
        ]

    store = PageStore(tmp_path, b"site")
    keys = [store.page_key("/p/", "list.html", {"v": v}) for v in values()]
    assert len(set(keys)) == len(keys)
    again = PageStore(tmp_path, b"site")  # the same values made again, as the next build makes them
    assert [again.page_key("/p/", "list.html", {"v": v}) for v in values()] == keys
    assert store.page_key("/q/", "list.html", {"v": None}) != keys[3]
    assert store.page_key("/p/", "list.html", {"w": None}) != keys[3]
