"""Plain text -> Markdown that ``BodyRenderer`` renders back to exactly that text.

The dump reader turns a listing dump's plain text into Markdown; every
character outside a formula must come out as written, even ``*``, ``_``,
``#`` at a line start, ``1.``, ``<script>`` or a literal ``$``.  This is the
escaping contract in one place, next to the renderer it must match (the
tests render it back).  Formulas (as ``kxsj.mathscan`` finds them) are kept
untouched.

Why not a backslash before everything: ``\\(`` and ``\\[`` are math openers
(``mathscan``), so ``(`` is left alone (it means nothing once ``[`` is
escaped) and ``[`` is written as ``&#91;``; ``~`` has no backslash escape but
``~~~`` at a line start opens a code fence, so it is ``&#126;``.
"""

from __future__ import annotations

from kxsj.mathscan import scan

# Must be a subset of BodyRenderer().escaped_chars (a test checks it).
_BACKSLASHED = frozenset("\\`*_{}]>#+-.!|$")
_ENTITIES = {"&": "&amp;", "<": "&lt;", "[": "&#91;", "~": "&#126;"}


def literal_text(text: str) -> str:
    """Markdown for ``text`` read as plain characters (no formula inside)."""
    out = []
    for ch in text:
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _BACKSLASHED:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def literal_line(line: str) -> str:
    """Markdown for one line of dump text: formulas kept, the rest literal.

    Leading and trailing whitespace is dropped (Markdown would read four
    leading spaces as code and two trailing ones as a line break).
    """
    line = line.strip()
    out, pos = [], 0
    for span in scan(line):
        out.append(literal_text(line[pos : span.start]))
        out.append(span.tex(line))
        pos = span.end
    out.append(literal_text(line[pos:]))
    return "".join(out)
