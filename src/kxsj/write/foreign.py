"""Files in the output folder that kxsj did not write: kept when listed, else named before they go.

Every build replaces the output folder's contents, so a file someone put
there by hand (a ``CNAME`` for GitHub Pages, a PDF) used to vanish without
a word.  Files matching a ``keep:`` pattern are carried over
(``kxsj.write.output.kept_files``); any other file of a kind kxsj never
writes gets a warning naming it before the build replaces it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from kxsj.model import Diagnostic
from kxsj.write.output import MARKER, files_below

OWN_TOP = frozenset({MARKER, "feed.xml", "sitemap.xml", "robots.txt", "404.html", "index.html"})
"""Files kxsj writes at the top of the output."""
OWN_TREES = ("static/", "pagefind/", ".kxsj-cache/")
"""Folders kxsj fills (and empties) itself."""
POST_TREES = ("posts/", "archives/")
"""Folders of post pages, which also hold each post's own files."""


def written_by_kxsj(rel: str) -> bool:
    """Whether a kxsj build writes files like ``rel`` (a ``/``-joined path inside the output)."""
    if rel in OWN_TOP or rel.startswith(OWN_TREES):
        return True
    if rel.startswith(POST_TREES) and rel.count("/") >= 2:  # a post's own file beside its page (kxsj.write.post_assets)
        return True
    return "/" in rel and rel.endswith("/index.html")


def foreign_files(out: Path, kept: Iterable[str], names: Optional[list[str]] = None) -> list[Diagnostic]:
    """A warning for each file of ``out`` that kxsj would not write and that is not kept.

    ``names`` is ``files_below(out)`` when the caller has it.
    """
    if not (out / MARKER).is_file():
        return []
    kept = set(kept)
    if names is None:
        try:
            names = files_below(str(out))
        except OSError:
            return []
    return [
        Diagnostic(str(out / rel), 0, "warning", f"not written by kxsj and replaced by this build; list it under `keep:` in kxsj.yml to keep it (e.g. `keep: [CNAME, {rel}]`)")
        for rel in sorted(names) if rel not in kept and not written_by_kxsj(rel)
    ]
