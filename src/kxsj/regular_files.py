"""Reading a file only when it is a regular one: no FIFO or device is ever opened.

A FIFO in ``posts/`` would block the build forever and ``/dev/zero`` never
ends.  Kept apart from the load stage so the build stamp can hash sources
without importing the loaders (a build with nothing to do imports little).
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Optional

MAX_BYTES = 10 * 1024 * 1024
"""Largest file read: ten times the longest post in the archive's history."""


def kind_of_mode(mode: int) -> Optional[str]:
    """None for a regular file, else what it is (``a FIFO``, ``a socket``…)."""
    if stat.S_ISREG(mode):
        return None
    for test, what in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return what
    return "not a regular file"


def not_regular(path) -> Optional[str]:
    """None when ``path`` (symlinks followed) is a regular file, else why it must not be read.

    A FIFO blocks the reader forever, ``/dev/zero`` never ends: only regular
    files are ever opened.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if exc.errno == errno.ENOENT:
            return "broken symlink"
        return f"cannot read ({exc.strerror or exc})"
    what = kind_of_mode(mode)
    return f"{what}, not a regular file" if what else None


def read_regular(path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the regular file ``path``.

    Opened without blocking and checked on the open descriptor, so a file
    swapped for a FIFO or a device after it was listed is still never read.
    Raises ``OSError`` (``EINVAL`` with a message for a non-regular file).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        what = kind_of_mode(os.fstat(fd).st_mode)
        if what:
            raise OSError(errno.EINVAL, f"{what}, not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
