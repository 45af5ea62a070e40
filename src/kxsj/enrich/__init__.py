"""Enrich stage: cross-post facts added to loaded posts.

Takes the loaded posts, returns them newest first with URLs assigned (and,
as the modules here grow, links between posts restored).  Everything that
needs to see more than one post at a time lives here, not in the loader.
"""

from __future__ import annotations

from typing import Callable, Optional

from kxsj.config import Config
from kxsj.enrich.links import restore_citations
from kxsj.enrich.reading import assign_reading
from kxsj.enrich.related import RelatedMemo, assign_related, assign_series_neighbours
from kxsj.enrich.series import settle_series
from kxsj.enrich.urls import assign_urls, cap_terms
from kxsj.model import Diagnostic, Post


def enrich(
    posts: list[Post],
    config: Optional[Config] = None,
    diags: Optional[list[Diagnostic]] = None,
    reading: Optional[Callable[[str], tuple[int, int]]] = None,
    related: Optional[RelatedMemo] = None,
) -> list[Post]:
    """Posts newest first, each with a unique ``url``; diagnostics appended to ``diags``.

    ``reading`` counts a body's characters and minutes (``assign_reading``'s
    ``counts``); ``related`` is ``assign_related``'s memo.
    """
    diags = diags if diags is not None else []
    cap_terms(posts, diags)
    assign_urls(posts, diags)
    restore_citations(posts)  # needs the URLs
    settle_series(posts)
    assign_related(posts, memo=related)  # needs the series settled
    assign_series_neighbours(posts)
    assign_reading(posts, reading)
    return sorted(posts, key=lambda p: (p.date.sort_key(), p.title), reverse=True)
