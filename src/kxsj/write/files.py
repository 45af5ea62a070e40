"""Files in the output folder: linking, copying, comparing, listing.

Shared by the two ways of writing the output (``kxsj.write.output`` swaps in
a whole new tree, ``kxsj.write.update`` updates the previous one in place),
and by the caches that link files out of it.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Optional


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (a file of the previous output or the page spool), or a copy where links fail.

    The old output is only ever renamed and removed, never written into, so
    sharing its unchanged files costs no bytes and cannot alter either folder.
    """
    if not try_link(source, target):
        shutil.copy2(source, target)


def same_copy(source: Path, copy: Path) -> bool:
    """Whether ``copy`` is a ``copy2`` of ``source`` still: same size, modification time and bytes.

    The bytes are compared too: the output folder is untrusted input, and
    anyone who can write it can give a planted file the source's size and
    time (the static files are a few megabytes, cheap to read once a build).
    """
    try:
        a, b = source.stat(), copy.lstat()
        if a.st_size != b.st_size or a.st_mtime_ns != b.st_mtime_ns or not stat.S_ISREG(b.st_mode):
            return False
        with open(source, "rb") as f, open(copy, "rb") as g:
            while True:
                chunk = f.read(1 << 20)
                if chunk != g.read(1 << 20):
                    return False
                if not chunk:
                    return True
    except OSError:
        return False


def try_link(source: Path, target: Path) -> bool:
    """Hard-link ``target`` to ``source`` (a file of the previous output); False where links fail."""
    try:
        os.link(source, target)
        return True
    except OSError:
        return False


FOLDER_KEYS = "/"
"""How ``files_below(..., folders=True)`` names folders in ``stats``: ``a/b/``, and ``/`` for ``root`` itself."""


def files_below(root: str, stats: Optional[dict[str, list[int]]] = None, folders: bool = False, file_stats: bool = True) -> list[str]:
    """Every non-folder below ``root``, as ``/``-joined relative paths (symlinks are not followed).

    With ``stats``, each one's ``[size, mtime_ns, ctime_ns, inode]`` goes there too: the
    change time and inode tell a file written since, or put back from an
    archive, even with its old size and modification time.  With
    ``folders``, every folder (empty ones too) goes there as well, named
    as ``FOLDER_KEYS`` says, with ``[]``: a folder's own times change
    whenever an entry is added to it or removed.  With ``file_stats=False``
    files go there with ``[]`` too, unread: for a caller that needs only
    the names.
    """
    out: list[str] = []

    def walk(folder: str, prefix: str) -> None:
        if folders and stats is not None:
            stats[prefix or FOLDER_KEYS] = []
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, rel + "/")
                else:
                    out.append(rel)
                    if stats is not None and file_stats:
                        st = entry.stat(follow_symlinks=False)
                        stats[rel] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
                    elif stats is not None:
                        stats[rel] = []

    if os.path.isdir(root):
        walk(root, "")
    return out
