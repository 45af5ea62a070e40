"""A build after a small change reuses the previous output's unchanged pages, and is still exact.

``kxsj.render.pagestore`` keys every page by what it is made from; a page
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
from kxsj.render.cache import CACHE_DIR
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


def test_reading_counts_are_kept_under_a_key_of_the_counting_code(site):
    """The cached character counts and reading times change key with the code that counts them."""
    from kxsj.render.cache import _PACKAGE_DIR, READING_MODULE, renderer_sources

    names = {p.relative_to(_PACKAGE_DIR).as_posix() for p in renderer_sources(start=READING_MODULE)}
    assert {"enrich/reading.py", "mathscan.py", "__init__.py"} <= names
    out = build(site)
    shards = list((out / CACHE_DIR / "reading").rglob("*.bin"))
    assert shards, "the counts travel with the output"
    edit_post(site, "（又一句）")
    build(site)
    assert tree(out) == tree(build(site, "fresh"))
