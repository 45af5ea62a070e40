"""The sidebar beside every post and list page: categories, a tag cloud, recent posts, the monthly archive.

It shows the same thing on every page, so it is computed and rendered once
per build (``render_sidebar``); templates insert it with the global
``sidebar()``.  Each page showing it has ``sidebar_key`` in its context,
the SHA-256 of that HTML, so the sidebar is part of the page's key
(``kxsj.render.pagestore``): when a post is added, or a tag renamed, the
sidebar changes and every page showing it is made again; editing a post's
text leaves it, and the other pages, as they were.  The digest rather than
the HTML itself: keying 25 kB of HTML for each of 2,600 pages cost a
second; one 64-character string costs nothing.

``templates/_sidebar.html`` lays it out from ``SidebarData`` (the README
lists its fields); a site overrides that template to change it.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import jinja2

from markupsafe import Markup

from kxsj.model import Post

RECENT = 8
"""How many of the newest posts the sidebar lists."""

CLOUD_TAGS = 60
"""How many tags, the most used, the tag cloud shows (``/tags/`` has them all)."""

CLOUD_SIZES = 5
"""Tag cloud font sizes: ``size`` runs from 1 (least used) to this (most used)."""

SIDEBAR_TEMPLATES = frozenset({"post.html", "list.html"})
"""The pages that show the sidebar."""


@dataclass(frozen=True)
class CloudTag:
    name: str
    count: int
    size: int
    """1 … ``CLOUD_SIZES``, growing with the logarithm of ``count``."""


@dataclass(frozen=True)
class ArchiveYear:
    year: int
    count: int
    months: list[tuple[int, int]]
    """``(month, posts)``, newest first."""


@dataclass(frozen=True)
class SidebarData:
    categories: list[tuple[str, int]]
    """``(name, posts)``, most posts first."""
    tags: list[CloudTag]
    """The most used tags, in name order."""
    recent: list[Post]
    """The newest posts, newest first."""
    archive: list[ArchiveYear]
    """Years newest first (posts whose year is unknown are not in it)."""


def _sizes(counts: list[tuple[str, int]]) -> list[CloudTag]:
    if not counts:
        return []
    low, high = math.log(min(c for _, c in counts)), math.log(max(c for _, c in counts))
    span = high - low
    return [
        CloudTag(name, count, 1 + (round((CLOUD_SIZES - 1) * (math.log(count) - low) / span) if span else 0))
        for name, count in sorted(counts)
    ]


def sidebar_data(posts: Iterable[Post]) -> SidebarData:
    """What the sidebar shows for ``posts``, given newest first."""
    posts = list(posts)
    categories = Counter(name for post in posts for name in post.categories)
    tags = Counter(name for post in posts for name in post.tags)
    months: dict[int, Counter] = {}
    for post in posts:
        if post.date.year is not None:
            months.setdefault(post.date.year, Counter())[post.date.month] += 1
    top_tags = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:CLOUD_TAGS]
    return SidebarData(
        categories=sorted(categories.items(), key=lambda kv: (-kv[1], kv[0])),
        tags=_sizes(top_tags),
        recent=posts[:RECENT],
        archive=[
            ArchiveYear(year, sum(months[year].values()), sorted(months[year].items(), reverse=True))
            for year in sorted(months, reverse=True)
        ],
    )


def render_sidebar(env: jinja2.Environment, posts: Iterable[Post]) -> tuple[Markup, str]:
    """``_sidebar.html`` rendered once for the whole site, and its digest (``sidebar_key``)."""
    html = env.get_template("_sidebar.html").render(sidebar=sidebar_data(posts))
    return Markup(html), hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest()
