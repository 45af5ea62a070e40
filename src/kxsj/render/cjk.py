"""Join Chinese lines that were broken inside a paragraph.

A newline between two Chinese characters shows in the browser as a space,
which Chinese text never has; the archive's posts wrap lines freely.  This
Treeprocessor removes such newlines (and the indentation around them) from
the text nodes of the finished tree, also across inline element boundaries
(``中\\n<strong>文</strong>``), but never inside math, code or ``<pre>``,
and never across a block-level boundary.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor

from kxsj.render.math import MATH_CLASS

# CJK ideographs and the punctuation that goes with them: CJK symbols,
# fullwidth forms, kana, the curly quotes, ellipsis and dashes.
_CJK = (
    "\u2014\u2018\u2019\u201c\u201d\u2026"
    "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003134f"
)
_BROKEN_LINE = re.compile(f"(?<=[{_CJK}])[ \\t]*\\n[ \\t]*(?=[{_CJK}])")

_OPAQUE_TAGS = frozenset({"pre", "code", "script", "style", "kbd", "samp"})
_BARRIER = "\x00"  # stands for anything the join must not see through


def _opaque(el: etree.Element) -> bool:
    return el.tag in _OPAQUE_TAGS or MATH_CLASS in (el.get("class") or "").split()


class CjkLineJoinProcessor(Treeprocessor):
    """Remove newlines between CJK characters in text nodes."""

    def run(self, root: etree.Element) -> None:
        pieces: list[tuple[etree.Element, str] | None] = []
        self._collect(root, pieces)
        self._join(pieces)

    def _collect(self, el: etree.Element, pieces: list) -> None:
        """Text slots in document order; None marks a barrier."""
        block = self.md.is_block_level(el.tag)
        if block:
            pieces.append(None)
        if el.text:
            pieces.append((el, "text"))
        for child in el:
            if _opaque(child):
                pieces.append(None)
            else:
                self._collect(child, pieces)
            if child.tail:
                pieces.append((child, "tail"))
        if block:
            pieces.append(None)

    @staticmethod
    def _join(pieces: list) -> None:
        texts = [_BARRIER if p is None else getattr(p[0], p[1]) for p in pieces]
        stream = "".join(texts)
        if "\n" not in stream:
            return
        cuts = [m.span() for m in _BROKEN_LINE.finditer(stream)]
        first_cut = 0  # cuts before this one end before the current piece
        offset = 0
        for piece, text in zip(pieces, texts):
            start, end = offset, offset + len(text)
            offset = end
            while first_cut < len(cuts) and cuts[first_cut][1] <= start:
                first_cut += 1
            if piece is None or first_cut == len(cuts) or cuts[first_cut][0] >= end:
                continue
            kept, pos = [], 0
            for a, b in cuts[first_cut:]:
                if a >= end:
                    break
                kept.append(text[pos : max(a - start, pos)])
                pos = min(b, end) - start
            kept.append(text[pos:])
            # ``type(text)`` keeps an AtomicString atomic.
            setattr(piece[0], piece[1], type(text)("".join(kept)))


class CjkLineJoinExtension(Extension):
    """Run the join after inline processing (20) and before ``toc`` (5)."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.treeprocessors.register(CjkLineJoinProcessor(md), "kxsj-cjk-join", 15)
