"""Updating the previous output in place, as one transaction.

Why: after one post is edited, a 1,400-post site still has some 3,000 files
in 2,800 folders, and only a handful of them change.  Building a whole new
tree and swapping it in (``kxsj.write.output``) means making 2,800 folders
and removing the old tree's 2,800 again: most of such a build's time.  So
when there is a previous output, only what differs is touched.

The guarantee stays the full swap's: the output is the previous site or the
new one, never a mixture.

1. **Stage.**  Files whose bytes differ from the output's are written to
   ``.NAME.tmp-PID-…/site/`` (pages that the page store reused, static files
   with the same size and time, and rendered pages with the same bytes are
   not).  ``finish`` then adds the caches there.  Nothing in the output has
   been touched yet: an error or signal now just removes the temporary folder.
2. **Plan.**  ``plan.json`` lists the files to move in, the output's files that
   are no longer part of the site, and the folders to make.
3. **Commit.**  The temporary folder is renamed ``.NAME.commit-PID-…``; from
   then on it is a journal.  Each replaced or removed file is moved to its
   ``old/``, each new file moved in.  Removing ``plan.json`` is the commit
   point.  An exception or signal before it rolls everything back at once;
   a SIGKILL leaves the journal, and the next build (``clean_stale``) rolls it
   back from the plan.  A commit moves files by ``rename`` within one
   filesystem, so each step is atomic.

Where a new file's path is a folder in the output, or a folder's is a file,
the update gives up and the caller swaps in a whole tree instead
(``complete_tree`` links the unchanged files into the staged one).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from kxsj.write.files import FOLDER_KEYS, files_below, link_or_copy, same_copy
from kxsj.write.lock import OutputError

PLAN = "plan.json"
SITE = "site"
OLD = "old"


class Conflict(Exception):
    """A file would replace a folder or a folder a file: swap a whole tree instead."""


def _same_bytes(path: str, content: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(content):
            return False
        with open(path, "rb") as f:
            return f.read() == content
    except OSError:
        return False


def _same_file(a: str, b: str) -> bool:
    """The same inode, or two regular files with the same bytes."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
        return True
    if sa.st_size != sb.st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


