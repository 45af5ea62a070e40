"""Writing the rendered site into the output folder, all or nothing.

Pages go into a fresh temporary folder beside the output (``.public.tmp-XXXX``
in the same parent, so the final rename never crosses a filesystem).  Only
when every file is there is the old output renamed away, the new one renamed
in, and the old one removed.  An exception, Ctrl-C or SIGTERM part-way leaves
the previous output exactly as it was and removes the temporary folder.

When the caller allows it (``in_place``) and there is a previous output, only
the files that changed are staged there and moved into the output with a
journal instead (``kxsj.write.update``): same guarantee, without making and
removing a folder per page.

Because a wrong ``--out`` could wipe real work, the output folder must be
either absent, empty, or marked with ``.kxsj-output`` by an earlier build;
and it may not be the site root, the posts folder, or a folder holding them.
Nothing outside the output folder and its temporary siblings is ever touched.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Protocol

from kxsj.write.files import files_below, link_or_copy, same_copy, try_link
from kxsj.write.lock import OutputError, current_umask
from kxsj.write.update import roll_back, update_output

MARKER = ".kxsj-output"
MARKER_TEXT = "This folder is written by kxsj build; it is replaced on every build.\n"


class PageLike(Protocol):
    path: str
    content: bytes
    """Written as is, unless the page has a ``reuse`` file (see ``kxsj.render.pages.Page``)."""


def _contains(parent: Path, child: Path) -> bool:
    return child == parent or parent in child.parents


def check_out_dir(out_dir: Path, protected: Iterable[Path] = (), inputs: Iterable[Path] = ()) -> Optional[str]:
    """Why ``out_dir`` must not be written (None when it may).

    ``protected`` are folders the build reads (site root, posts folder): the
    output may not be one of them or hold one of them, as every build
    replaces it.  ``inputs`` may not hold the output either: the next build
    would read its own output back as posts.
    """
    out_dir = Path(out_dir)
    out = out_dir.resolve()
    for place in inputs:
        if _contains(Path(place).resolve(), out):
            return (
                f"refusing to write the site into {out_dir}: it is inside {place}, whose files are read "
                "as posts; choose an --out outside it such as public/"
            )
    for place in protected:
        place = Path(place).resolve()
        if _contains(out, place):
            what = "is" if out == place else "contains"
            return (
                f"refusing to write the site into {out_dir}: it {what} {place}, which the build reads "
                "and every build replaces the output folder; choose another --out such as public/"
            )
    if out.exists() and not out.is_dir():
        return f"refusing to write the site into {out_dir}: it is a file, not a folder"
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        return (
            f"refusing to write the site into {out_dir}: it is not empty and was not made by kxsj "
            f"(no {MARKER} file), and every build replaces it; empty it or choose another --out"
        )
    return None


def page_rel(site_path: str) -> str:
    """``/a/b/`` -> ``a/b/index.html``; ``/feed.xml`` -> ``feed.xml``; never outside the output folder."""
    parts = [p for p in site_path.split("/") if p]
    if any(p in (".", "..") for p in parts) or not site_path.startswith("/"):
        raise OutputError(f"page path {site_path!r} would leave the output folder")
    if site_path.endswith("/"):
        parts.append("index.html")
    return "/".join(parts)


def page_file(root: Path, site_path: str) -> Path:
    """``/a/b/`` -> ``root/a/b/index.html`` (see ``page_rel``)."""
    return Path(root, page_rel(site_path))


def _static_files(sources: list[Path], skip: Iterable[str]) -> dict[str, Path]:
    """``relative path -> source`` of the static folders in order (a later folder's file wins); see ``kxsj.write.static``."""
    from kxsj.write.static import static_files

    return static_files(sources, skip)


def _copy_static(files: dict[str, Path], dest: Path, previous: Optional[Path] = None) -> int:
    """Copy the static files into ``dest``.

    Copies keep the source's modification time, so a file of the
    ``previous`` output's ``static/`` with the source's size and time is that
    same copy: it is linked rather than copied again (MathJax alone is
    megabytes).
    """
    for rel, path in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (previous is not None and same_copy(path, previous / rel) and try_link(previous / rel, target)):
            shutil.copy2(path, target)
    return len(files)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt (while building, while writing), so cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl-C there: assume alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def clean_stale(out: Path) -> None:
    """Remove what a killed build left beside ``out``: SIGKILL cannot be caught.

    Temporary folders are named ``.NAME.tmp-PID-…``, ``.NAME.spool-PID-…`` and ``.NAME.old-PID-…``;
    those of a process that is no longer running are leftovers (a running
    build, e.g. the dev server's, keeps its own).  A leftover ``old`` folder
    holds the previous output when the kill fell between the swap's two
    renames: it is put back if ``out`` is missing, else removed.  A
    leftover ``.NAME.commit-PID-…`` journal is an in-place update cut short:
    it is rolled back (``kxsj.write.update.roll_back``).
    """
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(tmp|old|commit|spool)-(\d+)-")
    try:
        names = sorted(p.name for p in out.parent.iterdir())
    except OSError:
        return
    for name in names:
        m = pattern.match(name)
        if not m or int(m.group(2)) == os.getpid() or _process_alive(int(m.group(2))):
            continue
        stale = out.parent / name
        if m.group(1) == "commit":
            roll_back(stale, out)
            continue
        if m.group(1) == "old" and not out.exists() and (stale / out.name / MARKER).is_file():
            os.rename(stale / out.name, out)
        _remove(stale)


@contextmanager
def page_spool(out_dir: Path) -> Iterator[Path]:
    """A folder beside the output for pages that render workers write (``.NAME.spool-PID-…``).

    Beside the output, so the writer can hard-link its files into the new
    output; removed when the build ends, however it ends (and by
    ``clean_stale`` after a kill).
    """
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    spool = Path(tempfile.mkdtemp(prefix=f".{out.name}.spool-{os.getpid()}-", dir=out.parent))
    try:
        yield spool
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def write_output(
    pages: Iterable[PageLike],
    out_dir: Path,
    static_dirs: list[Path] = (),
    static_skip: Iterable[str] = (),
    protected: Iterable[Path] = (),
    inputs: Iterable[Path] = (),
    commit: bool = True,
    finish: Optional[Callable[[Path], None]] = None,
    in_place: bool = False,
    listing: Optional[dict[str, list[int]]] = None,
    static: Optional[dict[str, Path]] = None,
    keep: Iterable[str] = (),
    kept: Optional[list[str]] = None,
    previous: Optional[Iterable[str]] = None,
) -> int:
    """Write ``pages`` and ``static_dirs`` (under ``/static/``) into ``out_dir``; return the file count.

    With ``commit=False`` everything is written and checked, then thrown
    away: the previous output stays (``--strict`` with warnings).
    Raises ``OutputError`` for an unusable ``out_dir``.
    ``finish(folder)`` runs on the complete new output just before the swap
    (the search indexer reads the finished pages there).  With
    ``in_place``, a previous output is updated file by file instead
    (``kxsj.write.update``); ``finish`` then sees only the files that
    changed, so the search indexer cannot run there.  An in-place update
    fills ``listing``, when given, with the output's files as
    ``files_below(out, stats)`` would (it walked the output anyway).
    ``static`` (``kxsj.write.static.static_files``) replaces the files
    found in ``static_dirs``.  Files of the previous output matching a
    ``keep`` pattern (``CNAME``, ``docs/*.pdf``) and not written by this
    build are carried into the new output (``kept``: those files, when the
    caller found them already).  ``previous`` holds the names of
    ``files_below(out, stats, folders=True)`` when the caller walked the
    output (an in-place update then does not walk it again).
    """
    problem = check_out_dir(out_dir, protected, inputs)
    if problem:
        raise OutputError(problem)
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    if static is None:  # the build passes the files it chose (and reported on)
        static = _static_files(list(static_dirs), static_skip)
    if kept is None:
        kept = kept_files(out, keep, static)
    with sigterm_as_interrupt():
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
        os.chmod(tmp, 0o777 & ~current_umask())  # it becomes the output: the usual mode, not mkdtemp's 0700
        try:
            if in_place and (out / MARKER).is_file():
                return update_output(
                    _without(pages, kept), out, tmp,
                    [("static/" + rel, path) for rel, path in static.items()] + [(rel, out / rel) for rel in kept],
                    (MARKER, MARKER_TEXT),
                    commit, finish, page_rel,
                    lambda tree: _swap(tree, out, finish=None), f".{out.name}.commit-{os.getpid()}-{tmp.name[-8:]}",
                    listing, previous,
                )
            count = _write_tree(tmp, _without(pages, kept), static, out, kept)
            if not commit:
                return count
            _swap(tmp, out, finish)
        finally:
            if tmp.exists():
                _remove(tmp)
    return count


def _write_tree(tmp: Path, pages: Iterable[PageLike], static: dict[str, Path], out: Path, kept: list[str]) -> int:
    """The whole new output in ``tmp``: marker, static files, pages, and the ``kept`` files of ``out``; return the file count."""
    (tmp / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    count = _copy_static(static, tmp / "static", previous=out / "static")
    written: set[Path] = set()
    folders: set[Path] = set()
    for page in pages:
        target = page_file(tmp, page.path)
        if target in written:
            raise OutputError(f"two pages would both be written to {page.path}")
        written.add(target)
        if target.parent not in folders:  # most pages are a folder of their own: one mkdir each
            os.makedirs(target.parent, exist_ok=True)
            folders.add(target.parent)
        reuse = getattr(page, "reuse", None)
        if reuse is not None:
            link_or_copy(Path(reuse), target)
        else:
            target.write_bytes(page.content)
        count += 1
    for rel in kept:
        os.makedirs((tmp / rel).parent, exist_ok=True)
        link_or_copy(out / rel, tmp / rel)
    return count


def kept_files(out: Path, patterns: Iterable[str], static: dict[str, Path], names: Optional[list[str]] = None) -> list[str]:
    """Files of the output ``out`` that match a ``keep`` pattern (``fnmatch``, on ``/``-joined relative paths).

    A static file of the same name is the build's own; a page of the same
    name gives way to the kept file (``_without``).  ``names`` is
    ``files_below(out)`` when the caller has it.
    """
    patterns = [p.strip("/") for p in patterns if p.strip("/")]
    if not patterns or not out.is_dir():
        return []
    import fnmatch

    return sorted(
        rel for rel in (files_below(str(out)) if names is None else names)
        if not rel.startswith(".kxsj-cache/") and rel != MARKER and not (rel.startswith("static/") and rel[7:] in static)
        and any(fnmatch.fnmatchcase(rel, p) for p in patterns) and os.path.isfile(out / rel)
    )


def _without(pages: Iterable[PageLike], kept: list[str]) -> Iterable[PageLike]:
    """``pages`` but those a kept file stands in for."""
    if not kept:
        return pages
    taken = set(kept)
    return (page for page in pages if page_rel(page.path) not in taken)


def _swap(tree: Path, out: Path, finish: Optional[Callable[[Path], None]]) -> None:
    """Run ``finish`` on the complete new ``tree``, then put it in ``out``'s place and remove the old output."""
    old: Optional[Path] = None
    if finish is not None:
        finish(tree)
    try:
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-", dir=out.parent))
            os.rename(out, old / out.name)
        os.rename(tree, out)
    except BaseException:
        # Put the previous output back if the swap was cut between its two renames.
        if old is not None and not out.exists() and (old / out.name).exists():
            os.rename(old / out.name, out)
            _remove(old)
        raise
    if old is not None:
        _remove(old)
