"""Search in the preview: Pagefind over the pages in memory, in the background.

A save is served as soon as its pages are rebuilt; the search index catches
up afterwards, so it never sits between the writer and the reload:

* indexing starts only once the pages have been unchanged for ``settle``
  seconds (a writer saving every few seconds is not followed by an index
  run after every save, which would compete with the next rebuild for the
  CPU), and saves during a run are coalesced into one more run;
* Pagefind runs at the lowest CPU priority, so a rebuild that does overlap
  a run still gets the processor first;
* the pages Pagefind reads stay in one temporary folder for the whole
  session, and only pages whose bytes changed are written again.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

from kxsj.config import Config
from kxsj.write.search import PageFolder, PagefindRun, search_indexer

SETTLE_SECONDS = 1.0


class BackgroundSearch:
    """Keeps ``files`` (``/pagefind/…`` site path -> bytes) in step with the pages."""

    def __init__(self, config: Config, settle: float = SETTLE_SECONDS):
        self.indexer, diags = search_indexer(config)
        if isinstance(self.indexer, PagefindRun):
            self.indexer = replace(self.indexer, background=True)
        for d in diags:
            print(d, file=sys.stderr, flush=True)
        self.settle = settle
        self.files: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._pending: Optional[dict[str, bytes]] = None
        self._since = 0.0
        self._thread: Optional[threading.Thread] = None
        self._folder: Optional[PageFolder] = None
        self.runs = 0

    def update(self, pages: dict[str, bytes]) -> None:
        """Index these pages soon; returns at once."""
        if self.indexer is None:
            return
        with self._lock:
            self._pending, self._since = pages, time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kxsj-search", daemon=True)
                self._thread.start()

    def _take(self) -> Optional[dict[str, bytes]]:
        """The newest pages once they have settled; None when there is nothing to do."""
        while True:
            with self._lock:
                if self._pending is None:
                    self._thread = None
                    return None
                wait = self._since + self.settle - time.monotonic()
                if wait <= 0:
                    pages, self._pending = self._pending, None
                    return pages
            time.sleep(min(wait, 0.25))

    def _run(self) -> None:
        while (pages := self._take()) is not None:
            try:
                if self._folder is None:
                    self._folder = PageFolder(Path(tempfile.mkdtemp(prefix="kxsj-search-")))
                files, diags = self._folder.index(pages, self.indexer)
            except Exception as exc:  # the preview must outlive a failed index
                print(f"kxsj serve: search index not updated: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                continue
            for d in diags:
                print(d, file=sys.stderr, flush=True)
            if files:
                self.files = files
                self.runs += 1

    def join(self, timeout: float) -> None:
        """Wait for a running index (at most ``timeout`` s), then remove the page folder."""
        with self._lock:
            self._pending = None  # what has not started yet never will
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        if self._folder is not None and (thread is None or not thread.is_alive()):
            shutil.rmtree(self._folder.root, ignore_errors=True)
