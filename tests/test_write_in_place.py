"""Updating the previous output in place is still all or nothing (``kxsj.write.update``).

An in-place update moves only the files that changed.  These tests cut the
commit short at every one of its steps — by an exception, and by a real
``SIGKILL`` of a forked writer — and check that the output is then exactly
the previous site (at once, or after the next build's ``clean_stale``), and
that a completed update is exactly the new site: removed pages gone with
their folders, foreign files gone, a file that became a folder handled.
"""

from __future__ import annotations

import os
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.write import update
from kxsj.write.output import MARKER, clean_stale, write_output
from tests.test_atomic_output import tree_digest
from tests.test_cache_render import tree


class _Page:
    def __init__(self, path: str, content: bytes):
        self.path, self.content = path, content


OLD_SITE = {"/": b"home v1", "/a/": b"page a", "/b/": b"page b", "/gone/deep/": b"will be removed", "/feed.xml": b"feed v1"}
NEW_SITE = {"/": b"home v2", "/a/": b"page a", "/b/": b"page b, edited", "/c/": b"new page", "/feed.xml": b"feed v2"}


def pages(site: dict[str, bytes]) -> list[_Page]:
    return [_Page(path, content) for path, content in site.items()]


@pytest.fixture
def outputs(tmp_path: Path) -> tuple[Path, dict, dict]:
    """``public/`` holding OLD_SITE, with the digests of OLD_SITE and NEW_SITE written from nothing."""
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_text("body{}", encoding="utf-8")
    fresh_old, fresh_new = tmp_path / "fresh-old", tmp_path / "fresh-new"
    write_output(pages(OLD_SITE), fresh_old, static_dirs=[static])
    write_output(pages(NEW_SITE), fresh_new, static_dirs=[static])
    out = tmp_path / "public"
    write_output(pages(OLD_SITE), out, static_dirs=[static])
    (out / "stray.txt").write_text("not made by this build", encoding="utf-8")
    return out, tree_digest(fresh_old), tree_digest(fresh_new)


def update_to_new(out: Path) -> int:
    return write_output(pages(NEW_SITE), out, static_dirs=[out.parent / "static"], in_place=True)


def beside(out: Path) -> list[str]:
    return sorted(n for n in os.listdir(out.parent) if n.startswith(".public."))


def test_an_update_in_place_gives_the_new_site_and_keeps_unchanged_files(outputs):
    out, _, new = outputs
    kept_inode = (out / "a" / "index.html").stat().st_ino
    update_to_new(out)
    assert tree_digest(out) == new  # the stray file and the emptied folders are gone too
    assert (out / "a" / "index.html").stat().st_ino == kept_inode  # same bytes: not rewritten
    assert beside(out) == []


@contextmanager
def moves_cut(at: Optional[int], cut: Callable[[], None]) -> Iterator[list]:
    """Count the update's renames; before rename number ``at``, call ``cut`` (once)."""
    real, done = os.replace, []

    def hooked(a, b):
        if len(done) == at:
            done.append(None)  # once: a rollback's own renames go through
            cut()
        done.append(a)
        return real(a, b)

    update.os.replace = hooked
    try:
        yield done
    finally:
        update.os.replace = real


def count_moves(out: Path) -> int:
    """How many renames a full update makes (each one a point where it can be cut)."""
    with moves_cut(None, lambda: None) as done:
        update_to_new(out)
    return len(done)


def interrupt() -> None:
    raise KeyboardInterrupt("cut")


def test_an_exception_at_any_step_of_the_commit_rolls_back(outputs, tmp_path):
    out, old, new = outputs
    pristine = tmp_path / "pristine"
    shutil.copytree(out, pristine)
    moves = count_moves(out)
    assert moves >= 5
    for cut in range(moves):
        shutil.rmtree(out)
        shutil.copytree(pristine, out)
        before = tree_digest(out)
        with moves_cut(cut, interrupt), pytest.raises(KeyboardInterrupt):
            update_to_new(out)
        assert tree_digest(out) == before, f"cut after {cut} moves"
        assert beside(out) == []


