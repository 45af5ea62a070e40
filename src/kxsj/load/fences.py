"""Fenced code blocks in a post body, as the loader needs to know them.

Two things the loader looks for must not be found inside code: the
``<!--more-->`` marker (a post about Hexo or Hugo quotes it in a code
block, and that line was cut out of the code), and where a fence is left
open at the end of the file (Markdown then shows the rest of the post as
text; the author gets a ``path:line`` warning).
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


def fence_states(body: str) -> Iterator[tuple[int, int, str, bool, bool]]:
    """``(line index, offset, line, inside code, open after it)`` for each line of ``body``.

    Fence lines count as code; "open after it" says whether a fence is still
    open once the line is read.
    """
    fence: Optional[str] = None
    offset = 0
    for i, line in enumerate(body.split("\n")):
        m = _FENCE.match(line)
        if fence is None:
            code = bool(m) and not (m.group(1)[0] == "`" and "`" in line[m.end():])
            if code:
                fence = m.group(1)
        else:
            code = True
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end():].strip():
                fence = None
        yield i, offset, line, code, fence is not None
        offset += len(line) + 1


def marker_outside_code(body: str, marker: re.Pattern) -> Optional[tuple[int, int]]:
    """``(start, end)`` of the first line matching ``marker`` outside fenced code, else None."""
    if not marker.search(body):
        return None
    for _i, offset, line, code, _open in fence_states(body):
        if not code and marker.fullmatch(line):
            return offset, offset + len(line)
    return None


def unclosed_fence(body: str) -> Optional[int]:
    """0-based line of a fence still open at the end of ``body``, else None."""
    opened: Optional[int] = None
    was_open = False
    for i, _offset, _line, _code, is_open in fence_states(body):
        if is_open and not was_open:
            opened = i
        was_open = is_open
    return opened if was_open else None
