"""Caching only saves time: turning it off, or deleting the cache folder, changes no output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from kxsj.build import BuildOptions, build_site
from kxsj.incremental.store import CACHE_DIR


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*") if p.is_file() and CACHE_DIR not in p.parts
    }


def build(site: Path, out: str, cache: bool = True) -> dict[str, bytes]:
    report = build_site(BuildOptions(site, site / "posts", site / out, cache=cache))
    assert report.ok, [str(d) for d in report.diagnostics]
    return tree(site / out)


def edit(site: Path) -> None:
    """A new Markdown post beside the dumps: every list page showing it changes."""
    (site / "posts" / "new.md").write_text(
        "---\ntitle: 新的一篇\ndate: 2024-05-06\ntags: [测试]\n---\n\n又加了一句，$\\alpha+\\beta$。\n", encoding="utf-8"
    )


def test_a_build_without_cache_is_the_build_with_it(tmp_site):
    (tmp_site / "kxsj.yml").write_text((tmp_site / "kxsj.yml").read_text(encoding="utf-8") + "\nsearch: false\n", encoding="utf-8")
    cached = build(tmp_site, "public")
    assert (tmp_site / "public" / CACHE_DIR).is_dir()
    plain = build(tmp_site, "plain", cache=False)
    assert not (tmp_site / "plain" / CACHE_DIR).exists(), "--no-cache writes no cache"
    assert plain == cached
    edit(tmp_site)  # a build over the caches after an edit, against one without any
    assert build(tmp_site, "public") == build(tmp_site, "plain", cache=False)
    shutil.rmtree(tmp_site / "public" / CACHE_DIR)
    assert build(tmp_site, "public") == build(tmp_site, "plain", cache=False)


def test_no_cache_on_the_command_line(tmp_site):
    (tmp_site / "kxsj.yml").write_text((tmp_site / "kxsj.yml").read_text(encoding="utf-8") + "\nsearch: false\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "kxsj", "build", "--root", str(tmp_site), "--no-cache"], capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_site / "public" / "index.html").is_file()
    assert not (tmp_site / "public" / CACHE_DIR).exists()
