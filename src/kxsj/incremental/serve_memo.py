"""What the dev server keeps between saves, so a save costs one post, not the archive.

Four memos, one per expensive stage of the build:

* ``FileMemo``: the parse of each file in ``posts/`` (and ``meta.yml``), reused
  while the file's size and mtime are unchanged.  A save that *adds* errors
  (broken YAML, or unbalanced math the lint finds) keeps the last good parse
  in the site, so the preview never loses a post to a half-typed front
  matter or formula; the new errors are still reported.
* ``HtmlMemo``: Markdown -> HTML by text, so only an edited body is rendered.
* ``PageMemo``: page content by (template, context), so only the pages whose
  data changed go through Jinja (the post, its neighbours, the lists showing it).
* ``AttachMemo``: each post's own files and its checked local links
  (``kxsj.load.assets.attach_assets``), kept for the posts a save did not touch.

Every memo hands out copies or immutable values: the enrich stage sets fields
on posts, and a post kept by a memo must look the same at the next build.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from kxsj.model import Diagnostic


def _stamp(path: str) -> Optional[tuple[int, int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _copy(item: Any) -> Any:
    """``copy.copy`` for the loader's plain dataclasses, without its generic machinery (a post per save)."""
    state = getattr(item, "__dict__", None)
    if state is None or hasattr(type(item), "__slots__"):
        return copy.copy(item)
    new = object.__new__(type(item))
    new.__dict__.update(state)
    return new


def _fresh(result: Any) -> Any:
    """A copy later stages may set fields on without touching the memo's own."""
    if isinstance(result, list):
        return [_copy(item) for item in result]
    return _copy(result) if result is not None else None


def _errors(diags: list[Diagnostic]) -> int:
    return sum(1 for d in diags if d.level == "error")


@dataclass
class _Parsed:
    stamp: Optional[tuple[int, int, int]]
    result: Any
    errors: int
    diagnostics: list[Diagnostic] = field(default_factory=list)


class FileMemo:
    """``load_posts``' ``parse`` hook: parse a file again only when it changed.

    Call ``start()`` before a load and ``finish()`` after it: files the load
    no longer saw (deleted, renamed) are forgotten, so they leave the site.
    """

    def __init__(self, check: Optional[Callable[[Any], list[Diagnostic]]] = None) -> None:
        self.check = check
        """More diagnostics for a fresh parse (the lint); each counts as an error when choosing the version to keep."""
        self._files: dict[str, _Parsed] = {}
        self._seen: set[str] = set()
        self.parsed = 0
        """Files actually parsed since the owner last set this to 0 (the rest came from the memo)."""

    def start(self) -> None:
        self._seen = set()

    def finish(self) -> None:
        for gone in set(self._files) - self._seen:
            del self._files[gone]

    def forget(self, paths) -> None:
        """Parse these again at the next load even if size and mtime look unchanged."""
        for path in paths:
            kept = self._files.get(os.path.abspath(path))
            if kept is not None:
                kept.stamp = None

    def last(self, path: Path) -> tuple[Any, list[Diagnostic]]:
        """What the last load got for ``path``: its result and diagnostics (the memo's own: read, do not change)."""
        kept = self._files.get(os.path.abspath(path))
        return (kept.result, kept.diagnostics) if kept is not None else (None, [])

    def __call__(self, path: Path, parse_file: Callable[[Path, list[Diagnostic]], Any], diags: list[Diagnostic]) -> Any:
        key = os.path.abspath(path)  # as given by the loader: already absolute, so cheap
        self._seen.add(key)
        stamp = _stamp(key)
        kept = self._files.get(key)
        if kept is None or stamp is None or kept.stamp != stamp:
            self.parsed += 1
            new_diags: list[Diagnostic] = []
            result = parse_file(path, new_diags)
            errors = _errors(new_diags)
            if self.check is not None and result is not None:
                found = self.check(result)
                new_diags += found
                errors += len(found)  # a lint finding is a reason to keep the last good version too
            if kept is not None and kept.result is not None and errors > kept.errors:
                # The save broke the file: keep serving the last good version.
                note = Diagnostic(new_diags[0].path if new_diags else str(path), 0, "info",
                                  "the preview shows the last good version of this file until the error is fixed")
                kept = _Parsed(stamp, kept.result, kept.errors, new_diags + [note])
            else:
                kept = _Parsed(stamp, result, errors, new_diags)
            self._files[key] = kept
        diags.extend(kept.diagnostics)
        return _fresh(kept.result)


