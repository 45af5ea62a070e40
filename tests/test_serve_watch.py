"""When the dev server's watcher hands a save over: as soon as the files are whole.

The quiet time in these tests is made long (seconds), so "handed over
before the quiet time" cannot be luck, and nothing here measures speed.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from kxsj.serve.watch import ChangeBatcher, watch_site

LONG_QUIET = 4.0


def _take_in_thread(batcher: ChangeBatcher) -> tuple[threading.Thread, dict]:
    out: dict = {}
    stop = threading.Event()

    def run() -> None:
        out["paths"] = batcher.take(stop)
        out["at"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_a_settled_burst_is_handed_over_without_the_quiet_wait():
    batcher = ChangeBatcher(quiet=LONG_QUIET, longest=2 * LONG_QUIET)
    thread, out = _take_in_thread(batcher)
    start = time.monotonic()
    batcher.add([Path("/site/posts/a.md")])  # written ...
    batcher.add([Path("/site/posts/a.md")], settled=True)  # ... and closed
    thread.join(LONG_QUIET / 2)
    assert not thread.is_alive(), "a closed file waited for the quiet time"
    assert out["paths"] == {Path("/site/posts/a.md")}
    assert out["at"] - start < LONG_QUIET / 2


def test_a_burst_with_an_unsettled_path_waits_for_quiet():
    """vim renames post.md away before writing it again: the rename alone is not a finished save."""
    batcher = ChangeBatcher(quiet=1.0, longest=10.0)
    thread, out = _take_in_thread(batcher)
    start = time.monotonic()
    batcher.add([Path("/site/posts/b.md")], settled=True)  # another file of the save, whole
    batcher.add([Path("/site/posts/a.md")])  # a.md moved away to a.md~
    thread.join(0.5)
    assert thread.is_alive(), "handed over while a.md was missing"
    thread.join(5)
    assert out["paths"] == {Path("/site/posts/a.md"), Path("/site/posts/b.md")}
    assert out["at"] - start >= 1.0


def test_closing_the_new_file_settles_a_path_moved_away_before():
    batcher = ChangeBatcher(quiet=LONG_QUIET, longest=2 * LONG_QUIET)
    thread, out = _take_in_thread(batcher)
    batcher.add([Path("/site/posts/a.md")])  # moved away
    batcher.add([Path("/site/posts/a.md")])  # created again, written
    batcher.add([Path("/site/posts/a.md")], settled=True)  # closed
    thread.join(LONG_QUIET / 2)
    assert not thread.is_alive()
    assert out["paths"] == {Path("/site/posts/a.md")}


def _watched(tmp_path: Path) -> tuple[ChangeBatcher, object, Path]:
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text("---\ntitle: A\n---\nbody\n", encoding="utf-8")
    batcher = ChangeBatcher(quiet=LONG_QUIET, longest=2 * LONG_QUIET)
    watcher = watch_site(tmp_path, posts, lambda p: p.suffix == ".md", batcher)
    time.sleep(0.2)  # the observer's watches are in place
    return batcher, watcher, posts


def test_an_in_place_save_is_handed_over_at_its_close(tmp_path):
    batcher, watcher, posts = _watched(tmp_path)
    try:
        thread, out = _take_in_thread(batcher)
        start = time.monotonic()
        (posts / "a.md").write_text("---\ntitle: A\n---\nnew body\n", encoding="utf-8")
        thread.join(LONG_QUIET / 2)
        assert not thread.is_alive(), "the close event did not end the burst"
        assert out["paths"] == {(posts / "a.md")}
        assert out["at"] - start < LONG_QUIET / 2
    finally:
        watcher.stop()


def test_a_save_by_rename_into_place_is_handed_over_at_the_rename(tmp_path):
    batcher, watcher, posts = _watched(tmp_path)
    try:
        thread, out = _take_in_thread(batcher)
        tmp = posts / ".a.md.tmp"
        tmp.write_text("---\ntitle: A\n---\nnew body\n", encoding="utf-8")
        os.replace(tmp, posts / "a.md")
        thread.join(LONG_QUIET / 2)
        assert not thread.is_alive(), "the rename into place did not end the burst"
        assert out["paths"] == {(posts / "a.md")}
    finally:
        watcher.stop()
