"""The plan of the site: every page as data, ``PageSpec(path, template, context)``.

The page renderer (``kxsj.render.pages``) makes each page from its spec,
and the page memos key it on the very same spec, so what a page shows
and what it is keyed on cannot drift apart.  Feed, sitemap and robots are
pages like the others.

URL scheme — chosen so that a list page can never collide with a post:

* posts live at ``/archives/<id>/`` (they have an original id; a second
  post claiming one gets ``/archives/<id>-2/``) or ``/posts/<slug>/``;
  ``kxsj.enrich`` sets ``Post.url``, and a post whose URL is not exactly one
  segment below ``/archives/`` or ``/posts/`` is reported and left out;
* the home page is ``/`` with ``/page/<n>/`` after it;
* ``/archives/`` is the archive index (never ``/archives/<anything>/``);
* dates are under ``/date/``: ``/date/<yyyy>/``, ``/date/<yyyy>/<mm>/`` and
  ``/date/undated/`` for posts whose year is unknown;
* ``/tags/``, ``/tag/<name>/``, ``/categories/``, ``/category/<name>/``,
  ``/series/`` and ``/series/<name>/``; long lists go on with ``…/page/<n>/``;
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
from dataclasses import dataclass
from typing import Iterable, Optional

from kxsj.config import Config
from kxsj.enrich.urls import fit_name
from kxsj.render.feed import atom_date, feed_entries, EPOCH
from kxsj.render.rendered import RenderedPost
from kxsj.render.series_index import add_series_index
from kxsj.render.sitemap import sitemap_urls


@dataclass(frozen=True)
class PageSpec:
    """One page: its decoded site path, its template and the context the template gets (besides ``page_path``)."""

    path: str
    template: str
    context: dict


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


# --------------------------------------------------------------------------
# The plan


class Plan:
    """The specs of one site, in the order they are made; the URL segments of its names."""

    def __init__(self, posts: list[RenderedPost], config: Config):
        self.posts, self.config = posts, config
        self.tags = Segments(t for rp in posts for t in rp.post.tags)
        self.categories = Segments(c for rp in posts for c in rp.post.categories)
        self.series = Segments(rp.post.series.name for rp in posts if rp.post.series)
        self.specs: list[PageSpec] = []

    def add(self, path: str, template: str, **context) -> None:
        self.specs.append(PageSpec(path, template, context))

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


def _post_pages(site: Plan) -> None:
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


def _term_pages(site: Plan, attr: str, segs: Segments, kind: str, singular: str, plural: str) -> None:
    """Tag or category pages and their index with counts, biggest first."""
    groups: dict[str, list[RenderedPost]] = defaultdict(list)
    for rp in site.posts:
        for name in getattr(rp.post, attr):
            groups[name].append(rp)
    terms = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    site.add(f"/{plural}/", "terms.html", kind=kind, terms=[(n, len(p)) for n, p in terms], singular=singular)
    for name, posts in terms:
        site.add_list(f"/{singular}/{segs[name]}/", "list.html", posts, heading=f"{kind}：{name}")


def _archive_pages(site: Plan) -> None:
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


def plan_site(posts: list[RenderedPost], config: Config) -> Plan:
    """Every page of the site for ``posts`` (rendered, newest first, URLs checked)."""
    site = Plan(posts, config)
    site.add_list("/", "list.html", posts, heading=None)
    _post_pages(site)
    add_series_index(site)
    _term_pages(site, "tags", site.tags, "标签", "tag", "tags")
    _term_pages(site, "categories", site.categories, "分类", "category", "categories")
    _archive_pages(site)
    site.add("/404.html", "404.html")
    html_paths = [s.path for s in site.specs if s.path.endswith(("/", ".html")) and s.path != "/404.html"]
    site.add("/search/", "search.html")  # after html_paths: a search page is no sitemap entry
    entries = feed_entries(config, posts)
    site.add("/feed.xml", "feed.xml", entries=entries, updated=atom_date(entries[0].post.date) if entries else EPOCH)
    site.add("/sitemap.xml", "sitemap.xml", urls=sitemap_urls(html_paths, posts))
    site.add("/robots.txt", "robots.txt")
    return site
