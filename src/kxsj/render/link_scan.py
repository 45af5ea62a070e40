"""Inline links and images ``[text](href)`` in time linear in the paragraph.

Python-Markdown finds where ``(href …)`` ends by walking the rest of the
paragraph one character at a time from every ``[text](``, so a paragraph of
unclosed links (``[d](e `` repeated) takes the square of its length, and
a long one never ends (``benchmarks/README.md``, "Measured costs").  Here the paragraph's parentheses are
counted once (``_Parens``), and the closing ``)`` of each link is looked up.

The lookup gives exactly the stock answer where the stock walk cannot meet
a quote (a title such as ``"t"`` changes how it counts): that is checked
too, and a link with a quote in its way is left to the stock walk (so a paragraph
of unclosed links with quotes in them is still slow: the render time
budget, ``kxsj.render.budget``, ends it).
"""

from __future__ import annotations

import bisect
import re
from typing import Optional

from markdown import Extension
from markdown.inlinepatterns import IMAGE_LINK_RE, LINK_RE, ImageInlineProcessor, LinkInlineProcessor

_EVENTS = re.compile(r"[()]")
_QUOTES = re.compile(r"[\"']")


class _Parens:
    """Where the parentheses and quotes of one paragraph are, and where each depth is left."""

    def __init__(self, data: str):
        self.positions: list[int] = []
        before: list[int] = [0]  # depth before event k is before[k]; before[-1] is after the last
        depth = 0
        for m in _EVENTS.finditer(data):
            self.positions.append(m.start())
            depth += 1 if m.group() == "(" else -1
            before.append(depth)
        self.quotes = [m.start() for m in _QUOTES.finditer(data)]
        # left[k]: the first r > k with before[r] < before[k] (the depth drops below its level), else None
        self.left: list[Optional[int]] = [None] * len(before)
        stack: list[int] = []
        for r, value in enumerate(before):
            while stack and before[stack[-1]] > value:
                self.left[stack.pop()] = r
            stack.append(r)

    def close_after(self, start: int) -> Optional[int]:
        """Index just past the ``)`` that closes a ``(`` opened just before ``start``, quotes aside; None if none does."""
        k = bisect.bisect_left(self.positions, start)
        r = self.left[k]
        return None if r is None else self.positions[r - 1] + 1

    def quote_between(self, start: int, end: int) -> bool:
        k = bisect.bisect_left(self.quotes, start)
        return k < len(self.quotes) and self.quotes[k] < end


class _LinearLinkMixin:
    """``getLink`` answering from ``_Parens`` where that is exactly the stock answer."""

    _parens_of: Optional[str] = None
    _parens: Optional[_Parens] = None

    def getLink(self, data: str, index: int):  # noqa: N802 - Python-Markdown's name
        m = self.RE_LINK.match(data, pos=index)
        if not m or m.group(1):  # ``(<href> "title")``: a regular expression, no walk
            return super().getLink(data, index)
        start = m.end()
        if self._parens_of is not data:
            self._parens_of, self._parens = data, _Parens(data)
        parens = self._parens
        close = parens.close_after(start)
        end = close if close is not None else len(data)
        if parens.quote_between(start, end):  # a possible title: the stock walk decides
            return super().getLink(data, index)
        if close is None:
            return "", None, len(data), False
        return self.unescape(data[start : close - 1]).strip(), None, close, True


class LinearLinkProcessor(_LinearLinkMixin, LinkInlineProcessor):
    """``[text](href)``."""


class LinearImageProcessor(_LinearLinkMixin, ImageInlineProcessor):
    """``![alt](src)``."""


class LinearLinkExtension(Extension):
    """Replaces the ``link`` and ``image_link`` inline patterns, same names and priorities."""

    def extendMarkdown(self, md) -> None:  # noqa: N802 - Python-Markdown's name
        md.inlinePatterns.register(LinearLinkProcessor(LINK_RE, md), "link", 160)
        md.inlinePatterns.register(LinearImageProcessor(IMAGE_LINK_RE, md), "image_link", 150)