class HtmlMemo:
    """Text -> HTML of the last build; texts the last build did not use are dropped."""

    def __init__(self) -> None:
        self._kept: dict[str, str] = {}
        self._used: dict[str, str] = {}
        self.made = 0

    def wrap(self, to_html: Callable[[str], str]) -> Callable[[str], str]:
        def cached(text: str) -> str:
            html = self._kept.get(text)
            if html is None:
                html = to_html(text)
                self.made += 1
            self._used[text] = html
            return html

        return cached

    def finish(self, gone: Optional[tuple[str, ...]] = None) -> None:
        """End of a build: keep what it used, for the next one.

        ``gone``, for a build that made one post's HTML only (the quick
        path of ``kxsj.incremental.serve_pages``): everything is kept but
        these texts, which that post no longer has.
        """
        if gone is None:
            self._kept, self._used = self._used, {}
            return
        self._kept.update(self._used)
        for text in gone:
            if text not in self._used:
                self._kept.pop(text, None)
        self._used = {}

    def clear(self) -> None:
        self._kept, self._used = {}, {}


class PageMemo:
    """``render_site``'s ``memo`` hook: a page is rendered again only when its inputs changed.

    A page's inputs are its template and its context (posts, pager, names);
    what templates read from elsewhere (URL maps of tags and categories,
    config, the templates themselves) is covered by ``clear()``, which the
    preview calls when any of those change.
    """

    def __init__(self) -> None:
        self._pages: dict[str, tuple[str, dict, bytes]] = {}
        self._posts: dict[str, Any] = {}
        self._posts_now: dict[str, Any] = {}
        self.rendered = 0

    def start(self) -> None:
        self.rendered = 0
        self._posts, self._posts_now = self._posts_now or self._posts, {}

    def clear(self) -> None:
        self._pages = {}

    def same(self, rendered: Any) -> Any:
        """``render_site``'s ``same`` hook: last build's rendered post when equal to ``rendered``.

        Contexts then hold the very objects the kept pages were made from,
        and comparing a list page's posts costs a pointer check each.
        """
        key = rendered.post.url
        kept = self._posts.get(key)
        if kept is not None and (
            kept.post is rendered.post and kept.body is rendered.body and kept.excerpt is rendered.excerpt
            or kept == rendered
        ):
            rendered = kept
        self._posts_now[key] = rendered
        return rendered

    def carry(self) -> None:
        """A build that rendered only some posts (``kxsj.incremental.serve_pages``): the others stay as last build's."""
        self._posts_now = {**self._posts, **self._posts_now}

    def __call__(self, path: str, template: str, context: dict, make: Callable[[], bytes]) -> bytes:
        kept = self._pages.get(path)
        if kept is not None and kept[0] == template and kept[1] == context:
            return kept[2]
        content = make()
        self.rendered += 1
        self._pages[path] = (template, dict(context), content)
        return content


class AttachMemo:
    """``attach_assets`` for each post, reused for the posts a save that changed one post's text did not touch.

    Checking a post's local links reads its whole text, and the folder of
    every post is looked for on disk: at 1,400 posts, most of a save's
    rebuild.  After a save that changed only one Markdown post's text
    (``kxsj.incremental.serve_quick``), every other post is the very object
    the last build attached, no file beside a post and no static file
    changed, so the last result holds for it.  Any other save attaches every
    post again.  An attached post is never changed after it is made (the
    render stage reads posts), so handing out the same one is safe.
    """

    def __init__(self) -> None:
        self._kept: dict[int, tuple[Any, Any, list[Diagnostic]]] = {}

    def __call__(self, posts: list, static_dirs, posts_dir: Optional[Path], reuse: bool) -> list[Diagnostic]:
        """``kxsj.load.assets.attach_all``, in place, reusing the last result where ``reuse`` allows."""
        from kxsj.load.assets import SiteFiles, attach_assets

        site = SiteFiles(static_dirs)
        kept = self._kept if reuse else {}
        now: dict[int, tuple[Any, Any, list[Diagnostic]]] = {}
        diags: list[Diagnostic] = []
        for i, post in enumerate(posts):
            hit = kept.get(id(post))
            if hit is None or hit[0] is not post:  # the post is held with its result, so its id is not reused
                found: list[Diagnostic] = []
                hit = (post, attach_assets(post, site, found, posts_dir), found)
            now[id(post)] = hit
            posts[i] = hit[1]
            diags.extend(hit[2])
        self._kept = now
        return diags
