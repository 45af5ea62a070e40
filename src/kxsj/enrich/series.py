"""Which series the site shows, and what the series index lists.

The loader reads a series from each title alone (``kxsj.load.series``).
Whether a *tentative* one (``名：3. …``, which may as well be a numbered
heading) is a series depends on the other posts: it is kept only when the
site holds at least ``MIN_TENTATIVE`` posts of that name.  So
「OCR技术浅探：9. 代码共享(完)」 alone is a plain post, and beside
「OCR技术浅探：3. 特征提取」 the two make a series of two.  A series read from
an unambiguous mark (``名（三）``, ``【名】3.``, ``《名》系列——8.``) is kept even
when the archive holds only that part: its page then names the missing parts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Generic, Iterable, TypeVar

from kxsj.model import Post

MIN_TENTATIVE = 2
"""Posts a tentative series needs in the site to be shown as one."""


def settle_series(posts: list[Post]) -> None:
    """Drop the tentative series that fewer than ``MIN_TENTATIVE`` posts share.

    Two posts are in one series when their names are equal; a series is
    tentative only while every one of its posts was read from the weak form,
    so one unambiguous part confirms the others.
    """
    members: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        if post.series:
            members[post.series.name].append(post)
    for parts in members.values():
        tentative = all(p.series.tentative for p in parts)
        if tentative and len(parts) < MIN_TENTATIVE:
            for post in parts:
                post.series = None


T = TypeVar("T")


@dataclass(frozen=True)
class SeriesEntry(Generic[T]):
    """One line of the series index: the name, how many parts the site holds, and its newest part."""

    name: str
    count: int
    newest: T
    """The newest part by date (a ``RenderedPost`` when the render stage asks)."""


def series_index(items: Iterable[T], post_of=lambda item: item) -> list[SeriesEntry[T]]:
    """Every series of ``items`` (posts, or anything ``post_of`` maps to a post),
    the one with the newest part first.

    ``items`` must come newest first (as the render stage holds them): the
    first item seen of a series is its newest part.
    """
    counts: dict[str, int] = defaultdict(int)
    newest: dict[str, T] = {}
    order: list[str] = []
    for item in items:
        series = post_of(item).series
        if series is None:
            continue
        if series.name not in newest:
            newest[series.name] = item
            order.append(series.name)
        counts[series.name] += 1
    return [SeriesEntry(name, counts[name], newest[name]) for name in order]
