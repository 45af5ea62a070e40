"""Rendering on several cores gives exactly what one process gives."""

from __future__ import annotations

import os
from pathlib import Path

import threading

import pytest

from kxsj.incremental import page_workers
from kxsj.incremental import workers as parallel
from kxsj.incremental.workers import MIN_PARALLEL, can_fork, render_many
from kxsj.render.context import RenderContext

CTX = RenderContext()


@pytest.fixture(scope="module")
def corpus_texts(shared_dir) -> list[str]:
    texts = []
    for path in sorted((shared_dir / "corpus" / "md").glob("*.md")):
        texts.append(path.read_text(encoding="utf-8").split("---\n", 2)[2])
    assert len(texts) >= MIN_PARALLEL
    return texts


def test_workers_render_what_one_process_renders(corpus_texts):
    serial = render_many(corpus_texts, CTX, workers=1)
    # The pool itself, even if a server thread of another test makes render_many stay serial.
    forked = parallel._start_forked(corpus_texts, CTX, 2)()
    assert list(forked) != [] and set(forked) == set(corpus_texts)
    assert forked == serial


def test_a_text_that_fails_is_left_out_not_fatal(corpus_texts, monkeypatch):
    """The build then renders it once more in-process and reports it with path:line."""
    real = parallel.default_render

    def fragile(context):
        render = real(context)

        def to_html(text: str) -> str:
            if "BROKEN-POST" in text:
                raise ValueError("boom")
            return render(text)

        return to_html

    monkeypatch.setattr(parallel, "default_render", fragile)  # forked workers inherit it
    monkeypatch.setattr(parallel, "_worker_render", None)  # this process's renderer, made anew with it
    texts = corpus_texts[:MIN_PARALLEL] + ["BROKEN-POST $x$"]
    for out in (render_many(texts, CTX, workers=1), parallel._start_forked(texts, CTX, 2)()):
        assert "BROKEN-POST $x$" not in out
        assert set(out) == set(corpus_texts[:MIN_PARALLEL])


def test_no_fork_while_other_threads_run():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
        assert render_many(["$a$ 与 $b$"] * 3, CTX) == {"$a$ 与 $b$": parallel.default_render(CTX)("$a$ 与 $b$")}
    finally:
        stop.set()
        thread.join()


# --------------------------------------------------------------------------
# Pages


def test_pages_rendered_by_several_processes_come_back_in_order():
    makes = [(lambda i=i: f"<p>page {i} {'长' * (i % 7)}</p>".encode()) for i in range(page_workers.MIN_PARALLEL_PAGES + 37)]
    # The pool itself, even if a server thread of another test makes call_all stay serial.
    assert page_workers._call_forked(makes, 3) == [make() for make in makes]


def test_pages_written_to_a_spool_come_back_as_their_files(tmp_path):
    makes = [(lambda i=i: f"<p>page {i}</p>".encode()) for i in range(page_workers.MIN_PARALLEL_PAGES + 5)]
    files = page_workers._call_forked(makes, 2, tmp_path)
    assert all(isinstance(f, str) and Path(f).parent == tmp_path for f in files)
    assert [Path(f).read_bytes() for f in files] == [make() for make in makes]


def test_a_page_that_raises_in_a_worker_raises_in_the_caller():
    def broken() -> bytes:
        raise ValueError("template bug")

    makes = [lambda: b"ok"] * page_workers.MIN_PARALLEL_PAGES + [broken]
    with pytest.raises(ValueError, match="template bug"):
        page_workers._call_forked(makes, 2)


def test_a_site_built_on_several_cores_is_the_site_built_on_one(tmp_site, monkeypatch):
    from kxsj.build import BuildOptions, build_site
    from tests.test_build_incremental import tree

    forked = []
    real = page_workers._call_forked
    monkeypatch.setattr(
        page_workers, "_call_forked", lambda makes, workers, spool=None: forked.append((len(makes), spool)) or real(makes, workers, spool)
    )
    monkeypatch.setattr(page_workers, "can_fork", lambda: True)  # as in a plain `kxsj build`, whatever else this test process runs
    monkeypatch.setattr(page_workers, "MIN_PARALLEL_PAGES", 1)
    monkeypatch.setattr(page_workers, "cores", lambda: 2)
    with open(tmp_site / "kxsj.yml", "a", encoding="utf-8") as f:
        f.write("\nsearch: false\n")
    assert build_site(BuildOptions(tmp_site, tmp_site / "posts", tmp_site / "many")).written
    assert forked and forked[0][0] > 100, "the pages went to the workers"
    assert forked[0][1] is not None, "and came back as spool files"
    assert not [n for n in os.listdir(tmp_site) if ".spool-" in n], "the spool is removed"
    monkeypatch.setattr(page_workers, "cores", lambda: 1)
    assert build_site(BuildOptions(tmp_site, tmp_site / "posts", tmp_site / "one")).written
    assert tree(tmp_site / "many") == tree(tmp_site / "one")


# --------------------------------------------------------------------------
# The helper that gets Markdown ready while a build after an edit loads its posts
#
# The helper is only forked from a process running no other thread, and the
# test process may be running servers by now: each case runs in a fresh
# interpreter, which fails (exit status 1, message on stderr) when a check does.

CASE_PREAMBLE = r"""
import json, os, sys
from pathlib import Path
from kxsj.incremental import workers as parallel
from kxsj.render.context import RenderContext
CTX = RenderContext()

def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

def check(ok, what):
    if not ok:
        sys.exit(what)

case, payload = sys.argv[1], json.loads(sys.stdin.read())
check(parallel.can_fork() and parallel.cores() > 1, "no fork or one core: this cannot be tested here")
"""


