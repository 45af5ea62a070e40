"""Stable, unique URLs for posts.

A post with an original id keeps its kexue.fm address, ``/archives/<id>/``;
any other post gets ``/posts/<slug>/`` with a readable slug (Chinese kept).
List pages live under other prefixes (``/page/``, ``/tag/``, ``/category/``,
``/archive/``, ``/series/``) so they can never collide with a post.

When two posts want the same URL both are kept: the older one (then the one
from the earlier file) keeps it and the other gets ``-2``, ``-3``…, with a
warning, so adding a post never moves an existing one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from urllib.parse import quote

from kxsj.model import Diagnostic, Post

_UNSAFE = re.compile(r"[^\w\u3400-\u4dbf\u4e00-\u9fff]+")


def slugify(text: str) -> str:
    """``"WGAN新方案：通过梯度归一化来实现L约束"`` -> ``"wgan新方案-通过梯度归一化来实现l约束"``."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = _UNSAFE.sub("-", t).strip("-_")
    return t[:80].rstrip("-") or "post"


@functools.lru_cache(maxsize=65536)  # kxsj serve assigns the same URLs after every save
def url_path(*segments: str) -> str:
    """A site path from segments, percent-encoding what a URL cannot hold."""
    return "/" + "/".join(quote(s, safe="") for s in segments if s) + "/"


def assign_urls(posts: list[Post], diags: list[Diagnostic]) -> None:
    """Set ``slug`` and ``url`` on every post, unique across the site."""
    taken: dict[str, Post] = {}
    ordered = sorted(posts, key=lambda p: (p.date.sort_key(), str(p.source[0]) if p.source else ""))
    for post in ordered:
        if post.original_id is not None:
            base_slug = str(post.original_id)
            prefix = "archives"
        else:
            base_slug = slugify(post.slug) if post.slug else slugify(post.title)
            prefix = "posts"
        slug = base_slug
        n = 1
        while url_path(prefix, slug) in taken:
            n += 1
            slug = f"{base_slug}-{n}"
        url = url_path(prefix, slug)
        if n > 1:
            other = taken[url_path(prefix, base_slug)]
            where = post.source[0] if post.source else None
            diags.append(Diagnostic(where.path if where else "", where.line if where else 0, "warning",
                                    f"《{post.title}》 wants {url_path(prefix, base_slug)}, already used by 《{other.title}》 ({other.source[0] if other.source else ''}); it gets {url} — set a distinct `slug:` to choose its address"))
        post.slug = slug
        post.url = url
        taken[url] = post
