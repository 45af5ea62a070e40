"""How a newline inside a paragraph is shown: the ``line_breaks`` setting.

* ``joined`` (the default): a newline between two Chinese characters shows
  in the browser as a space, which Chinese text never has, so it is removed
  (with the indentation around it), except after ``。？！：；``, where a
  sentence or a clause ends and the line break may be the author's: there
  it is kept (the browser shows a space).  Other newlines are kept.
* ``space``: every newline is kept (the browser shows a space), as
  CommonMark has it.
* ``br``: every newline between two pieces of text is a line break
  (``<br>``), as the original WordPress site showed them.

The Treeprocessor works on the text nodes of the finished tree, also across
inline element boundaries (``中\\n<strong>文</strong>``), but never inside
math, code or ``<pre>``, and never across a block-level boundary.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor

from kxsj.cjk_ranges import HAN, KANA, PUNCTUATION
from kxsj.render.math import MATH_CLASS
from kxsj.render.context import LINE_BREAKS

# CJK ideographs and the punctuation that goes with them: CJK symbols,
# fullwidth forms, kana, and the curly quotes, ellipsis and dash Chinese
# text uses.
_CJK = "\u2014\u2018\u2019\u201c\u201d\u2026" + PUNCTUATION + KANA + HAN
# Where a sentence or clause ends: a line break after it is not a wrap.
_ENDS_CLAUSE = "。？！：；"
_BROKEN_LINE = re.compile(f"(?<=[{_CJK}])(?<![{_ENDS_CLAUSE}])[ \\t]*\\n[ \\t]*(?=[{_CJK}])")
# A newline with text on both sides (not at the edge of a block).
_TEXT_LINE_BREAK = re.compile("(?<=[^\\s\\x00])[ \\t]*\\n[ \\t]*(?=[^\\s\\x00])")

_OPAQUE_TAGS = frozenset({"pre", "code", "script", "style", "kbd", "samp"})
_BARRIER = "\x00"  # stands for anything the join must not see through


def _opaque(el: etree.Element) -> bool:
    return el.tag in _OPAQUE_TAGS or MATH_CLASS in (el.get("class") or "").split()


class CjkLineJoinProcessor(Treeprocessor):
    """Show newlines in text nodes as ``mode`` says (one of ``LINE_BREAKS``)."""

    def __init__(self, md: Markdown, mode: str = "joined") -> None:
        super().__init__(md)
        if mode not in LINE_BREAKS:
            raise ValueError(f"line_breaks must be one of {', '.join(LINE_BREAKS)}, not {mode!r}")
        self.mode = mode

    def run(self, root: etree.Element) -> None:
        if self.mode == "space":
            return
        pieces: list[tuple[etree.Element, str, etree.Element] | None] = []
        self._collect(root, pieces)
        self._cut(pieces, _BROKEN_LINE if self.mode == "joined" else _TEXT_LINE_BREAK)

    def _collect(self, el: etree.Element, pieces: list) -> None:
        """Text slots ``(element, "text" or "tail", parent)`` in document order; None marks a barrier."""
        block = self.md.is_block_level(el.tag)
        if block:
            pieces.append(None)
        if el.text:
            pieces.append((el, "text", el))
        for child in el:
            if _opaque(child):
                pieces.append(None)
            else:
                self._collect(child, pieces)
            if child.tail:
                pieces.append((child, "tail", el))
        if block:
            pieces.append(None)

    def _cut(self, pieces: list, regex: re.Pattern) -> None:
        """Replace every match of ``regex`` in the joined stream: by nothing, or by ``<br>`` in ``br`` mode."""
        texts = [_BARRIER if p is None else getattr(p[0], p[1]) for p in pieces]
        stream = "".join(texts)
        if "\n" not in stream:
            return
        cuts = [m.span() for m in regex.finditer(stream)]
        first_cut = 0  # cuts before this one end before the current piece
        offset = 0
        for piece, text in zip(pieces, texts):
            start, end = offset, offset + len(text)
            offset = end
            while first_cut < len(cuts) and cuts[first_cut][1] <= start:
                first_cut += 1
            if piece is None or first_cut == len(cuts) or cuts[first_cut][0] >= end:
                continue
            kept, pos, breaks = [], 0, []
            for a, b in cuts[first_cut:]:
                if a >= end:
                    break
                kept.append(text[pos : max(a - start, pos)])
                breaks.append(a >= start)  # a cut that starts in this piece gets the <br>
                pos = min(b, end) - start
            kept.append(text[pos:])
            if self.mode == "br":
                _put_breaks(piece, kept, breaks)
            else:
                # ``type(text)`` keeps an AtomicString atomic.
                setattr(piece[0], piece[1], type(text)("".join(kept)))


def _put_breaks(piece: tuple, kept: list[str], breaks: list[bool]) -> None:
    """Write ``kept[0] <br> kept[1] <br> …`` into the slot ``piece`` (a ``<br>`` only where ``breaks`` says)."""
    el, slot, parent = piece
    kind = type(getattr(el, slot))
    chunks = [kept[0]]
    for is_break, text in zip(breaks, kept[1:]):
        if is_break:
            chunks.append(text)
        else:
            chunks[-1] += text
    setattr(el, slot, kind(chunks[0]) or None)
    index = 0 if slot == "text" else list(parent).index(el) + 1
    for i, text in enumerate(chunks[1:]):
        br = etree.Element("br")
        br.tail = kind(text) if text else None
        parent.insert(index + i, br)


class CjkLineJoinExtension(Extension):
    """Run after inline processing (20) and before ``toc`` (5).  ``mode``: ``line_breaks``."""

    def __init__(self, mode: str = "joined", **kwargs) -> None:
        super().__init__(**kwargs)
        self.mode = mode

    def extendMarkdown(self, md: Markdown) -> None:
        md.treeprocessors.register(CjkLineJoinProcessor(md, self.mode), "kxsj-cjk-join", 15)
