"""Posts to read next: related by tags, and the neighbours in a series.

Related posts are the ones sharing the most tags with a post, ties broken by
date (newest first) and then URL, so the choice is stable from build to
build.  A post sharing no tag is never "related", so a post without tags
simply has none, and the parts of a post's own series are never "related"
to it: the series box above lists them already.  Series neighbours are the
parts just before and after a post *by number*: an archive often holds only
some parts (1, 2, 6, 9, 15), and the neighbour is the nearest part that is there.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Optional

from kxsj.enrich.links import ref
from kxsj.incremental.related import RelatedMemo
from kxsj.model import Post, PostRef

RELATED_MAX = 5


def _newest_first_key(post: Post) -> tuple:
    return (post.date.sort_key(), post.url)


_serve_memo = RelatedMemo()


def assign_related(posts: list[Post], limit: int = RELATED_MAX, memo: Optional[RelatedMemo] = None) -> None:
    """Set ``related`` on every post: most shared tags first, then newest first.

    Posts are numbered newest first, and each tag's posts are one integer
    with a bit per post, so the shared tags of every post are counted at
    once (``_most_shared``).  ``memo`` (by default one kept in memory)
    answers when nothing it depends on changed.
    """
    memo = memo if memo is not None else _serve_memo
    key = RelatedMemo.key_of(posts, limit)
    memo.drafts = any(p.draft for p in posts)
    if key == memo.key:
        for post, related in zip(posts, memo.related):
            post.related = [PostRef(url, title) for url, title in related]
        return
    ordered = sorted(posts, key=_newest_first_key, reverse=True)
    number = {id(p): i for i, p in enumerate(ordered)}
    members: dict[str, bytearray] = defaultdict(lambda: bytearray((len(ordered) + 7) // 8))
    for i, post in enumerate(ordered):
        for tag in set(post.tags):
            members[tag][i >> 3] |= 1 << (i & 7)
    by_tag = {tag: int.from_bytes(bits, "little") for tag, bits in members.items()}
    everyone = (1 << len(ordered)) - 1
    in_series: dict[str, int] = defaultdict(int)  # series name -> its posts' bits
    for i, post in enumerate(ordered):
        if post.series:
            in_series[post.series.name] |= 1 << i
    for post in posts:
        tagged = [by_tag[tag] for tag in set(post.tags)]
        own = in_series[post.series.name] if post.series else 1 << number[id(post)]
        best = _most_shared(tagged, everyone & ~own, limit)
        post.related = [ref(ordered[i]) for i in best]
    memo.key, memo.related = key, [[(r.url, r.title) for r in p.related] for p in posts]


def _most_shared(tagged: list[int], others: int, limit: int) -> list[int]:
    """The ``limit`` post numbers (bits of ``others``) in the most of the ``tagged`` sets, smallest number first among equals.

    Each tag's posts are one integer, bit ``i`` for post ``i``.  A popular
    tag has thousands of posts, and counting them one by one for every post
    was quadratic in the number of posts; here the counts are added up for
    all posts at once, in binary, a bit plane per digit (``planes[j]`` holds
    the posts whose count has bit ``j`` set), and the posts sharing exactly
    ``count`` tags are read off the planes from the most tags down.
    """
    planes: list[int] = []
    for bits in tagged:
        carry = bits
        for j, plane in enumerate(planes):
            planes[j], carry = plane ^ carry, plane & carry
            if not carry:
                break
        if carry:
            planes.append(carry)
    planes += [0] * (len(tagged).bit_length() - len(planes))  # every count's digits, even where no post has them
    best: list[int] = []
    for count in range(len(tagged), 0, -1):
        exactly = others
        for j, plane in enumerate(planes):
            exactly &= plane if count >> j & 1 else ~plane
        while exactly and len(best) < limit:
            lowest = exactly & -exactly
            best.append(lowest.bit_length() - 1)
            exactly ^= lowest
        if len(best) == limit:
            break
    return best


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
