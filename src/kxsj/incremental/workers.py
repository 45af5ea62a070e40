"""Rendering many Markdown bodies on every core (pages: ``kxsj.incremental.page_workers``).

Python-Markdown is pure Python, so threads do not help; worker processes
do.  Each worker builds one ``BodyRenderer`` (building it costs more than a
post) and renders chunks of texts sent to it.  Results come back keyed by
text, so the order in which workers finish cannot change the output.

Workers are forked: a forked child starts with kxsj, Markdown and Pygments
already imported, where ``spawn`` would pay a fresh interpreter per worker.
A handful of texts (a build after one edit) go to the *helper*, one process
forked before the posts are loaded that makes its renderer meanwhile (see
``_Helper``); a build from nothing starts its workers before the load and
hands them texts as the files are parsed (``_RenderPool``).  Forking a
process that runs other threads (the dev server) is unsafe, so there, with
one core, or without a helper, a handful of texts is rendered in this
process instead.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import threading
from typing import Any, Callable, ContextManager, Iterable, Mapping, Optional, Union

from kxsj.incremental.forked_pool import ForkedPool, die_with_parent
from kxsj.render.budget import outcome, rendered
from kxsj.render.context import RenderContext

MIN_PARALLEL = 48
"""Fewer texts than this are rendered in-process: starting workers costs more."""
CHUNK = 16
"""Texts per task: large enough to amortise pickling, small enough to balance cores."""

_worker_render: Optional[tuple[RenderContext, Callable[[str], str]]] = None


def default_render(context: RenderContext) -> Callable[[str], str]:
    """The body renderer's Markdown -> HTML with ``context``'s settings."""
    from kxsj.render.markdown import configured_renderer

    renderer = configured_renderer(context)
    return lambda text: renderer.render(text).html


def _renderer(context: RenderContext) -> Callable[[str], str]:
    """This process's renderer for ``context``, made once."""
    global _worker_render
    if _worker_render is None or _worker_render[0] != context:
        _worker_render = (context, default_render(context))
    return _worker_render[1]


def _render_chunk(texts: list[str], context: RenderContext) -> list[Union[str, tuple, None]]:
    """In a worker: each text's HTML, or None when it raised (the build reports it later, serially);
    over the render budget, a note that says so (``kxsj.render.budget.outcome``)."""
    render = _renderer(context)
    return [outcome(render, text) for text in texts]


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def render_many(
    texts: list[str],
    context: RenderContext,
    render: Optional[Callable[[str], str]] = None,
    workers: Optional[int] = None,
) -> dict[str, str]:
    """``{text: html}`` for ``texts``; a text whose rendering raised is left out.

    ``render`` is the in-process renderer (made on first need); ``workers``
    defaults to the number of usable cores.
    """
    workers = workers or cores()
    unique = list(dict.fromkeys(texts))
    if workers > 1 and len(unique) >= MIN_PARALLEL and can_fork():
        return _start_forked(unique, context, workers)()
    render = render or _renderer(context)
    out: dict[str, str] = {}
    for text in unique:
        try:
            out[text] = render(text)
        except Exception:
            pass
    return out


