"""Watching the site's files and turning an editor's burst of events into one change.

Saving once makes an editor write a temp file, rename the old one away,
write the new one and touch it again: five to ten events in a few
milliseconds.  ``ChangeBatcher`` collects them into one change, so a burst
is one rebuild.  Temp and backup files (``.#x``, ``x~``, ``.x.swp``, vim's
``4913``) are never changes.

When is a burst over?  Where the system says when a file was closed after
writing (Linux: ``IN_CLOSE_WRITE``, watchdog's ``closed`` event) or renamed
into place, each path of the burst is *settled* once its last event is one
of those: the file is whole.  The burst is handed over as soon as every
path in it is settled (after ``settled_grace``, 5 ms, for the next file of
a multi-file save to start), so a save is not held back by a fixed wait.
A path whose last event was a write, a creation, a deletion or a rename
*away* may still be followed by more (vim renames ``post.md`` to
``post.md~`` before writing the new ``post.md``), so any burst holding one
waits until the files have been quiet for ``quiet`` seconds (50 ms), as it
does everywhere close events do not exist.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

TEMP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".bak", ".part", ".crswap")
IGNORED_EVENTS = {"opened", "closed_no_write"}
SETTLING_EVENTS = {"closed"}
"""A file closed after writing is whole (a rename into place is settling too, for its destination)."""


def is_temp_file(path: str) -> bool:
    """Editor droppings: hidden files (``.#post.md``), backups, swap files, vim's ``4913`` probe."""
    name = os.path.basename(path)
    return (
        not name
        or name.startswith((".", "#"))
        or name.endswith(TEMP_SUFFIXES)
        or name.isdigit() and name.startswith("49")  # vim writes 4913, 4914… to test a folder
    )


class ChangeBatcher:
    """Paths from any thread in, one set per burst out (``take``)."""

    def __init__(self, quiet: float = 0.05, longest: float = 1.0, settled_grace: float = 0.005):
        self.quiet, self.longest, self.settled_grace = quiet, longest, settled_grace
        self._paths: set[Path] = set()
        self._unsettled: set[Path] = set()
        self._first = self._last = 0.0
        self._cond = threading.Condition()

    def add(self, paths: Iterable[Path], settled: bool = False) -> None:
        """``settled``: the event says these files are whole (closed after writing, renamed into place)."""
        with self._cond:
            now = time.monotonic()
            if not self._paths:
                self._first = now
            paths = set(paths)
            self._paths |= paths
            if settled:
                self._unsettled -= paths
            else:
                self._unsettled |= paths
            self._last = now
            self._cond.notify_all()

    def _due(self) -> float:
        """When the burst being collected is over (monotonic time)."""
        wait = self.settled_grace if not self._unsettled else self.quiet
        return min(self._last + wait, self._first + self.longest)

    def take(self, stop: threading.Event, poll: float = 0.25) -> set[Path]:
        """The next burst, once quiet (or ``longest`` old); empty when ``stop`` is set first."""
        with self._cond:
            while not self._paths:
                if stop.is_set():
                    return set()
                self._cond.wait(poll)
            while not stop.is_set():
                wait = self._due() - time.monotonic()
                if wait <= 0:
                    break
                self._cond.wait(wait)
            paths, self._paths, self._unsettled = self._paths, set(), set()
            return paths


class _Handler(FileSystemEventHandler):
    def __init__(self, relevant: Callable[[Path], bool], on_dir_created: Callable[[Path], None], batcher: ChangeBatcher):
        self.relevant, self.on_dir_created, self.batcher = relevant, on_dir_created, batcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in IGNORED_EVENTS or (event.is_directory and event.event_type == "modified"):
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if event.is_directory and event.event_type in ("created", "moved"):
            self.on_dir_created(Path(paths[-1] or paths[0]))
        # A file closed after writing, or a file renamed into place, is whole; a
        # move's source, like a write or a deletion, may be followed by more.
        closed = event.event_type in SETTLING_EVENTS
        for path, settled in ((paths[0], closed), (paths[1], closed or not event.is_directory)):
            if not path or not event.is_directory and is_temp_file(os.fsdecode(path)):
                continue
            found = Path(os.fsdecode(path))
            if self.relevant(found):
                self.batcher.add([found], settled=settled)


class SiteWatcher:
    """Watchdog over ``posts/``, ``templates/``, ``static/`` and ``kxsj.yml``.

    The site root itself is watched without recursion (for ``kxsj.yml`` and
    for a ``templates/`` or ``static/`` folder created later), so a big
    ``public/`` or ``.git/`` beside them costs nothing.
    """

    def __init__(self, root: Path, folders: list[Path], relevant: Callable[[Path], bool], batcher: ChangeBatcher):
        self.root = Path(os.path.abspath(root))
        self.wanted = {Path(os.path.abspath(f)) for f in folders}
        self.observer = Observer()
        self.observer.daemon = True
        self.handler = _Handler(relevant, self._maybe_watch, batcher)
        self._watched: set[Path] = set()
        self.observer.schedule(self.handler, str(self.root), recursive=False)
        for folder in sorted(self.wanted):
            self._maybe_watch(folder)

    def _maybe_watch(self, folder: Path) -> None:
        """Watch one of the wanted folders once it exists (it may be created while serving)."""
        folder = Path(os.path.abspath(folder))
        if folder not in self.wanted or folder in self._watched or not folder.is_dir():
            return
        self._watched.add(folder)
        try:
            self.observer.schedule(self.handler, str(folder), recursive=True)
        except OSError:
            self._watched.discard(folder)

    def start(self) -> None:
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)


def watch_site(root: Path, posts_dir: Path, relevant: Callable[[Path], bool], batcher: ChangeBatcher) -> SiteWatcher:
    """A started watcher feeding ``batcher`` with the site's relevant changes."""
    watcher = SiteWatcher(root, [posts_dir, root / "templates", root / "static"], relevant, batcher)
    watcher.start()
    return watcher
