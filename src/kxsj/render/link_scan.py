"""Inline links, images and references ``[text](href)`` in time linear in the paragraph.

Python-Markdown finds where ``(href …)`` ends by walking the rest of the
paragraph one character at a time from every ``[text](``, so a paragraph of
unclosed links (``[d](e `` repeated) takes the square of its length, and
a long one never ends (``benchmarks/README.md``, "Measured costs").  Here the paragraph's parentheses are
counted once (``_Nesting``), and the closing ``)`` of each link is looked up.

The ``[text]`` part is found the same way.  Python-Markdown 3.11 walks the
whole paragraph, one character at a time, to match its brackets each time
the paragraph changes, in each of the five processors that start with
``[`` (a paragraph changes with every link, formula or emphasis replaced by
its placeholder): a tenth of rendering a math post.  Here the brackets are
found by one regular-expression pass and shared by the five.

The lookup gives exactly the stock answer where the stock walk cannot meet
a quote (a title such as ``"t"`` changes how it counts): that is checked
too, and a link with a quote in its way is left to the stock walk (so a paragraph
of unclosed links with quotes in them is still slow: the render time
budget, ``kxsj.render.budget``, ends it).
"""

from __future__ import annotations

import bisect
import re
import threading
from typing import Optional

from markdown import Extension
from markdown.inlinepatterns import (
    IMAGE_LINK_RE, IMAGE_REFERENCE_RE, LINK_RE, REFERENCE_RE, ImageInlineProcessor, ImageReferenceInlineProcessor,
    LinkInlineProcessor, ReferenceInlineProcessor, ShortImageReferenceInlineProcessor, ShortReferenceInlineProcessor,
)

_PARENS = re.compile(r"[()]")
_BRACKETS = re.compile(r"[\[\]]")
_QUOTES = re.compile(r"[\"']")


class _Nesting:
    """Where the parentheses (or brackets) and quotes of one paragraph are, and where each depth is left."""

    def __init__(self, data: str, events: re.Pattern = _PARENS, opener: str = "("):
        self.positions: list[int] = []
        before: list[int] = [0]  # depth before event k is before[k]; before[-1] is after the last
        depth = 0
        for m in events.finditer(data):
            self.positions.append(m.start())
            depth += 1 if m.group() == opener else -1
            before.append(depth)
        self.quotes = [m.start() for m in _QUOTES.finditer(data)] if events is _PARENS else []
        # left[k]: the first r > k with before[r] < before[k] (the depth drops below its level), else None
        self.left: list[Optional[int]] = [None] * len(before)
        stack: list[int] = []
        for r, value in enumerate(before):
            while stack and before[stack[-1]] > value:
                self.left[stack.pop()] = r
            stack.append(r)

    def close_after(self, start: int) -> Optional[int]:
        """Index just past the ``)`` (``]``) that closes a ``(`` (``[``) opened just before ``start``, quotes aside; None if none does."""
        k = bisect.bisect_left(self.positions, start)
        r = self.left[k]
        return None if r is None else self.positions[r - 1] + 1

    def quote_between(self, start: int, end: int) -> bool:
        k = bisect.bisect_left(self.quotes, start)
        return k < len(self.quotes) and self.quotes[k] < end


class _Brackets(threading.local):
    """The brackets of the paragraph searched last, shared by every processor that starts with ``[``."""

    data: Optional[str] = None
    nesting: Optional[_Nesting] = None

    def of(self, data: str) -> _Nesting:
        if self.data is not data:
            self.data, self.nesting = data, _Nesting(data, _BRACKETS, "[")
        return self.nesting


_LAST_BRACKETS = _Brackets()


class _LinearTextMixin:
    """``getText`` answering from ``_Nesting``: the stock answer, without the character walk."""

    def getText(self, data: str, index: int):  # noqa: N802 - Python-Markdown's name
        end = _LAST_BRACKETS.of(data).close_after(index)
        if end is None:
            return data[index:], len(data), False
        return data[index : end - 1], end, True


class _LinearLinkMixin(_LinearTextMixin):
    """``getLink`` answering from ``_Nesting`` where that is exactly the stock answer."""

    _parens_of: Optional[str] = None
    _parens: Optional[_Nesting] = None

    def getLink(self, data: str, index: int):  # noqa: N802 - Python-Markdown's name
        m = self.RE_LINK.match(data, pos=index)
        if not m or m.group(1):  # ``(<href> "title")``: a regular expression, no walk
            return super().getLink(data, index)
        start = m.end()
        if self._parens_of is not data:
            self._parens_of, self._parens = data, _Nesting(data)
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


class _Reference(_LinearTextMixin, ReferenceInlineProcessor):
    """``[text][id]``."""


class _ImageReference(_LinearTextMixin, ImageReferenceInlineProcessor):
    """``![alt][id]``."""


class _ShortReference(_LinearTextMixin, ShortReferenceInlineProcessor):
    """``[id]``."""


class _ShortImageReference(_LinearTextMixin, ShortImageReferenceInlineProcessor):
    """``![id]``."""


class LinearLinkExtension(Extension):
    """Replaces the inline patterns that start with ``[``, same names and priorities."""

    def extendMarkdown(self, md) -> None:  # noqa: N802 - Python-Markdown's name
        md.inlinePatterns.register(_Reference(REFERENCE_RE, md), "reference", 170)
        md.inlinePatterns.register(LinearLinkProcessor(LINK_RE, md), "link", 160)
        md.inlinePatterns.register(LinearImageProcessor(IMAGE_LINK_RE, md), "image_link", 150)
        md.inlinePatterns.register(_ImageReference(IMAGE_REFERENCE_RE, md), "image_reference", 140)
        md.inlinePatterns.register(_ShortReference(REFERENCE_RE, md), "short_reference", 130)
        md.inlinePatterns.register(_ShortImageReference(IMAGE_REFERENCE_RE, md), "short_image_ref", 125)
