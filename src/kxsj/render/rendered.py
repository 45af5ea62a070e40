"""Posts with their HTML (``RenderedPost``) and the files a render makes (``Page``).

The types every stage after enrich passes around: the page planner
(``kxsj.render.plan``), the page renderer (``kxsj.render.pages``), the feed
and sitemap helpers, and the page memos (``kxsj.incremental``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Union
from urllib.parse import unquote

from kxsj.model import Diagnostic, Post

MarkdownToHtml = Callable[[str], str]
"""Turns a post's Markdown (body or excerpt) into HTML; the build wraps ``BodyRenderer``.

It may also have ``key(text) -> bytes | None``: a digest of what it would
return for ``text``, known without making it, for a text known to render
(``kxsj.enrich.links.LinkedHtml``).  ``render_posts`` then defers the post's
HTML (``RenderedPost.later``) and page keys use the digest."""

PageMemo = Callable[[str, str, dict, Callable[[], bytes]], "bytes | Reused"]
"""``memo(path, template, context, make) -> content``: ``kxsj serve`` passes one that
returns the page kept from the last build when its template and context are
unchanged, and calls ``make()`` otherwise; ``kxsj build`` passes a
``kxsj.incremental.pages.PageStore``, which may instead answer ``Reused``."""


@dataclass(frozen=True)
class Page:
    """One output file: ``path`` is a decoded site path; ``/x/`` means ``x/index.html``.

    ``reuse``, when set, is a file holding exactly this page — the previous
    output's (``kxsj.incremental.pages``) or one a render worker wrote
    (``kxsj.incremental.page_workers.call_all``): the writer links it instead of
    writing ``content``, which is then empty.
    """

    path: str
    content: bytes
    reuse: Optional[str] = None

    @property
    def is_html(self) -> bool:
        return self.path.endswith("/") or self.path.endswith(".html")


RenderPages = Callable[[list[Callable[[], bytes]]], list[Union[bytes, str]]]
"""Renders page functions in a batch: each page's bytes, or the path of a file holding them."""


@dataclass(frozen=True)
class Reused:
    """What a page memo returns for a page whose file in the previous output is still right."""

    file: str
    """Its absolute path."""


class RenderedPost:
    """A post with its HTML, ready for any template.

    The HTML may come later: ``RenderedPost.later(post, key, html)`` holds
    only ``key``, a digest standing for body and excerpt (see
    ``MarkdownToHtml``), and ``html(markdown)`` makes the body or the
    excerpt the first time a template reads it.  A build whose page store
    finds a page unchanged by that key never reads the post's HTML at all,
    and a list page reads only the excerpts.
    """

    __slots__ = ("post", "key", "_body", "_excerpt", "_html")

    def __init__(self, post: Post, body: Optional[str], excerpt: Optional[str],
                 key: Optional[bytes] = None, html: Optional[MarkdownToHtml] = None):
        self.post, self._body, self._excerpt, self.key, self._html = post, body, excerpt, key, html

    @classmethod
    def later(cls, post: Post, key: bytes, html: MarkdownToHtml) -> "RenderedPost":
        return cls(post, None, None if post.excerpt else "", key, html)

    @property
    def body(self) -> str:
        if self._body is None:
            self._body = self._html(self.post.body)
        return self._body

    @property
    def excerpt(self) -> str:
        if self._excerpt is None:
            self._excerpt = self._html(self.post.excerpt)
        return self._excerpt

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RenderedPost):
            return NotImplemented
        return (self.post, self.body, self.excerpt) == (other.post, other.body, other.excerpt)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return f"RenderedPost({self.post.url!r})"

    @property
    def path(self) -> str:
        """The post's decoded site path (``Post.url`` may come percent-encoded)."""
        return unquote(self.post.url)


@dataclass
class SiteRender:
    pages: list[Page] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    posts: int = 0


def newest_first(posts: Iterable[Post]) -> list[Post]:
    """Known years newest first, then the posts whose year is unknown."""
    return sorted(
        posts,
        key=lambda p: (p.date.sort_key(), p.original_id or 0, p.title),
        reverse=True,
    )


def render_posts(
    posts: list[Post],
    to_html: MarkdownToHtml,
    on_post: Optional[Callable[[int, int], None]] = None,
    same: Optional[Callable[[RenderedPost], RenderedPost]] = None,
) -> tuple[list[RenderedPost], list[Diagnostic]]:
    """Bodies and excerpts to HTML; a post whose Markdown fails is reported and left out.

    Leaving it out of every list (rather than linking to a page that is not
    there) keeps the site free of broken links while the rest still builds.
    ``same`` may swap each result for an equal one kept from an earlier
    build (``kxsj serve``: page contexts holding the very same objects
    compare in no time).
    """
    done: list[RenderedPost] = []
    diags: list[Diagnostic] = []
    key_of = getattr(to_html, "key", None)
    for i, post in enumerate(newest_first(posts), 1):
        if key_of is not None:
            body_key = key_of(post.body)
            excerpt_key = key_of(post.excerpt) if post.excerpt else b""
            if body_key is not None and excerpt_key is not None:
                done.append(RenderedPost.later(post, body_key + excerpt_key, to_html))
                if on_post:
                    on_post(i, len(posts))
                continue
        try:
            body = to_html(post.body)
            excerpt = to_html(post.excerpt) if post.excerpt else ""
        except Exception as exc:  # one bad post must not stop the others
            where = post.source[0] if post.source else None
            diags.append(
                Diagnostic(
                    where.path if where else post.url,
                    where.line if where else 0,
                    "error",
                    f"could not render «{post.title}» ({type(exc).__name__}: {exc}); the post is left out of the site",
                )
            )
        else:
            rendered = RenderedPost(post, body, excerpt)
            done.append(same(rendered) if same else rendered)
        if on_post:
            on_post(i, len(posts))
    return done, diags


def _check_urls(posts: list[RenderedPost]) -> tuple[list[RenderedPost], list[Diagnostic]]:
    """Drop posts whose URL is unusable or taken, with a message saying which.

    The older post keeps a contested URL, so adding a post never moves one.
    """
    ok, diags, seen = [], [], {}
    for rp in reversed(posts):
        url = rp.path
        where = rp.post.source[0] if rp.post.source else None
        path, line = (where.path, where.line) if where else (url or rp.post.title, 0)
        if not re.fullmatch(r"/(archives|posts)/[^/]+/", url or "") or url.endswith(("/./", "/../")):
            diags.append(Diagnostic(path, line, "error", f"post «{rp.post.title}» has URL {url!r}, expected /archives/<id>/ or /posts/<slug>/; left out"))
        elif url in seen:
            diags.append(Diagnostic(path, line, "error", f"post «{rp.post.title}» has the same URL {url} as «{seen[url]}»; give one of them another slug or id"))
        else:
            seen[url] = rp.post.title
            ok.append(rp)
    return ok[::-1], diags
