"""Every page of the site, as (site path, bytes) pairs held in memory.

URL scheme — chosen so that a list page can never collide with a post:

* posts live at ``/archives/<id>/`` (they have an original id; a second
  post claiming one gets ``/archives/<id>-2/``) or ``/posts/<slug>/``;
  ``kxsj.enrich`` sets ``Post.url``, and a post whose URL is not exactly one
  segment below ``/archives/`` or ``/posts/`` is reported and left out;
* the home page is ``/`` with ``/page/<n>/`` after it;
* ``/archives/`` is the archive index (never ``/archives/<anything>/``);
* dates are under ``/date/``: ``/date/<yyyy>/``, ``/date/<yyyy>/<mm>/`` and
  ``/date/undated/`` for posts whose year is unknown;
* ``/tags/``, ``/tag/<name>/``, ``/categories/``, ``/category/<name>/`` and
  ``/series/<name>/``; long lists go on with ``…/page/<n>/``;
* ``/feed.xml``, ``/sitemap.xml``, ``/404.html``, ``/robots.txt``.

Paths here are *decoded* (``/tag/生成模型/``): the writer uses them as UTF-8
folder names and the templates percent-encode them in links (``Post.url``
may arrive encoded; it is decoded first).  A name becomes
one safe path segment (no ``/``, no ``..``, nothing Windows forbids), and two
names that would share a folder, even only on a case-insensitive disk, get
distinct ones.  Any remaining clash (two posts with one URL, a post URL that
is a list page) is reported and the later page dropped, never overwritten.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Union
from urllib.parse import unquote

import jinja2
from markupsafe import Markup

from kxsj.config import Config
from kxsj.enrich.urls import fit_name
from kxsj.model import Diagnostic, Post
from kxsj.render.citation import cite
from kxsj.render.feed import feed_entries, render_feed
from kxsj.render.sidebar import SIDEBAR_TEMPLATES, render_sidebar
from kxsj.render.sitemap import render_robots, render_sitemap, sitemap_urls
from kxsj.render.templates import make_environment

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
``kxsj.render.pagestore.PageStore``, which may instead answer ``Reused``."""


