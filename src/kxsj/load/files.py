"""Finding and reading the files in ``posts/`` without ever raising.

Old Chinese archives come as GBK, scrapes pick up binaries and empty files,
symlinks point anywhere: every such file gets a ``path:line`` diagnostic that
says how to fix it, and the rest of the archive still loads.
"""

from __future__ import annotations

import errno
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from kxsj.model import Diagnostic
from kxsj.regular_files import MAX_BYTES, kind_of_mode, not_regular, read_regular  # noqa: F401 - where the loaders find them

POST_SUFFIXES = (".txt", ".md", ".markdown")


def display_path(path: Path) -> str:
    """A path as a person wants to read it: relative to the current folder when that is short."""
    text = os.fspath(path)
    folder, name = os.path.split(text)
    try:
        # A build asks for 1,400 files in a few folders: each folder is worked
        # out once.  Joining the name on is exact for a folder inside the
        # current one; above it, relpath may fold the name into a ``..``.
        rel = None
        if name not in ("", ".", ".."):
            base = _relative_folder(folder, os.getcwd())
            if base == ".":
                rel = name
            elif not base.startswith(".."):
                rel = os.path.join(base, name)
        if rel is None:
            rel = os.path.relpath(text)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("../../..") else str(path)


@functools.lru_cache(maxsize=256)
def _relative_folder(folder: str, cwd: str) -> str:
    """``os.path.relpath(folder)`` from ``cwd``."""
    return os.path.relpath(folder or os.curdir, cwd)


@dataclass
class TextFile:
    path: Path
    shown: str  # display path used in messages and ``source``
    text: str


def iter_post_files(posts_dir: Path, root: Path, diags: list[Diagnostic]) -> Iterator[Path]:
    """Dump and Markdown files below ``posts_dir``, sorted, links outside ``root`` skipped.

    Hidden files and folders (``.git``, editor temp files like ``.#post.md``)
    are skipped: editors write them on every save.  Walks with ``os.scandir``,
    whose entries know their type without another ``stat``: ``kxsj serve``
    walks the folder after every save.
    """
    try:
        root_real = root.resolve()
    except OSError:
        root_real = root
    found: list[tuple[tuple[str, ...], str]] = []
    _walk(str(posts_dir), (), root_real, found, diags)
    found.sort()  # by path components, as sorting the Paths would
    return iter([Path(path) for _, path in found])


def _walk(folder: str, parts: tuple[str, ...], root_real: Path, found: list, diags: list[Diagnostic]) -> None:
    """One folder's post files into ``found``, then its sub-folders in name order."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError as exc:  # an unreadable folder: its posts must not vanish silently
        diags.append(Diagnostic(display_path(Path(folder)), 0, "warning", f"cannot read this folder ({exc.strerror or exc}); its posts were not loaded — check its permissions"))
        return
    subfolders = []
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            if entry.is_symlink():
                diags.append(Diagnostic(display_path(Path(entry.path)), 0, "warning", "symlinked folder not followed; copy its posts into posts/ instead"))
            else:
                subfolders.append(entry)
            continue
        if name.endswith("~") or not name.lower().endswith(POST_SUFFIXES):
            continue
        if entry.is_symlink() and not _inside_link(Path(entry.path), root_real, diags):
            continue
        problem = not_regular(entry.path)
        if problem:
            diags.append(Diagnostic(display_path(Path(entry.path)), 0, "warning", f"{problem}; skipped"))
            continue
        found.append((parts + (name,), entry.path))
    for entry in sorted(subfolders, key=lambda e: e.name):
        _walk(entry.path, parts + (entry.name,), root_real, found, diags)


def _inside_link(path: Path, root_real: Path, diags: list[Diagnostic]) -> bool:
    """Whether the symlink ``path`` resolves to a file inside the site (else a warning says why not)."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        diags.append(Diagnostic(display_path(path), 0, "warning", "symlink loop skipped"))
        return False
    except OSError as exc:
        what = "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
        diags.append(Diagnostic(display_path(path), 0, "warning", f"{what} skipped"))
        return False
    if not _is_within(target, root_real):
        diags.append(Diagnostic(display_path(path), 0, "warning", f"symlink to {target}, outside the site, not followed; copy the file into the site instead"))
        return False
    return True


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, symlinks resolved, is inside ``root`` (resolved too)."""
    try:
        return _is_within(Path(os.path.realpath(path)), Path(os.path.realpath(root)))
    except (OSError, ValueError):
        return False


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def read_text_file(path: Path, diags: list[Diagnostic]) -> Optional[TextFile]:
    """The file's text with ``\\r\\n`` and a BOM normalised away, or None with a diagnostic."""
    shown = display_path(path)
    try:
        data = read_regular(path, MAX_BYTES)
    except OSError as exc:
        diags.append(Diagnostic(shown, 1, "error", f"cannot read: {exc.strerror or exc}"))
        return None
    if len(data) > MAX_BYTES:
        try:
            size = max(os.stat(path).st_size, len(data))
        except OSError:
            size = len(data)
        diags.append(Diagnostic(shown, 1, "error", f"file is {size / 1048576:.1f} MB, over the {MAX_BYTES // 1048576} MB limit for one post file; split it into several files"))
        return None
    text = decode(data, shown, diags)
    if text is None:
        return None
    if not text.strip():
        diags.append(Diagnostic(shown, 1, "warning", "empty file, nothing loaded; delete it or write the post"))
        return None
    return TextFile(path, shown, text)


def decode(data: bytes, shown: str, diags: list[Diagnostic]) -> Optional[str]:
    """UTF-8 text of ``data``; binaries and other encodings are refused with a message."""
    if b"\x00" in data[:8192]:
        diags.append(Diagnostic(shown, 1, "error", "binary file (it holds NUL bytes), not a post; remove it from the posts folder"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = ""
        try:
            data.decode("gb18030")
            hint = f" It decodes as GBK/GB18030, common in old Chinese archives: convert it with `iconv -f GB18030 -t UTF-8 '{shown}' -o converted.txt`."
        except UnicodeDecodeError:
            pass
        diags.append(Diagnostic(shown, line, "error", f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8.{hint}"))
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
