"""Search in the preview: Pagefind over the pages in memory, in the background.

A save is served as soon as its pages are rebuilt; the search index catches
up a moment later (indexing 36 posts takes about a second, far longer than
a rebuild), so it never sits between the writer and the reload.  Saves
during an indexing run are coalesced into one more run.
"""

from __future__ import annotations

import sys
import threading
from typing import Optional

from kxsj.config import Config
from kxsj.render.pages import Page
from kxsj.write.search import index_pages, search_indexer


class BackgroundSearch:
    """Keeps ``files`` (``/pagefind/…`` site path -> bytes) in step with the pages."""

    def __init__(self, config: Config):
        self.indexer, diags = search_indexer(config)
        for d in diags:
            print(d, file=sys.stderr, flush=True)
        self.files: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._pending: Optional[dict[str, bytes]] = None
        self._thread: Optional[threading.Thread] = None
        self.runs = 0

    def update(self, pages: dict[str, bytes]) -> None:
        """Index these pages soon; returns at once."""
        if self.indexer is None:
            return
        with self._lock:
            self._pending = pages
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kxsj-search", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                pages, self._pending = self._pending, None
                if pages is None:
                    self._thread = None
                    return
            try:
                files, diags = index_pages([Page(path, content) for path, content in pages.items()], self.indexer)
            except Exception as exc:  # the preview must outlive a failed index
                print(f"kxsj serve: search index not updated: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                continue
            for d in diags:
                print(d, file=sys.stderr, flush=True)
            if files:
                self.files = files
                self.runs += 1

    def join(self, timeout: float) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
