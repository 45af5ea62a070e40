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
import hashlib
import re
import unicodedata
from urllib.parse import quote

from kxsj.cjk_ranges import HAN
from kxsj.model import Diagnostic, Post

_UNSAFE = re.compile(f"[^\\w{HAN}]+")


def slugify(text: str) -> str:
    """``"WGAN新方案：通过梯度归一化来实现L约束"`` -> ``"wgan新方案-通过梯度归一化来实现l约束"``."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = _UNSAFE.sub("-", t).strip("-_")
    return fit_name(t[:80].rstrip("-") or "post")


MAX_NAME_BYTES = 200
"""Longest folder name a page gets, in UTF-8 bytes: file systems allow 255."""


def fit_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """``name`` when it fits in ``limit`` UTF-8 bytes, else cut to fit and ended with ``-`` and a hash of all of it.

    Deterministic (the same name always gives the same folder) and distinct
    names stay distinct: a 150-character tag no longer fails the whole
    build with ``[Errno 36] File name too long``.
    """
    data = name.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return name
    tag = hashlib.sha256(data).hexdigest()[:10]
    head = data[: limit - len(tag) - 1].decode("utf-8", "ignore")
    return f"{head}-{tag}"


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


MAX_TERMS = 100
"""Tags (and categories) a post may have: each is a list page every post of it appears on,
so 10,000 tags on two posts wrote gigabytes."""


def cap_terms(posts: list[Post], diags: list[Diagnostic], limit: int = MAX_TERMS) -> None:
    """Keep the first ``limit`` tags and categories of each post, with a warning for the rest."""
    for post in posts:
        for attr, what in (("tags", "tags"), ("categories", "categories")):
            terms = getattr(post, attr)
            if len(terms) > limit:
                where = post.source[0] if post.source else None
                diags.append(Diagnostic(where.path if where else "", where.line if where else 0, "warning",
                                        f"《{post.title}》 has {len(terms):,} {what}, over the limit of {limit}; only the first {limit} are kept"))
                setattr(post, attr, terms[:limit])
