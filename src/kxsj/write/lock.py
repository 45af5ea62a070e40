"""Writing the output safely when more than one thing happens at once, or the disk says no.

``output_lock`` keeps a second build from writing the same output folder
(both failed with raw ``ENOENT``/``EEXIST`` before), ``describe_os_error``
turns an ``OSError`` while writing into a sentence that names the output
folder and the file (a full disk is the common one), and ``current_umask``
gives the mode a new output folder should have.
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class OutputError(Exception):
    """The output folder cannot be used; the message says why and what to do."""


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def describe_os_error(exc: OSError, out: Path) -> str:
    """A sentence for an error while writing the output (never the temporary folder's name alone)."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"the disk is full (or over quota) while writing the site into {out}{where}; free some space and build again — the previous output is unchanged"
    if exc.errno == errno.ENAMETOOLONG:
        return f"a file name is too long for the disk{where}; shorten the tag, category or slug that makes it"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"not allowed to write into {out}{where}: {exc.strerror}; check the folder's permissions"
    return f"cannot write the site into {out}: {exc.strerror or exc}{where}"


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``.NAME.tmp-lock`` beside the output while the build runs; ``OutputError`` when another build holds it.

    Two builds into one folder would each rename the other's work away
    (they failed with raw ``ENOENT``/``EEXIST``).  The lock is ``flock``'s,
    so the system drops it however the build ends; the file is removed by
    its holder when done (a killed build leaves it, and the next one takes
    it over).  A build that locked a file another just removed tries again
    on the new one, so two builds never both hold "the" lock.
    """
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    path = out.parent / f".{out.name}.tmp-lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError(f"another kxsj build is writing {out} right now; wait for it to finish and build again") from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # the file was removed by the build that held it: lock the new one
    try:
        yield
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        os.close(fd)

