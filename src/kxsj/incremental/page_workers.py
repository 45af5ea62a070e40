"""Rendering many pages on every core: ``call_all``.

Jinja is pure Python, so threads do not help; forked worker processes do.
The page functions close over the whole site in memory, which a forked
worker inherits as it is: nothing is pickled but the results.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional, Union

from kxsj.incremental.forked_pool import ForkedPool, die_with_parent
from kxsj.incremental.workers import can_fork, cores


MIN_PARALLEL_PAGES = 200
"""Fewer pages than this are rendered in-process: forking costs more."""

_makes: Optional[list[Callable[[], bytes]]] = None
_spool: Optional[str] = None


def _call_slice(k: int, n: int) -> list[Union[bytes, str, None]]:
    """In a worker (or the parent): every ``n``-th page from the ``k``-th; None where one raised.

    With a spool folder, each page is written there (file ``<index>``) and
    its path given instead of its bytes.
    """
    out: list[Union[bytes, str, None]] = []
    makes = _makes or []
    for i in range(k, len(makes), n):
        try:
            content = makes[i]()
        except Exception:  # raised again, with its real traceback, when the parent renders it
            out.append(None)
            continue
        if _spool is None:
            out.append(content)
            continue
        path = os.path.join(_spool, str(i))
        with open(path, "wb") as f:
            f.write(content)
        out.append(path)
    return out


def call_all(
    makes: list[Callable[[], bytes]], workers: Optional[int] = None, spool: Optional[Path] = None
) -> list[Union[bytes, str]]:
    """``[make() for make in makes]``, spread over every core.

    The page functions close over the whole site in memory, which a forked
    worker inherits as it is: nothing is pickled but the results.
    Pages are dealt out in turn (page ``i`` to worker ``i mod n``), so each
    worker gets the same mix of post and list pages; this process renders
    one share itself.  A page that raised in a worker is rendered again here,
    so its exception reaches the caller as if rendered serially.

    With ``spool`` (a folder), the workers write each page there and the
    result is its file's path: a large site's pages then never all sit in
    memory at once, nor travel through a pipe.
    """
    workers = workers or cores()
    if workers < 2 or len(makes) < MIN_PARALLEL_PAGES or not can_fork():
        return [make() for make in makes]
    return _call_forked(makes, workers, spool)


def _call_forked(makes: list[Callable[[], bytes]], workers: int, spool: Optional[Path] = None) -> list[Union[bytes, str]]:
    global _makes, _spool
    _makes, _spool = makes, (str(spool) if spool is not None else None)
    try:
        with ForkedPool(workers - 1, initializer=die_with_parent) as pool:
            pending = [pool.apply_async(_call_slice, (k, workers)) for k in range(1, workers)]
            shares = [_call_slice(0, workers)] + [r.get() for r in pending]
    finally:
        _makes = _spool = None
    out: list[Union[bytes, str, None]] = [None] * len(makes)
    for k, share in enumerate(shares):
        out[k::workers] = share
    return [content if content is not None else makes[i]() for i, content in enumerate(out)]
