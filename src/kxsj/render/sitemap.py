"""``/sitemap.xml`` listing every HTML page, and ``/robots.txt`` pointing at it.

The sitemap protocol wants absolute URLs.  With ``base_url`` they are; without
it the ``<loc>``s are root-relative and the file says so in a comment (set
``base_url`` in ``kxsj.yml`` before publishing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import jinja2

from kxsj.config import Config
from kxsj.render.feed import xml_safe

if TYPE_CHECKING:  # pages imports this module; avoid the cycle at run time
    from kxsj.render.pages import RenderedPost


def sitemap_urls(html_paths: list[str], posts: list["RenderedPost"]) -> list[tuple[str, Optional[str]]]:
    """``(path, lastmod)`` per page: all the sitemap shows (post pages with a known date have a lastmod)."""
    lastmod = {rp.path: rp.post.date.iso() for rp in posts if rp.post.date.known}
    return [(path, lastmod.get(path)) for path in html_paths]


def render_sitemap(env: jinja2.Environment, config: Config, urls: list[tuple[str, Optional[str]]]) -> bytes:
    """One ``<url>`` per ``(path, lastmod)`` of ``sitemap_urls``."""
    return xml_safe(env.get_template("sitemap.xml").render(urls=urls)).encode("utf-8")


def render_robots(env: jinja2.Environment) -> bytes:
    return env.get_template("robots.txt").render().encode("utf-8")