@dataclass(frozen=True)
class Page:
    """One output file: ``path`` is a decoded site path; ``/x/`` means ``x/index.html``.

    ``reuse``, when set, is a file holding exactly this page — the previous
    output's (``kxsj.render.pagestore``) or one a render worker wrote
    (``kxsj.render.parallel.call_all``): the writer links it instead of
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


# --------------------------------------------------------------------------
# URL scheme

_UNSAFE = re.compile(r'[/\\:*?"<>|%\x00-\x1f\x7f]+')


def _segment(name: str) -> str:
    """``name`` as one path segment that is safe as a folder name on any disk."""
    return fit_name(_UNSAFE.sub("-", name.strip()).strip(" .") or "-")


class Segments:
    """Names of one kind (tags, categories, series) -> distinct path segments."""

    def __init__(self, names: Iterable[str]):
        self._map: dict[str, str] = {}
        taken: set[str] = set()
        for name in sorted(set(names)):
            seg = base = _segment(name)
            n = 2
            while seg.casefold() in taken:
                seg = f"{base}-{n}"
                n += 1
            taken.add(seg.casefold())
            self._map[name] = seg

    def __getitem__(self, name: str) -> str:
        return self._map[name]


def page_path(first: str, number: int) -> str:
    """Page ``number`` of a list whose first page is ``first`` (``/``, ``/tag/x/``)."""
    return first if number <= 1 else f"{first}page/{number}/"


def year_path(year: Optional[int]) -> str:
    return "/date/undated/" if year is None else f"/date/{year:04d}/"


def month_path(year: int, month: int) -> str:
    return f"/date/{year:04d}/{month:02d}/"


def newest_first(posts: Iterable[Post]) -> list[Post]:
    """Known years newest first, then the posts whose year is unknown."""
    return sorted(
        posts,
        key=lambda p: (p.date.sort_key(), p.original_id or 0, p.title),
        reverse=True,
    )


# --------------------------------------------------------------------------
# Rendering


class _Site:
    """Shared state while the pages are rendered: config, templates, URL maps."""

    def __init__(self, posts: list[RenderedPost], config: Config, env: jinja2.Environment, memo: Optional[PageMemo] = None,
                 later: bool = False):
        self.memo = memo
        self.later: Optional[list[tuple[int, Callable[[], bytes]]]] = [] if later else None
        """Pages to render once all are known (``render_site``'s ``render_pages``): (index, make)."""
        self.later_templates: set[str] = set()
        self.config = config
        self.env = env
        self.posts = posts
        self.tags = Segments(t for rp in posts for t in rp.post.tags)
        self.categories = Segments(c for rp in posts for c in rp.post.categories)
        self.series = Segments(rp.post.series.name for rp in posts if rp.post.series)
        # The functions read the site being rendered through the environment, not
        # from a closure: Jinja keeps the module of an imported macro file
        # (``{% from "_macros.html" import … %}``) with the globals it was first
        # made with, and the dev server renders many sites with one environment.
        env.kxsj_site = self
        env.globals.update(
            tag_url=lambda name: f"/tag/{env.kxsj_site.tags[name]}/",
            category_url=lambda name: f"/category/{env.kxsj_site.categories[name]}/",
            series_url=lambda name: f"/series/{env.kxsj_site.series[name]}/",
            year_url=year_path,
            month_url=month_path,
            # A function, not a context value: the citation follows from the post
            # and the config alone, so a page memo keyed on the context stays exact
            # and a rebuild that reuses the page never computes it.
            cite=lambda post: cite(post, env.kxsj_site.config),
            post_card=lambda rp: env.kxsj_site.post_card(rp),
            sidebar=lambda: env.kxsj_site.sidebar,
        )
        self.pages: list[Page] = []
        self._cards: dict[int, tuple[RenderedPost, Markup]] = {}
        self.sidebar, self.sidebar_key = render_sidebar(env, [rp.post for rp in posts])  # once; its key in the pages' keys

    def post_card(self, rp: RenderedPost) -> Markup:
        """``_macros.html``'s ``post_card(rp)``, made once per post.

        A post's card is the same on every list page showing it (the home
        page, its tags', category's, month's: eight on average), and the
        cards were most of the time spent rendering list pages.  A macro
        imported without context sees only its arguments and these globals,
        so one card per post is exact.
        """
        kept = self._cards.get(id(rp))
        if kept is None:  # the post is held with its card, so its id is not reused
            kept = self._cards[id(rp)] = (rp, self.env.get_template("_macros.html").module.post_card(rp))
        return kept[1]

    def add(self, path: str, template: str, **context) -> None:
        if template in SIDEBAR_TEMPLATES and self.config.sidebar:
            context["sidebar_key"] = self.sidebar_key

        def make() -> bytes:
            return self.env.get_template(template).render(page_path=path, **context).encode("utf-8")

        self.made(path, template, context, make)

    def made(self, path: str, template: str, inputs: dict, make: Callable[[], bytes]) -> None:
        """A page ``make()`` renders from ``inputs`` (through the memo, when there is one)."""
        if self.later is not None:
            now, index = make, len(self.pages)

            def make() -> bytes:  # noqa: F811 - rendered later, with the others
                self.later.append((index, now))
                self.later_templates.add(template)
                return b""

        made = self.memo(path, template, inputs, make) if self.memo else make()
        self.pages.append(Page(path, b"", made.file) if isinstance(made, Reused) else Page(path, made))

    def render_later(self, render_pages: "RenderPages") -> None:
        """Render the pages put off by ``made``, all at once, into their places."""
        later, self.later = self.later or [], None
        for name in sorted(self.later_templates):  # compiled once here, not in every worker
            self.env.get_template(name)
        for (index, _), content in zip(later, render_pages([make for _, make in later])):
            path = self.pages[index].path
            self.pages[index] = Page(path, content) if isinstance(content, bytes) else Page(path, b"", content)

    def add_list(self, first: str, template: str, posts: list[RenderedPost], **context) -> None:
        """A list of post cards, ``page_size`` per page, at ``first``, ``first/page/2/``…"""
        size = self.config.page_size
        chunks = [posts[i : i + size] for i in range(0, len(posts), size)] or [[]]
        for number, chunk in enumerate(chunks, 1):
            pager = {
                "number": number,
                "total": len(chunks),
                "prev": page_path(first, number - 1) if number > 1 else None,
                "next": page_path(first, number + 1) if number < len(chunks) else None,
            }
            self.add(page_path(first, number), template, posts=chunk, pager=pager, **context)


def _post_pages(site: _Site) -> None:
    ordered = list(reversed(site.posts))  # oldest first: "previous" is the older post
    by_series: dict[str, list[RenderedPost]] = defaultdict(list)
    for rp in site.posts:
        if rp.post.series:
            by_series[rp.post.series.name].append(rp)
    for parts in by_series.values():
        parts.sort(key=lambda rp: rp.post.series.number)
    for i, rp in enumerate(ordered):
        post = rp.post
        site.add(
            rp.path,
            "post.html",
            rp=rp,
            post=post,
            prev=ordered[i - 1] if i > 0 else None,
            next=ordered[i + 1] if i + 1 < len(ordered) else None,
            series_parts=by_series[post.series.name] if post.series else [],
        )
    for name, parts in by_series.items():
        site.add(f"/series/{site.series[name]}/", "series.html", name=name, parts=parts)


def _term_pages(site: _Site, attr: str, segs: Segments, kind: str, singular: str, plural: str) -> None:
    """Tag or category pages and their index with counts, biggest first."""
    groups: dict[str, list[RenderedPost]] = defaultdict(list)
    for rp in site.posts:
        for name in getattr(rp.post, attr):
            groups[name].append(rp)
    terms = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    site.add(f"/{plural}/", "terms.html", kind=kind, terms=[(n, len(p)) for n, p in terms], singular=singular)
    for name, posts in terms:
        site.add_list(f"/{singular}/{segs[name]}/", "list.html", posts, heading=f"{kind}：{name}")


def _archive_pages(site: _Site) -> None:
    """``/archives/`` (years and months with counts), a page per year, month, and undated."""
    years: dict[Optional[int], dict[int, list[RenderedPost]]] = defaultdict(lambda: defaultdict(list))
    for rp in site.posts:
        years[rp.post.date.year][rp.post.date.month].append(rp)
    known = sorted((y for y in years if y is not None), reverse=True)
    summary = [
        (year, sum(len(v) for v in years[year].values()), sorted(years[year].items(), reverse=True))
        for year in known
    ]
    undated = [rp for months in years.get(None, {}).values() for rp in months]
    undated = [rp for rp in site.posts if rp in undated]  # keep newest-first order
    site.add("/archives/", "archives.html", years=summary, undated=len(undated))
    for year, count, months in summary:
        site.add(year_path(year), "year.html", year=year, count=count, months=months)
        for month, posts in months:
            site.add_list(month_path(year, month), "list.html", posts, heading=f"{year}年{month:02d}月")
    if undated:
        site.add_list(year_path(None), "list.html", undated, heading="年份不详的文章")


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


def render_site(
    posts: list[Post],
    config: Config,
    to_html: MarkdownToHtml,
    root: Optional[Path] = None,
    on_post: Optional[Callable[[int, int], None]] = None,
    env: Optional[jinja2.Environment] = None,
    memo: Optional[PageMemo] = None,
    same: Optional[Callable[[RenderedPost], RenderedPost]] = None,
    render_pages: Optional["RenderPages"] = None,
) -> SiteRender:
    """All pages of the site for ``posts`` (already enriched: ``Post.url`` set).

    ``root`` is the site root whose own ``templates/`` override the shipped ones.
    ``on_post(done, total)`` is called after each post's HTML is made.
    ``env`` (templates compiled once) and ``memo`` (see ``PageMemo``) let
    ``kxsj serve`` re-render only the pages a save changed; ``same`` is
    ``render_posts``' hook for the same purpose.  ``render_pages``, when
    given, renders the pages that need rendering in one batch once every
    page is known (``kxsj build`` spreads them over the cores with
    ``kxsj.render.parallel.call_all``); a memo then sees empty content for
    those pages, so only a memo that keeps no content (``PageStore``) goes with it.
    It may give a page as the path of a file holding it (a spool file), which
    the page then carries as its ``reuse`` file.
    """
    rendered, diags = render_posts(posts, to_html, on_post, same)
    rendered, url_diags = _check_urls(rendered)
    diags += url_diags
    env = env or make_environment(config, root)
    site = _Site(rendered, config, env, memo, later=render_pages is not None)

    site.add_list("/", "list.html", rendered, heading=None)
    _post_pages(site)
    _term_pages(site, "tags", site.tags, "标签", "tag", "tags")
    _term_pages(site, "categories", site.categories, "分类", "category", "categories")
    _archive_pages(site)
    site.add("/404.html", "404.html")

    html_paths = [p.path for p in site.pages if p.is_html and p.path != "/404.html"]
    site.add("/search/", "search.html")  # after html_paths: a search page is no sitemap entry
    entries = feed_entries(config, rendered)
    site.made("/feed.xml", "feed.xml", {"entries": entries}, lambda: render_feed(env, config, entries))
    urls = sitemap_urls(html_paths, rendered)
    site.made("/sitemap.xml", "sitemap.xml", {"urls": urls}, lambda: render_sitemap(env, config, urls))
    site.made("/robots.txt", "robots.txt", {}, lambda: render_robots(env))
    if render_pages is not None:
        site.render_later(render_pages)
    return SiteRender(site.pages, diags, posts=len(rendered))
