"""``/sitemap.xml`` listing every HTML page, and ``/robots.txt`` pointing at it.

The sitemap protocol wants absolute URLs.  With ``base_url`` they are; without
it the ``<loc>``s are root-relative and the file says so in a comment (set
``base_url`` in ``kxsj.yml`` before publishing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2

from kxsj.config import Config
from kxsj.render.feed import xml_safe

if TYPE_CHECKING:  # pages imports this module; avoid the cycle at run time
    from kxsj.render.pages import RenderedPost


def render_sitemap(
    env: jinja2.Environment, config: Config, html_paths: list[str], posts: list["RenderedPost"]
) -> bytes:
    """One ``<url>`` per page; post pages with a known date carry ``<lastmod>``."""
    lastmod = {rp.path: rp.post.date.iso() for rp in posts if rp.post.date.known}
    urls = [(path, lastmod.get(path)) for path in html_paths]
    return xml_safe(env.get_template("sitemap.xml").render(urls=urls)).encode("utf-8")


def render_robots(env: jinja2.Environment) -> bytes:
    return env.get_template("robots.txt").render().encode("utf-8")
