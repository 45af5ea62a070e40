"""``/series/``: every series the site shows, with its count and newest part.

Planned like the other list pages (``kxsj.render.plan``): one
``site.add`` with the template ``series_index.html``, so a user's template
overrides it and the page goes into the sitemap with the others.
"""

from __future__ import annotations

from kxsj.enrich.series import series_index

SERIES_INDEX = "/series/"


def add_series_index(site) -> None:
    """Add the page to ``site`` (a ``kxsj.render.plan.Plan``), even when there is no series:
    the header links to it on every page."""
    site.add(SERIES_INDEX, "series_index.html", entries=series_index(site.posts, post_of=lambda rp: rp.post))
