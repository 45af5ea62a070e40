"""``/sitemap.xml`` listing every HTML page, and ``/robots.txt`` pointing at it.

The sitemap protocol wants absolute URLs.  With ``base_url`` they are; without
it the ``<loc>``s are root-relative and the file says so in a comment (set
``base_url`` in ``kxsj.yml`` before publishing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from kxsj.render.rendered import RenderedPost


def sitemap_urls(html_paths: list[str], posts: list["RenderedPost"]) -> list[tuple[str, Optional[str]]]:
    """``(path, lastmod)`` per page: all the sitemap shows (post pages with a known date have a lastmod)."""
    lastmod = {rp.path: rp.post.date.iso() for rp in posts if rp.post.date.known}
    return [(path, lastmod.get(path)) for path in html_paths]
