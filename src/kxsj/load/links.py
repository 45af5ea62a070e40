"""The ``url`` of a post on the original site, as read from an input file.

The page links to it ("原文"), so only ``http``/``https`` addresses are kept:
a ``javascript:`` or ``data:`` URL in front matter or metadata would run
script in the reader's browser when the link is clicked.  Anything else is
dropped with a ``path:line`` warning.
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

from kxsj.model import Diagnostic


def original_url(value, path: str, line: int, diags: list[Diagnostic]) -> Optional[str]:
    """``value`` as an http(s) URL, or None (with a warning when it was given but unusable)."""
    if not value:
        return None
    text = str(value).strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        diags.append(Diagnostic(path, line, "warning", f"`url` must be an http(s) address like https://kexue.fm/archives/8757, got {text!r}; ignored"))
        return None
    return text


MAX_ID_DIGITS = 15
"""An id on the original site is a post number: far below this many digits."""


def original_id(value) -> int:
    """``id:`` as a post number; ``ValueError`` with what is wrong for anything else.

    ``true``, ``.inf``, ``-3`` or a 5,000-digit number would make a wrong
    ``/archives/…/`` address (``true`` is 1 to Python) or fail later.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"`id` must be a post number like 9119, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"`id` must be a post number like 9119, got {value!r}")
        value = int(value)
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS or int(text) < 1:
        shown = text if len(text) <= 40 else text[:37] + "…"
        raise ValueError(f"`id` must be a post number like 9119, got {shown!r}")
    return int(text)
