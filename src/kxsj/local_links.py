"""What the load stage and the renderer both say about a body's local links (``kxsj.load.assets``, ``kxsj.render.page_links``).

Kept free of both stages' imports: the renderer's cache key covers the
modules it imports, and the load stage is not among them.
"""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import unquote, urlsplit

CONTEXT_MARK = "<!--kxsj:page "
"""Opens the context line ``kxsj.load.assets`` puts before a text it hands the renderer."""

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def local_target(url: str) -> Optional[str]:
    """The file path a link or image address names, decoded; None for remote, in-page or empty ones.

    ``fig.png?v=2#top`` -> ``fig.png``; ``/static/a%20b.png`` -> ``/static/a b.png``;
    ``https://…``, ``mailto:…``, ``//host/…``, ``#sec`` -> None.
    """
    url = url.strip()
    if not url or url.startswith(("#", "//")) or _SCHEME.match(url):
        return None
    path = unquote(urlsplit(url).path)
    return path or None
