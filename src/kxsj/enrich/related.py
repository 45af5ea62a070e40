"""Posts to read next: related by tags, and the neighbours in a series.

Related posts are the ones sharing the most tags with a post, ties broken by
date (newest first) and then URL, so the choice is stable from build to
build.  A post sharing no tag is never "related", so a post without tags
simply has none.  Series neighbours are the parts just before and after a
post *by number*: an archive often holds only some parts (1, 2, 6, 9, 15),
and the neighbour is the nearest part that is there.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Optional

from kxsj.enrich.links import ref
from kxsj.model import Post

RELATED_MAX = 5


def _newest_first_key(post: Post) -> tuple:
    return (post.date.sort_key(), post.url)


def related_posts(post: Post, posts: list[Post], limit: int = RELATED_MAX) -> list[Post]:
    """Up to ``limit`` other posts by shared tags (most first), then date (newest first)."""
    tags = set(post.tags)
    if not tags:
        return []
    scored = [(len(tags & set(other.tags)), other) for other in posts if other is not post]
    scored = [(n, other) for n, other in scored if n]
    # Two stable sorts: newest first, then by shared-tag count.
    scored.sort(key=lambda pair: _newest_first_key(pair[1]), reverse=True)
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return [other for _, other in scored[:limit]]


def assign_related(posts: list[Post], limit: int = RELATED_MAX) -> None:
    """Set ``related`` on every post.

    Only posts sharing a tag are compared (through a tag -> posts index), so
    a large archive costs the number of co-tagged pairs, not every pair.
    """
    # kxsj serve enriches after every save, mostly of a body: when no post's
    # tags, date, URL or title changed, the last answer still holds.
    key = (limit, [(p.url, p.title, p.date, p.tags) for p in posts])
    if key == _last_related[0]:
        for post, related in zip(posts, _last_related[1]):
            post.related = list(related)
        return
    by_tag: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        for tag in set(post.tags):
            by_tag[tag].append(post)
    for post in posts:
        candidates = {id(o): o for tag in set(post.tags) for o in by_tag[tag]}
        post.related = [ref(p) for p in related_posts(post, list(candidates.values()), limit)]
    _last_related[:] = [(limit, [(p.url, p.title, p.date, list(p.tags)) for p in posts]), [list(p.related) for p in posts]]


_last_related: list = [None, None]


def series_parts(posts: list[Post]) -> dict[str, list[Post]]:
    """Series name -> its posts in number order (same number: older first)."""
    parts: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        if post.series:
            parts[post.series.name].append(post)
    for members in parts.values():
        members.sort(key=lambda p: (p.series.number, p.date.sort_key(), p.url))
    return dict(parts)


def assign_series_neighbours(posts: list[Post]) -> None:
    """Set ``series_prev`` / ``series_next``: the parts just before and after, by number."""
    for post in posts:
        post.series_prev = post.series_next = None
    for members in series_parts(posts).values():
        for i, post in enumerate(members):
            before: Optional[Post] = members[i - 1] if i > 0 else None
            after: Optional[Post] = members[i + 1] if i + 1 < len(members) else None
            post.series_prev = ref(before) if before else None
            post.series_next = ref(after) if after else None