class Stage:
    """The files of the new site that differ from the output ``out``, written below ``root``."""

    def __init__(self, out: Path, root: Path, previous: Optional[Iterable[str]] = None):
        self.out, self.root = str(out), str(root)
        self._previous = previous
        """The output's files and folders as the write stage listed them (``files_below(..., folders=True)``), if it did."""
        self.kept: set[str] = set()
        """Files of the output that stay as they are."""
        self.staged: set[str] = set()
        """Files written below ``root`` because they differ from the output's."""
        self._folders: set[str] = set()
        self._listing: dict[str, list[int]] = {}
        """The output's files as ``plan`` found them: relative path -> ``files_below``'s stats."""

    def _target(self, rel: str) -> str:
        self.staged.add(rel)
        path = os.path.join(self.root, rel)
        parent = os.path.dirname(path)
        if parent not in self._folders:
            os.makedirs(parent, exist_ok=True)
            self._folders.add(parent)
        return path

    def write(self, rel: str, content: bytes) -> None:
        if _same_bytes(os.path.join(self.out, rel), content):
            self.kept.add(rel)
        else:
            with open(self._target(rel), "wb") as f:
                f.write(content)

    def link(self, rel: str, source: str) -> None:
        """The file ``source`` (usually the output's own) as ``rel``."""
        here = os.path.join(self.out, rel)
        if os.path.abspath(source) == here or _same_file(here, source):
            self.kept.add(rel)
            return
        link_or_copy(Path(source), Path(self._target(rel)))

    def copy(self, rel: str, source: str) -> None:
        """A copy of ``source`` keeping its time; the output's copy is kept when size and time match."""
        if same_copy(Path(source), Path(self.out, rel)):
            self.kept.add(rel)
            return
        shutil.copy2(source, self._target(rel))

    def plan(self) -> dict:
        """What the commit does: files to move in, output files to remove, folders to make.

        Files ``finish`` added that equal the output's (a cache shard linked
        from it) are kept instead.  Raises ``Conflict`` where a file and a
        folder would swap places.
        """
        new = []
        for rel in files_below(self.root):
            if rel not in self.staged and _same_file(os.path.join(self.root, rel), os.path.join(self.out, rel)):
                self.kept.add(rel)
            else:
                new.append(rel)
        incoming = set(new)
        self._listing = self._output_now()
        stale = [rel for rel in self._listing if not rel.endswith(FOLDER_KEYS) and rel not in self.kept and rel not in incoming]
        folders: list[str] = []
        seen: set[str] = set()
        for rel in new:
            if os.path.isdir(os.path.join(self.out, rel)):
                raise Conflict(rel)
            parent = os.path.dirname(rel)
            missing = []
            while parent and parent not in seen:
                seen.add(parent)
                where = os.path.join(self.out, parent)
                if os.path.isdir(where) and not os.path.islink(where):
                    break
                if os.path.lexists(where):
                    raise Conflict(parent)
                missing.append(parent)
                parent = os.path.dirname(parent)
            folders.extend(reversed(missing))
        folders.sort(key=lambda d: d.count("/"))
        return {"new": new, "stale": stale, "folders": folders}

    def _output_now(self) -> dict[str, list[int]]:
        """The output's files with their status as it is now, and its folders, as ``files_below(..., folders=True)`` gives them.

        When the write stage listed the output already, only each file's
        status is read again (the pages reused since were linked, which
        changes their change times), no folder is listed twice.
        """
        listing: dict[str, list[int]] = {}
        if self._previous is None:
            files_below(self.out, listing, folders=True)
            return listing
        for rel in self._previous:
            if rel.endswith(FOLDER_KEYS):
                listing[rel] = []
                continue
            try:
                st = os.lstat(os.path.join(self.out, rel))
            except OSError:  # gone since it was listed
                continue
            if not stat.S_ISDIR(st.st_mode):
                listing[rel] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        return listing

    def listing_after(self, plan: dict) -> dict[str, list[int]]:
        """The output's files and folders once ``plan`` is committed, as ``files_below(..., folders=True)`` would list them.

        Files the commit left alone keep the size and time ``plan`` saw;
        only the files it moved in are looked at again.  A folder the commit
        emptied and removed is still named: whoever reads its times finds it gone.
        """
        gone = set(plan["stale"]) | set(plan["new"])
        listing = {rel: st for rel, st in self._listing.items() if rel not in gone}
        listing.update((folder + FOLDER_KEYS, []) for folder in plan["folders"])  # folders as ``files_below(..., folders=True)``
        for rel in plan["new"]:
            st = os.lstat(os.path.join(self.out, rel))
            listing[rel] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        return listing


def complete_tree(stage: Stage) -> None:
    """Link the output's kept files into the staged tree, making it the whole new site."""
    for rel in stage.kept:
        source = os.path.join(stage.out, rel)
        target = os.path.join(stage.root, rel)
        if not os.path.lexists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            link_or_copy(Path(source), Path(target))


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until a rollback is done (it must not be cut in two)."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError, OSError):  # no signal masks here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _move(source: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.replace(source, target)


def commit(journal: Path, out: Path, plan: dict, staged: Path) -> None:
    """Apply ``plan`` to ``out``; ``staged`` (the stage folder) becomes the journal ``journal``.

    All or nothing: an exception rolls back before it propagates.
    """
    (staged / PLAN).write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    os.rename(staged, journal)
    site, old, root = str(journal / SITE), str(journal / OLD), str(out)
    try:
        for rel in plan["stale"]:
            _move(os.path.join(root, rel), os.path.join(old, rel))
        for folder in plan["folders"]:
            os.mkdir(os.path.join(root, folder))
        for rel in plan["new"]:
            target = os.path.join(root, rel)
            if os.path.lexists(target):
                _move(target, os.path.join(old, rel))
            os.replace(os.path.join(site, rel), target)
        os.unlink(journal / PLAN)  # the commit point
    except BaseException:
        with _signals_held():
            roll_back(journal, out)
        raise
    _remove_empty_parents(root, plan["stale"])
    shutil.rmtree(journal, ignore_errors=True)


