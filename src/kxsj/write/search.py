"""The search index: Pagefind run over the finished output folder.

Pagefind (the ``pagefind[extended]`` wheel, installed with kxsj wherever
Pagefind publishes one)
reads the written HTML and writes ``pagefind/`` beside it: a static index the
browser queries, so search works on any static host and offline.  Pagefind
reads copies of the indexed pages that carry *search terms*
(``kxsj.write.search_terms``: Chinese as overlapping character pairs), so a
post holding ``傅里叶`` is found whatever Pagefind's word segmentation does;
the pages readers get are not changed.

What gets indexed is decided by the templates: only elements marked
``data-pagefind-body`` (post articles), so list pages are left out; the
title is ``data-pagefind-meta="title"`` with a high ``data-pagefind-weight``
so title hits rank first.  Math (``.arithmatex``) is excluded: TeX source is
noise in a snippet; so are the date, tags and notes around the body.

Without Pagefind the build still succeeds: ``search_indexer`` gives a warning
naming the install command, and the search page tells the reader search is
unavailable (it finds no ``pagefind/pagefind.js``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from kxsj.config import CONFIG_NAME, Config
from kxsj.model import Diagnostic
from kxsj.write.output import PageLike, page_file
from kxsj.write.search_terms import with_search_terms

INSTALL_HINT = (
    "pip install 'pagefind[extended]' where Pagefind has a wheel for this platform, "
    "or put Pagefind's extended binary on PATH (or name it in PAGEFIND_BINARY_PATH)"
)
EXCLUDE_SELECTORS = ".arithmatex, .post-meta, .series-note, .reading-info, .excerpt-note, .original-link"
"""Rendered math (``kxsj.render.math``: its TeX is not searchable prose) and the
post's date, tags and notes, which would otherwise open every snippet."""
TIMEOUT_SECONDS = 600

Indexer = Callable[[Path], list[Diagnostic]]


def find_pagefind() -> Optional[Path]:
    """The Pagefind binary: ``PAGEFIND_BINARY_PATH``, the Python wheels, then ``PATH``.

    The same order the ``pagefind`` package uses, so a user's override works
    for both; the extended build is preferred (it segments Chinese).
    """
    override = os.environ.get("PAGEFIND_BINARY_PATH")
    if override is not None:
        path = Path(override)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    for module in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            found = __import__(module).get_executable()
        except (ImportError, FileNotFoundError):
            continue
        return Path(found)
    external = shutil.which("pagefind_extended") or shutil.which("pagefind")
    return Path(external) if external else None