def _run_case(script: str, case: str, payload: list[str]) -> None:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", CASE_PREAMBLE + script, case], input=json.dumps(payload), capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


HELPER_CASES = r"""
texts = payload
if case == "build":
    from kxsj.build import BuildOptions, build_site
    site = Path(texts[0])
    options = BuildOptions(site, site / "posts", site / "public")
    check(build_site(options).ok, "first build failed")
    started = []
    real_start = parallel.start_helper
    def start(context):
        real_start(context)
        if parallel._helper is not None:
            started.append(parallel._helper.pid)
    parallel.start_helper = start
    post = sorted((site / "posts").glob("*.txt"))[0]
    post.write_text(post.read_text(encoding="utf-8") + "\n新加的一句，$E=mc^2$。\n", encoding="utf-8")
    check(build_site(options).ok, "edit build failed")
    check(len(started) == 1, "the edit build started no helper")
    check(not alive(started[0]), "the helper outlived the build")
    html = "".join(p.read_text(encoding="utf-8") for p in (site / "public").rglob("*.html"))
    check("新加的一句" in html, "the edited text is not on the site")
    sys.exit(0)
serial = parallel.render_many(texts, CTX, workers=1)
parallel.start_helper(CTX)
helper = parallel._helper
check(helper is not None, "no helper started")
if case == "dead":
    os.kill(helper.pid, 9)
    os.waitpid(helper.pid, 0)
got = parallel.start_render_many(texts, CTX)()
check(got == serial, "the helper's HTML differs from this process's")
check(parallel._helper is None and not alive(helper.pid), "the helper outlived its job")
check(not os.path.exists(helper.folder), "the helper's folder was left behind")
"""


def _helper_case(case: str, payload: list[str]) -> None:
    _run_case(HELPER_CASES, case, payload)


def test_the_helper_renders_what_this_process_renders(corpus_texts):
    _helper_case("few", corpus_texts[:3] + ["BROKEN $x", "$a$ 与 $b$"])


def test_a_dead_helper_means_rendering_here(corpus_texts):
    _helper_case("dead", corpus_texts[:2])


def test_many_texts_go_to_the_pool_and_the_helper_is_stopped(corpus_texts):
    _helper_case("many", corpus_texts)


def test_an_edit_build_uses_the_helper_and_leaves_no_process(tmp_site):
    _helper_case("build", [str(tmp_site)])


# --------------------------------------------------------------------------
# The workers a build from nothing starts before it loads the posts
#
# Like the helper's, each case runs in a fresh interpreter (``_run_case``):
# pools are only started from a process running no other thread.

EARLY_CASES = r"""
if case == "texts":
    texts = payload
    serial = parallel.render_many(texts + ["OFFERED ONLY $x$"], CTX, workers=1)
    parallel.start_early_workers(CTX)
    early = parallel._early
    check(early is not None, "no early workers started")
    pids = early.pool.pids
    parallel.offer_texts(texts[::2] + ["OFFERED ONLY $x$", ""])  # some of them, and one nobody asks for
    got = parallel.start_render_many(texts + texts[:3], CTX)()
    check(got == {t: serial[t] for t in texts}, "the early workers' HTML differs, or an unasked text came back")
    check(parallel._early is None and not parallel._running, "the pool outlived its job")
    check(not any(alive(pid) for pid in pids), "a worker outlived the build")
    sys.exit(0)
from kxsj.build import BuildOptions, build_site
site = Path(payload[0])
started = []
real_start = parallel.start_early_workers
def start(context):
    real_start(context)
    if parallel._early is not None:
        started.append(parallel._early.pool.pids)
parallel.start_early_workers = start
offered = []
real_offer = parallel.offer_texts
def offer(texts):
    texts = list(texts)
    offered.extend(texts)
    real_offer(texts)
parallel.offer_texts = offer
check(build_site(BuildOptions(site, site / "posts", site / "early")).ok, "the build from nothing failed")
check(len(started) == 1, "the build from nothing started no early workers")
check(len(offered) >= 2 * len(list((site / "posts").glob("*.md"))) - 2, "the posts' texts were not offered as they loaded")
check(not any(alive(pid) for pid in started[0]), "a worker outlived the build")
parallel.start_early_workers = lambda context: None
check(build_site(BuildOptions(site, site / "posts", site / "late")).ok, "the build without early workers failed")
def pages(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file() and ".kxsj-cache" not in p.parts}
check(pages(site / "early") == pages(site / "late"), "the early workers changed the site")
sys.exit(0)
"""


def _early_case(case: str, payload: list[str]) -> None:
    _run_case(EARLY_CASES, case, payload)


def test_early_workers_render_what_this_process_renders_and_only_what_is_asked(corpus_texts):
    _early_case("texts", corpus_texts[:40])


def test_a_build_from_nothing_renders_while_it_loads_and_the_site_is_the_same(shared_dir, tmp_path):
    from kxsj.incremental.session import EARLY_WORKERS_FILES

    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    (site / "kxsj.yml").write_text("search: false\n", encoding="utf-8")
    for path in sorted((shared_dir / "corpus" / "md").glob("*.md"))[: EARLY_WORKERS_FILES + 6]:
        (site / "posts" / path.name).write_bytes(path.read_bytes())
    _early_case("build", [str(site)])
