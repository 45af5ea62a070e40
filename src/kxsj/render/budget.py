"""A time budget for rendering one post body: a post over it is reported and left out.

Python-Markdown is pure Python and some inputs are slow in it (a paragraph
of thousands of unclosed ``[text](`` with quotes in them is still
quadratic); one such post must not hang the whole build.  The budget is
``render_timeout`` in ``kxsj.yml`` (seconds, default 10), set once per build
with ``set_budget``; forked render workers inherit it.

It is enforced with ``SIGALRM`` where that exists and the rendering runs on
a process's main thread: ``kxsj build`` (serially and in its workers) and
the first build of ``kxsj serve``.  The dev server's rebuilds run on another
thread, where no signal can interrupt them, and are not limited.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Union

DEFAULT_SECONDS = 10
_seconds: float = DEFAULT_SECONDS
_timed_out: dict[str, float] = {}
"""Texts a worker process gave up on: refused at once here rather than rendered (and waited for) again."""


class RenderTimeout(Exception):
    """A body took longer than the budget to render."""

    def __init__(self, seconds: float):
        super().__init__(f"took longer than {seconds:g} s to render (the `render_timeout` of kxsj.yml); split it, or fix the Markdown that makes it slow")
        self.seconds = seconds


def set_budget(seconds: float) -> None:
    """The budget for every body rendered from now on in this process (and processes forked from it)."""
    global _seconds
    _seconds = float(seconds)


def budget() -> float:
    return _seconds


def enforceable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None = None) -> Iterator[None]:
    """Raise ``RenderTimeout`` in the block once ``seconds`` (default: the budget) have passed."""
    seconds = _seconds if seconds is None else seconds
    if not seconds or seconds <= 0 or not enforceable():
        yield
        return

    def expired(signum, frame):
        raise RenderTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_known(text: str) -> None:
    """Raise ``RenderTimeout`` for a text a worker already ran out of time on."""
    if text in _timed_out:
        raise RenderTimeout(_timed_out[text])


def outcome(render: Callable[[str], str], text: str) -> Union[str, tuple, None]:
    """In a worker: ``render(text)``; ``("timeout", seconds)`` over the budget; None when it raised otherwise."""
    try:
        return render(text)
    except RenderTimeout as exc:
        return ("timeout", exc.seconds)
    except Exception:  # reported with path:line when the build renders it again
        return None


def rendered(texts: Iterable[str], results: Iterable) -> Iterator[tuple[str, str]]:
    """``(text, html)`` of what workers rendered (``outcome``s); texts over the budget are remembered."""
    for text, html in zip(texts, results):
        if isinstance(html, tuple):
            _timed_out[text] = html[1]
        elif html is not None:
            yield text, html