@dataclass
class PagefindRun:
    """One run of Pagefind over a site folder; calling it returns what went wrong."""

    binary: Path
    where: str = CONFIG_NAME
    background: bool = False
    """Run Pagefind at the lowest CPU priority (``kxsj serve``: a rebuild after a save must not wait for it)."""

    def command(self, pages_dir: Path, site_dir: Path) -> list[str]:
        return [
            str(self.binary), "--site", str(pages_dir), "--output-path", str(Path(site_dir) / "pagefind"),
            "--exclude-selectors", EXCLUDE_SELECTORS,
        ]

    def __call__(self, site_dir: Path) -> list[Diagnostic]:
        """Index the site's searchable pages, each with its search terms (``search_terms``).

        Pagefind reads copies in a temporary folder and writes ``pagefind/``
        into ``site_dir``; the site's own pages are not changed.
        """
        with tempfile.TemporaryDirectory(prefix="kxsj-index-") as tmp:
            copy_searchable(Path(site_dir), Path(tmp))
            return self._run(Path(tmp), Path(site_dir))

    def _run(self, pages_dir: Path, site_dir: Path) -> list[Diagnostic]:
        try:
            with subprocess.Popen(
                self.command(pages_dir, site_dir),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                errors="replace",
            ) as proc:
                if self.background and hasattr(os, "setpriority"):
                    try:
                        os.setpriority(os.PRIO_PROCESS, proc.pid, 19)
                    except OSError:  # already gone, or not allowed: it only runs at normal priority
                        pass
                try:
                    output, _ = proc.communicate(timeout=TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired as exc:
                    proc.kill()
                    proc.communicate()
                    raise exc
                returncode = proc.returncode
        except (OSError, subprocess.TimeoutExpired) as exc:
            return [self._failed(f"could not run {self.binary}: {exc}")]
        output = output or ""
        if returncode != 0 or not (Path(site_dir) / "pagefind" / "pagefind.js").is_file():
            tail = " | ".join(line.strip() for line in output.strip().splitlines()[-5:])
            return [self._failed(f"Pagefind exited with status {returncode}: {tail}")]
        diags = []
        if "(Extended)" not in output:
            diags.append(
                Diagnostic(self.where, 0, "warning", f"search index built by a Pagefind without Chinese word segmentation ({self.binary}); to get the extended one: {INSTALL_HINT}")
            )
        pages = re.search(r"Indexed (\d+) page", output)
        diags.append(Diagnostic(self.where, 0, "info", f"search index: {pages.group(1) if pages else '?'} pages indexed by Pagefind"))
        return diags

    def _failed(self, why: str) -> Diagnostic:
        return Diagnostic(self.where, 0, "warning", f"search index not built ({why}); the site is written without search")


def copy_searchable(site_dir: Path, to: Path) -> None:
    """Copy the pages Pagefind indexes (``data-pagefind-body``) into ``to``, with their search terms."""
    for source in sorted(site_dir.rglob("*.html")):
        relative = source.relative_to(site_dir)
        if relative.parts[0] == "pagefind":
            continue
        text = with_search_terms(source.read_text(encoding="utf-8", errors="replace"))
        if text is None:
            continue
        target = to / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def search_indexer(config: Config) -> tuple[Optional[Indexer], list[Diagnostic]]:
    """The indexer to run over the finished output, or None (with the reason as a warning).

    Called before anything is written, so a missing Pagefind is known (and
    counts under ``--strict``) before the output is swapped in.
    """
    where = config.path or CONFIG_NAME
    if not config.search:
        return None, []
    binary = find_pagefind()
    if binary is None:
        return None, [
            Diagnostic(where, 0, "warning", f"search is on but Pagefind is not installed, so the site has no search index; to get search: {INSTALL_HINT}; or set `search: false` in {CONFIG_NAME}")
        ]
    return PagefindRun(binary, where), []


def index_pages(pages: Iterable[PageLike], indexer: Indexer) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """Index pages held in memory (``kxsj serve``): the ``/pagefind/…`` files, by site path.

    The HTML pages are written to a temporary folder for Pagefind to read;
    nothing else is, and the folder is gone when this returns.
    """
    with tempfile.TemporaryDirectory(prefix="kxsj-search-") as tmp:
        return PageFolder(Path(tmp)).index({p.path: p.content for p in pages}, indexer)


class PageFolder:
    """A folder holding the HTML of pages kept in memory, for Pagefind to read.

    ``sync`` writes only the pages whose bytes changed since its last call
    (with their search terms) and deletes the ones gone, so re-indexing the
    preview after one save writes one or a few files, not the archive.
    """

    def __init__(self, root: Path):
        self.root = root
        self._written: dict[str, bytes] = {}

    def sync(self, pages: dict[str, bytes]) -> None:
        html = {path: content for path, content in pages.items() if path.endswith(("/", ".html"))}
        for path in self._written.keys() - html.keys():
            page_file(self.root, path).unlink(missing_ok=True)
        for path, content in html.items():
            old = self._written.get(path)
            if old is content or old == content:
                continue
            target = page_file(self.root, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            # With its search terms now, so the indexer finds them there and
            # does not work them out again for every unchanged page.
            text = with_search_terms(content.decode("utf-8", errors="replace"))
            target.write_bytes(content if text is None else text.encode("utf-8"))
        self._written = html

    def index(self, pages: dict[str, bytes], indexer: Indexer) -> tuple[dict[str, bytes], list[Diagnostic]]:
        """Sync ``pages``, run ``indexer``; the ``/pagefind/…`` files it made, by site path."""
        self.sync(pages)
        bundle = self.root / "pagefind"
        shutil.rmtree(bundle, ignore_errors=True)  # no file of an older index may survive into this one
        diags = indexer(self.root)
        files = {
            "/pagefind/" + f.relative_to(bundle).as_posix(): f.read_bytes()
            for f in sorted(bundle.rglob("*"))
            if f.is_file()
        }
        return files, diags