def roll_back(journal: Path, out: Path) -> None:
    """Undo a commit cut short (by an exception now, or a kill found by the next build), then drop the journal.

    A journal without a plan is one whose commit completed: nothing to undo.
    """
    try:
        plan = json.loads((journal / PLAN).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        plan = None
    failed = False

    def undo(source: str, target: str) -> None:
        nonlocal failed
        try:
            _move(source, target)
        except OSError:
            failed = True  # keep the journal: the next build tries again

    if plan is not None:
        site, old, root = str(journal / SITE), str(journal / OLD), str(out)
        for rel in reversed(plan["new"]):
            if not os.path.lexists(os.path.join(site, rel)) and os.path.lexists(os.path.join(root, rel)):
                undo(os.path.join(root, rel), os.path.join(site, rel))
        for rel in files_below(old):
            undo(os.path.join(old, rel), os.path.join(root, rel))
        for folder in reversed(plan["folders"]):
            try:
                os.rmdir(os.path.join(root, folder))
            except OSError:
                pass
    if not failed:
        shutil.rmtree(journal, ignore_errors=True)


def _remove_empty_parents(root: str, removed: Iterable[str]) -> None:
    """Folders the removed files leave empty go too, as they would in a fresh build."""
    for folder in sorted({os.path.dirname(rel) for rel in removed if "/" in rel}, key=lambda d: -d.count("/")):
        while folder:
            try:
                os.rmdir(os.path.join(root, folder))
            except OSError:
                break
            folder = os.path.dirname(folder)


def update_output(
    pages: Iterable,
    out: Path,
    tmp: Path,
    static: Iterable[tuple[str, Path]],
    marker: tuple[str, str],
    commit_it: bool,
    finish: Optional[Callable[[Path], None]],
    rel_of: Callable[[str], str],
    swap: Callable[[Path], None],
    journal_name: str,
    listing: Optional[dict[str, list[int]]] = None,
    previous: Optional[Iterable[str]] = None,
) -> int:
    """Write the site into ``out`` in place (see the module docstring); return the file count.

    ``static`` gives ``(relative path, source)`` of every static file,
    ``marker`` the marker file's name and text, ``rel_of`` a page's file
    relative to the output.  ``swap(tree)`` swaps a complete tree in, for
    when a conflict rules the update out.  ``listing``, when given, receives
    the committed output's files (``files_below`` with sizes and times),
    which the plan already walked, unless a whole tree was swapped in.
    ``previous`` is the output's ``files_below(..., folders=True)`` when
    the caller walked it already: it is not walked again.
    """
    stage = Stage(out, tmp / SITE, previous)
    os.makedirs(stage.root, exist_ok=True)
    count = 0
    name, text = marker
    stage.write(name, text.encode("utf-8"))
    for rel, source in static:
        stage.copy(rel, str(source))
        count += 1
    seen: set[str] = set()
    for page in pages:
        rel = rel_of(page.path)
        if rel in seen:
            raise OutputError(f"two pages would both be written to {page.path}")
        seen.add(rel)
        reuse = getattr(page, "reuse", None)
        if reuse is not None:
            stage.link(rel, str(reuse))
        else:
            stage.write(rel, page.content)
        count += 1
    if not commit_it:
        return count
    if finish is not None:
        finish(tmp / SITE)
    try:
        plan = stage.plan()
    except Conflict:
        complete_tree(stage)
        swap(tmp / SITE)
        return count
    commit(out.parent / journal_name, out, plan, tmp)
    if listing is not None:
        listing.update(stage.listing_after(plan))
    return count