def _start_forked(texts: list[str], context: RenderContext, workers: int) -> Callable[[], dict[str, str]]:
    """Start the workers on ``texts``; the returned function waits for them and gives ``{text: html}``."""
    chunks = -(-len(texts) // CHUNK) or 1
    return _RenderPool(min(workers, chunks), context).render_many(texts)


_running: list = []
"""Pools started by ``start_render_many`` and not yet waited for."""


def stop_workers() -> None:
    """End every background worker (the build calls it however it ends: Ctrl-C, SIGTERM, an error)."""
    global _early, _open
    _stop_helper()
    _early = _open = None  # their pools are in ``_running``
    while _running:
        _running.pop().terminate()


class _Helper:
    """A forked process that gets Markdown ready while the build loads the posts.

    A build after an edit renders one or two texts, but making the renderer
    (importing Markdown, Pygments and the extensions, compiling their
    patterns) costs more than rendering them, and the build would wait for
    it between loading and linking the posts.  ``start_helper`` forks this
    process before the load, so the renderer is made on the other core;
    ``start_render_many`` then hands it its one job, a few texts.  They go
    through a temporary file (a pipe would block the build while the helper
    is still starting); the answer comes back through a pipe.
    """

    def __init__(self, pid: int, requests: int, replies: int, folder: str, context: RenderContext):
        self.pid, self.requests, self.replies, self.folder = pid, requests, replies, folder
        self.context = context
        self.asked = False
        """Whether it has its job: it takes one."""

    def render(self, texts: list[str], typesets: Mapping[str, list[str]]) -> Callable[[], dict[str, str]]:
        self.asked = True
        path = os.path.join(self.folder, "texts.pickle")
        try:
            with open(path, "wb") as f:
                pickle.dump((texts, dict(typesets)), f, protocol=5)
            os.write(self.requests, path.encode() + b"\n")  # short: a pipe takes it at once
        except OSError:  # the helper is gone (or the folder): render here
            return lambda: render_many(texts, self.context, workers=1)

        def collect() -> dict[str, str]:
            try:
                with os.fdopen(os.dup(self.replies), "rb") as reply:
                    size = int.from_bytes(_read_exactly(reply, 8), "little")
                    htmls = pickle.loads(_read_exactly(reply, size)) if size else None
            except (OSError, EOFError, pickle.UnpicklingError):
                htmls = None
            if htmls is None:  # the helper could not make a renderer, or died: render here
                return render_many(texts, self.context, workers=1)
            return dict(rendered(texts, htmls))

        return collect


def _read_exactly(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the Markdown helper process ended early")
    return data


_helper: Optional[_Helper] = None


def _helper_main(requests: int, replies: int, context: RenderContext) -> None:
    """In the helper: make the renderer, then render the texts of the one request; never returns."""
    status = 0
    try:
        die_with_parent()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # whoever reads the build's output waits for no one but the build
            os.dup2(devnull, fd)
        try:
            _renderer(context)  # the point of the helper: made before anything asks
            ready = True
        except Exception:
            ready = False
        with os.fdopen(requests, "rb") as ask, os.fdopen(replies, "wb") as answer:
            path = ask.readline().rstrip(b"\n").decode()
            if path:  # empty: the build ended without a job for the helper
                with open(path, "rb") as f:
                    texts, typesets = pickle.load(f)
                with _reusing(typesets):  # Empty: no renderer here, the build renders the texts itself.
                    data = pickle.dumps(_render_chunk(texts, context), protocol=5) if ready else b""
                answer.write(len(data).to_bytes(8, "little") + data)
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def start_helper(context: RenderContext) -> None:
    """Fork the Markdown helper (see ``_Helper``) where forking is safe and a second core exists."""
    global _helper
    if _helper is not None or cores() < 2 or not can_fork():
        return
    import tempfile

    folder = tempfile.mkdtemp(prefix="kxsj-render-")
    requests_r, requests_w = os.pipe()
    replies_r, replies_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(requests_w)
        os.close(replies_r)
        _helper_main(requests_r, replies_w, context)
    os.close(requests_r)
    os.close(replies_w)
    _helper = _Helper(pid, requests_w, replies_r, folder, context)


def _stop_helper() -> None:
    global _helper
    helper, _helper = _helper, None
    if helper is None:
        return
    import shutil
    import signal

    for fd in (helper.requests, helper.replies):
        os.close(fd)
    try:
        os.kill(helper.pid, signal.SIGKILL)
        os.waitpid(helper.pid, 0)
    except OSError:
        pass
    shutil.rmtree(helper.folder, ignore_errors=True)


class _RenderPool:
    """Forked Markdown workers, given chunks of texts; ``render_many`` says which texts the build wants.

    A build from nothing renders every text, and its load (reading and
    parsing every file) kept one core busy
    while the other waited for the whole archive.  So such a build starts
    the pool before loading (``start_early_workers``) and ``offer`` hands it
    each parsed post's texts.  Only a few chunks are queued at a time: the
    texts still waiting when ``render_many`` is called join the rest longest
    first, so no core is left with one big post at the end.  A text offered
    but not asked for (a draft left out) costs a render, never a wrong
    page: only texts asked for are given back.
    """

    def __init__(self, workers: int, context: RenderContext):
        self.context = context
        self.pool = ForkedPool(workers, initializer=die_with_parent)
        _running.append(self.pool)
        self.queued_limit = 2 * workers
        self.sent: set[str] = set()
        self.waiting: list[str] = []
        self.chunks: list[tuple[list[str], Any]] = []
        self._finished = 0
        """Chunks before this index are done: the rest are queued or rendering."""

    def _send(self, chunk: list[str]) -> None:
        try:
            self.chunks.append((chunk, self.pool.apply_async(_render_chunk, (chunk, self.context))))
        except BaseException:
            stop_workers()
            raise

    def _queued(self) -> int:
        while self._finished < len(self.chunks) and self.chunks[self._finished][1].ready():
            self._finished += 1
        return len(self.chunks) - self._finished

    def offer(self, texts: Iterable[str]) -> None:
        for text in texts:
            if text and text not in self.sent:
                self.sent.add(text)
                self.waiting.append(text)
        while len(self.waiting) >= CHUNK and self._queued() < self.queued_limit:
            self._send(self.waiting[:CHUNK])
            del self.waiting[:CHUNK]

    def render_many(self, texts: list[str]) -> Callable[[], dict[str, str]]:
        """Render ``texts`` (those offered are rendering or waiting); the returned function waits and gives ``{text: html}``.

        Until one of the functions returned has been called, more texts can
        be asked for (``start_render_many`` sends them here); each call
        waits for every chunk sent, then ends the workers.
        """
        global _open
        _open = self
        wanted = set(texts)
        rest = [text for text in texts if text not in self.sent]
        self.sent.update(rest)
        order = sorted(self.waiting + rest, key=len, reverse=True)  # longest first
        self.waiting = []
        for i in range(0, len(order), CHUNK):
            self._send(order[i : i + CHUNK])

        def collect() -> dict[str, str]:
            out: dict[str, str] = {}
            try:
                for chunk, result in list(self.chunks):
                    for text, html in rendered(chunk, result.get()):
                        if text in wanted:
                            out[text] = html
            finally:
                stop_workers()  # workers gone (and their threads here joined) before anything forks again
            return out

        return collect


_early: Optional[_RenderPool] = None
_open: Optional[_RenderPool] = None
"""The pool asked for texts and not yet waited for: it takes more."""


def start_early_workers(context: RenderContext) -> None:
    """Start the Markdown workers now, for a build that will render every text (see ``_RenderPool``)."""
    global _early
    if _early is None and cores() > 1 and can_fork():
        _early = _RenderPool(cores(), context)


def offer_texts(texts: Iterable[str]) -> None:
    """Texts the build is about to ask for: the early workers, if started, begin on them."""
    if _early is not None:
        _early.offer(texts)


def _reusing(typesets: Optional[Mapping[str, list[str]]]) -> ContextManager[None]:
    """``kxsj.render.mathbuild.reused_typesets`` for the renders inside (the forks made inside inherit them)."""
    if not typesets:
        return contextlib.nullcontext()
    from kxsj.render.mathbuild import reused_typesets

    return reused_typesets(typesets)


def start_render_many(
    texts: list[str], context: RenderContext, workers: Optional[int] = None, typesets: Optional[Mapping[str, list[str]]] = None,
) -> Callable[[], dict[str, str]]:
    """``render_many`` in the background: returns at once with a function that waits for the result.

    The build starts the workers as soon as the posts are loaded and links
    the posts to each other (the enrich stage) while they render.  A few
    texts go to the helper when one was started (``start_helper``); all go
    to the early workers when they were (``start_early_workers``).
    Without workers (one core, threads running) it renders right away.
    ``typesets`` are an edited post's formulas typeset before
    (``kxsj.incremental.typesets``), for whichever process renders it.
    Texts asked for while a pool still renders the first ones go to that
    pool (forked earlier, it has no typesets for them); while the helper
    has its one job, they are rendered here.
    """
    global _early
    workers = workers or cores()
    unique = list(dict.fromkeys(texts))
    if _early is not None and _early.context == context:
        early, _early = _early, None
        return early.render_many(unique)
    if _open is not None and _open.context == context:  # asked again before the first were waited for
        return _open.render_many(unique)
    busy = _helper is not None and _helper.asked  # its one job is still to be collected: left alone
    if busy:
        with _reusing(typesets):
            done = render_many(unique, context, workers=1)
        return lambda: done
    if workers > 1 and len(unique) >= MIN_PARALLEL and can_fork():
        _stop_helper()  # the pool's workers take both cores
        with _reusing(typesets):
            return _start_forked(unique, context, workers)
    if _helper is not None and _helper.context == context and unique:
        collect = _helper.render(unique, typesets or {})

        def finish() -> dict[str, str]:
            try:
                return collect()
            finally:
                _stop_helper()

        return finish
    _stop_helper()
    with _reusing(typesets):
        done = render_many(unique, context, workers=1)
    return lambda: done
