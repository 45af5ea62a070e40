"""Forked worker processes that can be stopped at any moment: ``ForkedPool``.

``multiprocessing.Pool`` shares locks between its workers: one guards the
task queue, one the result queue.  ``Pool.terminate`` first asks the
workers to finish and only then kills them, so a worker caught writing a
large result (a chunk of rendered pages, more than a pipe holds) when the
build is interrupted holds the result queue's lock while nobody reads any
more, and ``terminate`` waits for that lock for ever: a ``kill`` of the
build then hung it.  Here each worker has a pipe of its own and shares no
lock, so stopping is plain: SIGKILL every worker and reap it.

Tasks wait in this process and a *pump* thread hands each one to an idle
worker and takes the results, so the workers keep busy while the build's
own thread does other work.  A worker that dies fails its task (the
caller's ``get`` raises); the others go on.  ``die_with_parent`` is the
initializer kxsj's pools give their workers.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import deque
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any, Callable, Optional


class WorkerDied(RuntimeError):
    """A worker ended (killed, out of memory) before it gave its task's result."""


class Job:
    """One task's result, when ready: ``ready()`` and ``get()`` as ``multiprocessing``'s ``AsyncResult``."""

    def __init__(self, fn: Callable, args: tuple):
        self.fn, self.args = fn, args
        self._done = threading.Event()
        self._value: Any = None
        self._error: Optional[BaseException] = None

    def _finish(self, value: Any = None, error: Optional[BaseException] = None) -> None:
        self._value, self._error = value, error
        self._done.set()

    def ready(self) -> bool:
        return self._done.is_set()

    def get(self) -> Any:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


def _worker_main(conn: Connection, initializer: Optional[Callable[[], None]]) -> None:
    """In a worker: run each task received, send back ``(ok, value)``; never returns."""
    status = 0
    try:
        if initializer is not None:
            initializer()
        while True:
            task = conn.recv()
            if task is None:
                break
            fn, args = task
            try:
                reply = (True, fn(*args))
            except Exception as exc:
                reply = (False, exc)
            try:
                conn.send(reply)
            except Exception as exc:  # the result or its exception does not pickle
                conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    except BaseException:
        status = 1
    finally:
        os._exit(status)


class ForkedPool:
    """``processes`` forked workers, each made ready by ``initializer``; ``apply_async`` queues a task."""

    def __init__(self, processes: int, initializer: Optional[Callable[[], None]] = None):
        self._queue: deque[Job] = deque()
        self._lock = threading.Lock()
        self._stopping = False
        self._workers: dict[int, Connection] = {}  # pid -> this end of its pipe
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        try:
            for _ in range(max(1, processes)):
                mine, theirs = Pipe(duplex=True)
                pid = os.fork()
                if pid == 0:
                    for conn in (mine, *self._workers.values()):
                        conn.close()
                    _worker_main(theirs, initializer)
                self._workers[pid] = mine
                theirs.close()  # so that a worker's death reads as end of file here
        except BaseException:
            self.terminate()
            raise
        self._pump = threading.Thread(target=self._run_pump, name="kxsj-pool", daemon=True)
        self._pump.start()

    @property
    def pids(self) -> list[int]:
        return list(self._workers)

    def apply_async(self, fn: Callable, args: tuple = ()) -> Job:
        job = Job(fn, args)
        with self._lock:
            if self._stopping:
                raise RuntimeError("the pool is stopped")
            self._queue.append(job)
        self._wake()
        return job

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):  # full: the pump is awake already; closed: stopped
            pass

    def _run_pump(self) -> None:
        busy: dict[Connection, Job] = {}
        try:
            self._pump_until_stopped(busy)
        finally:  # stopped, or a bug here: no caller may wait for ever
            with self._lock:
                left = [*busy.values(), *self._queue]
                self._queue.clear()
            for job in left:
                if not job.ready():
                    job._finish(error=WorkerDied("the pool was stopped"))

    def _pump_until_stopped(self, busy: dict[Connection, Job]) -> None:
        idle = list(self._workers.values())
        while True:
            with self._lock:
                if self._stopping:
                    return
                while idle and self._queue:
                    conn, job = idle.pop(), self._queue.popleft()
                    try:
                        conn.send((job.fn, job.args))
                        busy[conn] = job
                    except OSError:  # that worker is gone
                        job._finish(error=WorkerDied("a worker ended before it took its task"))
                if not idle and not busy:  # every worker is gone: no task can run
                    for job in self._queue:
                        job._finish(error=WorkerDied("no worker left"))
                    self._queue.clear()
            for ready in wait([self._wake_r, *busy]):
                if ready == self._wake_r:
                    os.read(self._wake_r, 4096)
                    continue
                job = busy.pop(ready)
                try:
                    ok, value = ready.recv()
                except (OSError, EOFError):
                    job._finish(error=WorkerDied("a worker ended before it gave its result"))
                    continue
                except Exception as exc:  # a whole message that does not unpickle: the worker goes on
                    ok, value = False, exc
                job._finish(value=value) if ok else job._finish(error=value)
                idle.append(ready)

    def terminate(self) -> None:
        """Kill every worker, reap it, stop the pump: safe at any moment (an interrupt), and again.

        Takes no lock: the interrupt it cleans up after may have come while
        this thread held one.
        """
        self._stopping = True
        for pid in self._workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in self._workers:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self._wake()
        pump = getattr(self, "_pump", None)
        if pump is not None and pump is not threading.current_thread():
            pump.join()
        for conn in self._workers.values():
            conn.close()
        self._workers = {}
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = -1

    def __enter__(self) -> "ForkedPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.terminate()


def die_with_parent() -> None:
    """A pool initializer: a worker ends the moment the build process does.

    A build killed by a signal (SIGTERM while it renders) must leave no
    worker running, nor one printing a broken-pipe traceback as it tries to
    hand back a result nobody reads.  Linux delivers SIGKILL to the worker
    when its parent dies (``PR_SET_PDEATHSIG``); elsewhere the pool's own
    cleanup still ends workers whenever the build exits normally.

    Ctrl-C reaches the whole process group; workers ignore it and leave it
    to the build, which stops them (``ForkedPool.terminate``), so a worker
    never dies half-way through sending its result.  A forked worker inherits the build's SIGTERM handler, which turns it
    into an interrupt for the build's own cleanup: a worker takes it as
    plain death again.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(0)
