"""``ForkedPool``: the build's worker processes, stoppable at any moment.

A build interrupted while its workers were sending back large results
(``kill`` of a cold build) once hung in ``multiprocessing.Pool.terminate``,
which waits for a lock a worker holds while it writes.  These cases run in a
fresh interpreter each: forking is only safe from a process running no
other thread, and a hang must end the case, not the test run.
"""

from __future__ import annotations

from test_parallel_render import _run_case

POOL_PREAMBLE = r"""
import random, threading, time
from kxsj.incremental.forked_pool import ForkedPool, WorkerDied, die_with_parent

def big(n):
    return str(n) * 3_000_000  # far more than a pipe holds: the worker is still writing when it is stopped

def boom(n):
    raise ValueError(f"task {n}")

def fail(message):
    sys.exit(message)
"""


def run_case(script: str) -> None:
    _run_case(POOL_PREAMBLE + script, "pool", [])


def test_results_and_exceptions_come_back_as_from_a_call():
    run_case(r"""
with ForkedPool(2, initializer=die_with_parent) as pool:
    jobs = [pool.apply_async(big, (k,)) for k in range(6)]
    failing = pool.apply_async(boom, (7,))
    if [job.get() for job in jobs] != [big(k) for k in range(6)]:
        fail("wrong results")
    try:
        failing.get()
        fail("the task's exception was lost")
    except ValueError as exc:
        if str(exc) != "task 7":
            fail(f"another exception: {exc!r}")
    if pool.apply_async(big, (9,)).get() != big(9):
        fail("a worker was lost after a task raised")
    pids = pool.pids
if any(alive(pid) for pid in pids):
    fail("a worker outlived the pool")
""")


def test_stopping_while_workers_send_large_results_never_hangs():
    run_case(r"""
for attempt in range(40):
    pool = ForkedPool(2, initializer=die_with_parent)
    jobs = [pool.apply_async(big, (k,)) for k in range(8)]
    time.sleep(random.uniform(0.0, 0.05))
    stopper = threading.Thread(target=pool.terminate, daemon=True)
    stopper.start()
    stopper.join(20)
    if stopper.is_alive():
        fail(f"terminate hung (attempt {attempt})")
    if any(alive(pid) for pid in pool.pids):
        fail("a worker outlived terminate")
    for job in jobs:  # every task ends: a result, or the news that the pool stopped
        if not job.ready():
            fail("a task was left waiting for ever")
        try:
            job.get()
        except WorkerDied:
            pass
""")


def test_a_worker_that_dies_fails_its_task_and_the_others_go_on():
    run_case(r"""
import signal
def die(n):
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
with ForkedPool(2, initializer=die_with_parent) as pool:
    doomed = pool.apply_async(die, (0,))
    try:
        doomed.get()
        fail("the dead worker's task gave a result")
    except WorkerDied:
        pass
    if [pool.apply_async(big, (k,)).get() for k in range(3)] != [big(k) for k in range(3)]:
        fail("the other worker's tasks were lost")
    pool.apply_async(die, (1,))
    try:
        pool.apply_async(big, (4,)).get()
        fail("a task ran with no worker left")
    except WorkerDied:  # no worker left: it says so instead of waiting for ever
        pass
""")
