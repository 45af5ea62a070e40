"""Where code is in a Markdown text: the one definition, as ``mathscan`` is for math.

Everything that reads a post's Markdown before the renderer does — the
loader (the ``<!--more-->`` marker, the automatic excerpt, the unclosed-fence
warning), the math lint, the citation scan — must not find a formula, a
marker or a 《title》 inside code, and must find them everywhere else.  So
they all ask this module, whose rules are the renderer's:

* a **fenced block** opens with a line of three or more backticks or tildes
  (any indentation: ``pymdownx.superfences`` finds fences inside list items
  too; a backtick fence whose info string holds a backtick is no fence, it
  is a code span) and closes at the next line holding exactly the same
  fence (same character, same length) and nothing else.  A longer or shorter
  run of the fence character is content.  A fence that never closes makes no
  code block: the renderer shows the rest of the post as ordinary text;
* a **code span** is found by Python-Markdown's own backtick processor
  (whatever its version's rules are), within one paragraph (a span never
  crosses a blank line), outside fenced blocks.

Indented code blocks (four spaces after a blank line) are not covered: the
renderer decides them by block context (a list item's continuation is
indented too), and no caller has needed them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from typing import Iterator, Optional

from markdown.inlinepatterns import BACKTICK_RE, BacktickInlineProcessor, Pattern

from kxsj.render.fast_inline import pattern_matches

_FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})")
_BLOCK_BREAK = re.compile(r"\n[ \t]*\n")
_NOT_NEWLINE = re.compile(r"[^\n]")
_BACKTICK = BacktickInlineProcessor(BACKTICK_RE)
"""Python-Markdown's code-span processor, as the renderer registers it under ``backtick``."""


@dataclass(frozen=True)
class Fence:
    """A fenced code block: offsets of its first character and of the end of
    its closing line, and its 0-based opening line.  ``end`` is None when the
    fence never closes (then it is no code block)."""

    start: int
    line: int
    end: Optional[int]


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    offset = 0
    for i, line in enumerate(text.split("\n")):
        yield i, offset, line
        offset += len(line) + 1


def fences(text: str) -> list[Fence]:
    """Every fence opened in ``text``, in order; an unclosed one is last."""
    out: list[Fence] = []
    if "```" not in text and "~~~" not in text:
        return out
    opened: Optional[tuple[int, int, str]] = None  # (offset, line, fence)
    for i, offset, line in _lines(text):
        m = _FENCE_OPEN.match(line)
        if opened is None:
            if m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
                opened = (offset, i, m.group(1))
        elif m and m.group(1) == opened[2] and not line[m.end():].strip():
            out.append(Fence(opened[0], opened[1], offset + len(line)))
            opened = None
    if opened is not None:
        out.append(Fence(opened[0], opened[1], None))
    return out


def unclosed_fence(text: str) -> Optional[int]:
    """0-based line of a fence still open at the end of ``text``, else None."""
    found = fences(text)
    return found[-1].line if found and found[-1].end is None else None


def _mask(text: str, regions: list[tuple[int, int]], fill: str) -> str:
    out, copied = [], 0
    for start, end in regions:
        out.append(text[copied:start])
        out.append(_NOT_NEWLINE.sub(fill, text[start:end]))
        copied = end
    out.append(text[copied:])
    return "".join(out)


def code_spans(text: str, backtick: Pattern = _BACKTICK, paragraphs: bool = True) -> list[tuple[int, int]]:
    """``(start, end)`` of each code span in ``text`` (no fenced blocks are looked for).

    ``backtick`` is the processor that decides; the math extension passes
    its Markdown instance's own, everyone else gets the library's.  With
    ``paragraphs`` the text is searched a paragraph at a time, as the
    renderer's inline stage sees it; without, ``text`` is one block already
    (the math extension asks about the block it holds).
    """
    if "`" not in text:
        return []
    ends = [m.start() for m in _BLOCK_BREAK.finditer(text)] if paragraphs else []
    out: list[tuple[int, int]] = []
    pos = 0
    for block_end in ends + [len(text)]:
        block = text[pos:block_end]
        if "`" in block:
            out.extend((pos + s, pos + e) for node, s, e in pattern_matches(backtick, block) if isinstance(node, etree.Element))
        pos = block_end
    return out


def mask_code_spans(text: str, backtick: Pattern = _BACKTICK, fill: str = " ", paragraphs: bool = True) -> str:
    """``text`` with every code span's characters replaced by ``fill`` (same length, newlines kept)."""
    return _mask(text, code_spans(text, backtick, paragraphs), fill) if "`" in text else text


def code_regions(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every fenced block (fence lines included) and code span, in order."""
    blocks = [(f.start, f.end) for f in fences(text) if f.end is not None]
    if "`" not in text:
        return blocks
    spans = code_spans(_mask(text, blocks, " "))
    return sorted(blocks + spans)


def mask_code(text: str) -> str:
    """``text`` with fenced blocks and code spans blanked (same length, newlines kept), so offsets stay valid."""
    if "`" not in text and "~~~" not in text:
        return text
    return _mask(text, code_regions(text), " ")


def code_lines(text: str) -> set[int]:
    """0-based numbers of the lines inside fenced blocks, fence lines included."""
    out: set[int] = set()
    for f in fences(text):
        if f.end is not None:
            last = f.line + text.count("\n", f.start, f.end)
            out.update(range(f.line, last + 1))
    return out


def marker_outside_code(text: str, marker: re.Pattern) -> Optional[tuple[int, int]]:
    """``(start, end)`` of the first whole line matching ``marker`` outside code, else None."""
    if not marker.search(text):
        return None
    inside = code_lines(text)
    for i, offset, line in _lines(text):
        if i not in inside and marker.fullmatch(line):
            return offset, offset + len(line)
    return None
