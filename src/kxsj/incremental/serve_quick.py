"""The site's posts after a save that changed only the text of one Markdown post.

Most saves while writing change a post's body and nothing else.  Loading
and enriching the whole archive again would give the posts of the last
build with that one body replaced, yet at 1,400 posts it is half of a
preview rebuild.  ``LoadedPosts`` keeps the last build's enriched posts
and, for such a save, gives them back with only the saved post replaced.

Why that is exactly what load -> enrich would give:

* the file parsed to a post equal to its last parse in every field but
  ``BODY_FIELDS``, and the post came from that file alone (a Markdown
  post not merged with a dump), so the loader's merge, metadata and
  series steps, and ``assign_urls``, ``assign_related`` and
  ``assign_series_neighbours``, which read no body, give what they gave;
* ``assign_reading`` reads only the post's own body: it is run on it;
* citations read bodies: the saved body must name the same archive posts
  in the same order as before (``cited_posts``), or nothing is reused,
  since other posts' "cited by" lists would change.

Anything else (another kind of file, several files, a new or deleted
file, a changed title, date, tag or front matter) takes the full path,
which then remembers its result for the next save.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from kxsj.enrich.links import cited_posts, ref, title_index, title_key
from kxsj.enrich.reading import assign_reading
from kxsj.load import parse_post_file
from kxsj.model import Diagnostic, Post
from kxsj.incremental.serve_memo import FileMemo

BODY_FIELDS = ("body", "excerpt", "has_more", "line_map")
"""What a Markdown post's parse takes from its text below the front matter
(``line_map`` moves with a ``<!--more-->`` line; only diagnostics of the post's own text read it)."""


def _with_body_of(post: Post, source: Post) -> Post:
    """``post`` with ``source``'s ``BODY_FIELDS``."""
    return dataclasses.replace(post, **{name: getattr(source, name) for name in BODY_FIELDS})


class LoadedPosts:
    """``load_site_posts``' last result, and that result after a body-only save."""

    def __init__(self) -> None:
        self.posts: Optional[list[Post]] = None
        self.diagnostics: list[Diagnostic] = []
        self._by_source: dict[str, int] = {}
        self._titles: Optional[dict[str, Post]] = None
        self.replaced: Optional[Post] = None
        """The saved post as it was before the last body-only save (``after_save``), else None."""

    def remember(self, posts: list[Post], diagnostics: list[Diagnostic]) -> None:
        """The full path's result (enriched posts, load and enrich diagnostics)."""
        self.posts, self.diagnostics = posts, diagnostics
        self._by_source = {
            p.source[0].path: i for i, p in enumerate(posts) if p.kind == "markdown" and len(p.source) == 1
        }
        self._titles = None

    def after_save(self, changed: set[Path], files: FileMemo) -> Optional[tuple[list[Post], list[Diagnostic]]]:
        """Posts and diagnostics after ``changed`` (paths just saved), or None when the full path must run.

        ``files`` is the preview's parse memo; the saved file is parsed
        through it, so the next full load does not parse it again.
        """
        self.replaced = None
        if self.posts is None or len(changed) != 1:
            return None
        path = next(iter(changed))
        if not path.is_file():  # deleted or renamed away: the full load drops its post
            return None
        old_raw, old_diags = files.last(path)
        if not isinstance(old_raw, Post) or len(old_raw.source) != 1:  # not a Markdown post (a dump, the metadata)
            return None
        at = self._by_source.get(old_raw.source[0].path)
        if at is None:
            return None
        file_diags: list[Diagnostic] = []
        new_raw = files(path, parse_post_file, file_diags)
        if not isinstance(new_raw, Post) or _with_body_of(old_raw, new_raw) != new_raw:  # more than the body changed
            return None
        old = self.posts[at]
        post = _with_body_of(old, new_raw)
        if self._titles is None:
            self._titles = title_index(self.posts)
        # ``old`` is still in the index: naming it is naming itself, which is no citation.
        if [ref(t) for t in cited_posts(post, self._titles) if t is not old] != old.cites:
            return None
        assign_reading([post])
        posts = list(self.posts)
        posts[at] = post
        gone = {id(d) for d in old_diags}  # the memo's own objects: the file's last diagnostics, by identity
        diags = [d for d in self.diagnostics if id(d) not in gone] + file_diags
        self.posts, self.diagnostics, self.replaced = posts, diags, old
        key = title_key(post.title)
        if self._titles.get(key) is old:  # the title is unchanged: that is its only entry
            self._titles[key] = post
        return posts, diags