def test_a_sigkill_at_any_step_of_the_commit_is_rolled_back_by_the_next_build(outputs, tmp_path):
    out, old, new = outputs
    pristine = tmp_path / "pristine"
    shutil.copytree(out, pristine)
    moves = count_moves(out)
    for cut in range(moves + 1):
        shutil.rmtree(out)
        shutil.copytree(pristine, out)
        before = tree_digest(out)
        pid = os.fork()
        if pid == 0:  # the writer: killed for real before rename number ``cut``
            try:
                with moves_cut(cut, lambda: os.kill(os.getpid(), signal.SIGKILL)):
                    update_to_new(out)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        if cut < moves:
            assert killed, f"the writer was not killed at move {cut}"
            journals = [n for n in beside(out) if ".commit-" in n]
            assert len(journals) == 1, beside(out)
        clean_stale(out)
        assert beside(out) == []
        assert tree_digest(out) == (before if cut < moves else new), f"killed after {cut} moves"
        update_to_new(out)  # and the next update completes from there
        assert tree_digest(out) == new


def test_a_file_that_becomes_a_folder_swaps_a_whole_tree(tmp_path):
    out = tmp_path / "public"
    write_output(pages({"/": b"home", "/x": b"a file"}), out)
    write_output(pages({"/": b"home", "/x/": b"now a folder"}), out, in_place=True)
    fresh = tmp_path / "fresh"
    write_output(pages({"/": b"home", "/x/": b"now a folder"}), fresh)
    assert tree_digest(out) == tree_digest(fresh)
    assert beside(out) == []


def test_a_failed_update_before_the_commit_leaves_the_output_alone(outputs):
    out, old, _ = outputs
    before = tree_digest(out)

    def broken():
        yield _Page("/b/", b"changed")
        raise RuntimeError("a page failed")

    with pytest.raises(RuntimeError):
        write_output(broken(), out, static_dirs=[out.parent / "static"], in_place=True)
    assert tree_digest(out) == before and beside(out) == []
    write_output(pages(NEW_SITE), out, static_dirs=[out.parent / "static"], in_place=True, commit=False)
    assert tree_digest(out) == before and beside(out) == []


def test_builds_that_remove_posts_and_change_tags_match_a_build_from_nothing(tmp_site):
    with open(tmp_site / "kxsj.yml", "a", encoding="utf-8") as f:
        f.write("\nsearch: false\n")

    def build(out: str = "public") -> Path:
        report = build_site(BuildOptions(tmp_site, tmp_site / "posts", tmp_site / out))
        assert report.written, [str(d) for d in report.diagnostics]
        return tmp_site / out

    out = build()
    (tmp_site / "posts" / "004_fa7e09c3e1d840c4.txt").unlink()  # a whole dump: its posts' pages go
    meta = tmp_site / "posts" / "meta.yml"
    text = meta.read_text(encoding="utf-8")
    assert "信息时代" in text
    assert '"GAN", "生成模型"' in text
    text = text.replace("信息时代", "信息时代（改名）")  # the category's folder moves
    text = text.replace('"GAN", "生成模型"', '"GAN", "对抗"', 1)  # one post's tags change: related posts change
    meta.write_text(text, encoding="utf-8")
    build()
    fresh = build("fresh")
    assert tree(out) == tree(fresh)
    assert not [n for n in os.listdir(tmp_site) if n.startswith(".public.")]
    assert (out / MARKER).is_file()


def test_a_listing_by_name_reads_no_file_status(tmp_path):
    """``files_below(..., file_stats=False)``, the write stage's walk of the previous output: names, folders, no status."""
    from kxsj.write.files import FOLDER_KEYS, files_below

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "x.html").write_text("x", encoding="utf-8")
    (tmp_path / "top.txt").write_text("t", encoding="utf-8")
    named: dict[str, list[int]] = {}
    assert sorted(files_below(str(tmp_path), named, folders=True, file_stats=False)) == ["a/x.html", "top.txt"]
    assert named == {FOLDER_KEYS: [], "a/": [], "a/b/": [], "a/x.html": [], "top.txt": []}
    statted: dict[str, list[int]] = {}
    files_below(str(tmp_path), statted, folders=True)
    assert statted.keys() == named.keys() and len(statted["top.txt"]) == 4
