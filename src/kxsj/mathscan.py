"""Where the formulas are in a piece of text, by the rules the site's MathJax uses.

One scanner serves everyone who must agree on what is math: the dump reader
(which must not escape inside formulas), the Markdown math extension, and the
math lint.  The rules follow how kexue.fm's MathJax read the archive:

* ``$…$`` inline, ``$$…$$`` display, ``\\(…\\)`` inline, ``\\[…\\]`` display;
* ``\\begin{env}…\\end{env}`` outside ``$`` is display math (nested envs of
  the same name are counted);
* ``\\$`` is a literal dollar;
* money is not math: a ``$`` followed by a digit never closes inline math, so
  ``花了$5，又花了$10`` stays text;
* inline math never spans a blank line.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Optional

_BEGIN = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True, slots=True)
class MathSpan:
    """``text[start:end]`` is one formula, delimiters included."""

    start: int
    end: int
    display: bool
    kind: str  # "$", "$$", "\\(", "\\[", or "env"
    env: str = ""

    def tex(self, text: str) -> str:
        """The formula as written, delimiters included."""
        return text[self.start : self.end]


def _is_escaped(text: str, pos: int) -> bool:
    """True when ``text[pos]`` is preceded by an odd number of backslashes."""
    n = 0
    pos -= 1
    while pos >= 0 and text[pos] == "\\":
        n += 1
        pos -= 1
    return n % 2 == 1


class _Misses(threading.local):
    """Searches that found nothing, for the text searched last: ``key -> (start, stop)``.

    A paragraph of 50,000 unclosed ``\\(`` (or ``$5`` amounts) would
    otherwise search to its end from each one: quadratic.  A search that
    found nothing from ``start`` finds nothing from any later start before
    ``stop`` either (the end of the text searched, or the blank line that
    ended inline math), so it is not made again.  The markdown
    extension asks about one paragraph string many times in a row.
    """

    text: Optional[str] = None
    misses: dict


_MISSES = _Misses()


def _known_miss(text: str, key: tuple, pos: int) -> bool:
    memo = _MISSES
    if memo.text is not text:
        memo.text, memo.misses = text, {}
        return False
    span = memo.misses.get(key)
    return span is not None and span[0] <= pos < span[1]


def _note_miss(text: str, key: tuple, pos: int, stop: int) -> None:
    memo = _MISSES
    if memo.text is not text:
        memo.text, memo.misses = text, {}
    span = memo.misses.get(key)
    if span is None or span[1] != stop or pos < span[0]:
        memo.misses[key] = (pos, stop)


def _find_unescaped(text: str, needle: str, pos: int, limit: int) -> int:
    key = (needle, limit)
    if _known_miss(text, key, pos):
        return -1
    start = pos
    while True:
        found = text.find(needle, pos, limit)
        if found < 0:
            _note_miss(text, key, start, limit)
            return -1
        if not _is_escaped(text, found):
            return found
        pos = found + 1


def _env_end(text: str, start: int, env: str, limit: int) -> int:
    """End (exclusive) of the ``\\begin{env}`` at ``start``, or -1 when unclosed."""
    begin = f"\\begin{{{env}}}"
    end = f"\\end{{{env}}}"
    depth = 0
    pos = start
    key = ("env", end, limit)
    if _known_miss(text, key, pos):
        return -1
    while pos < limit:
        nb = text.find(begin, pos, limit)
        ne = text.find(end, pos, limit)
        if ne < 0:
            _note_miss(text, key, pos, limit)
            return -1
        if 0 <= nb < ne:
            depth += 1
            pos = nb + len(begin)
        else:
            depth -= 1
            pos = ne + len(end)
            if depth == 0:
                return pos
    return -1


def find_inline_close(text: str, pos: int, limit: int) -> int:
    """Index of the ``$`` that closes inline math opened just before ``pos``, or -1.

    A ``$`` followed by a digit does not close (money), nor does an escaped
    one, nor one past a blank line.
    """
    key = ("inline", limit)
    if _known_miss(text, key, pos):
        return -1
    start = seen = pos
    while True:
        close = _find_unescaped(text, "$", pos, limit)
        # A blank line ends inline math.  Looked for only up to the ``$``
        # found (a blank line holds no ``$``), so each character is searched
        # once however many ``$`` the paragraph holds.
        blank = _BLANK_LINE.search(text, seen, close if close >= 0 else limit)
        if close < 0 or blank is not None:
            _note_miss(text, key, start, blank.start() if blank is not None else limit)
            return -1
        seen = close + 1
        if close + 1 < len(text) and text[close + 1] == "$":
            # ``$x$$`` would close on the first; ``$$`` inside inline math is not TeX.
            return close if close > pos else -1
        if close + 1 < len(text) and text[close + 1].isdigit():
            pos = close + 1
            continue
        if close == pos:
            return -1  # ``$$`` handled elsewhere; an empty ``$$`` is no formula
        return close


def match_at(text: str, pos: int, limit: int | None = None) -> MathSpan | None:
    """The formula starting exactly at ``pos``, or None.

    Used by the Markdown extension, which sees a candidate opening delimiter
    and asks whether a whole formula starts there.
    """
    if limit is None:
        limit = len(text)
    if pos >= limit or _is_escaped(text, pos):
        return None
    ch = text[pos]
    if ch == "$":
        if text.startswith("$$", pos):
            close = _find_unescaped(text, "$$", pos + 2, limit)
            if close < 0 or close == pos + 2:
                return None
            return MathSpan(pos, close + 2, True, "$$")
        close = find_inline_close(text, pos + 1, limit)
        if close < 0:
            return None
        return MathSpan(pos, close + 1, False, "$")
    if ch != "\\":
        return None
    two = text[pos : pos + 2]
    if two == "\\(":
        close = _find_unescaped(text, "\\)", pos + 2, limit)
        # ``\)`` is found by its backslash; that backslash must itself be unescaped
        return MathSpan(pos, close + 2, False, "\\(") if close >= 0 else None
    if two == "\\[":
        close = _find_unescaped(text, "\\]", pos + 2, limit)
        return MathSpan(pos, close + 2, True, "\\[") if close >= 0 else None
    m = _BEGIN.match(text, pos)
    if m:
        end = _env_end(text, pos, m.group(1), limit)
        if end < 0:
            return None
        return MathSpan(pos, end, True, "env", m.group(1))
    return None


_CANDIDATE = re.compile(r"\$|\\[(\[]|\\begin\{|\\.", re.S)


def scan(text: str, start: int = 0, limit: int | None = None) -> list[MathSpan]:
    """Every formula in ``text[start:limit]``, in order, non-overlapping."""
    if "$" not in text and "\\" not in text:
        # Every formula and every escape starts with ``$`` or ``\\``, so there
        # is nothing to find in any part of ``text``; ``in`` says so faster
        # than the search below.
        return []
    if limit is None:
        limit = len(text)
    spans: list[MathSpan] = []
    pos = start
    while True:
        m = _CANDIDATE.search(text, pos, limit)
        if not m:
            return spans
        at = m.start()
        span = match_at(text, at, limit)
        if span is None:
            # ``\x`` escapes are skipped whole so ``\$`` never opens math;
            # a lone ``$`` that opens nothing is literal.
            pos = at + (2 if text[at] == "\\" else 1)
            if text.startswith("$$", at):
                pos = at + 2
            continue
        spans.append(span)
        pos = span.end


def unclosed_env_openers(text: str) -> list[tuple[int, str]]:
    """``\\begin{env}`` positions with no matching ``\\end`` (for multi-line joins)."""
    out = []
    for m in _BEGIN.finditer(text):
        if _is_escaped(text, m.start()):
            continue
        if _env_end(text, m.start(), m.group(1), len(text)) < 0:
            out.append((m.start(), m.group(1)))
    return out


# --------------------------------------------------------------------------
# TeX outside formulas
#
# The crawl of the original site lost the ``$`` around some formulas, so the
# prose holds bare TeX: ``\boldsymbol{M}_t\boldsymbol{V}_{t-1}``,
# ``t\in\{0,1\}``.  Read as Markdown its ``_`` and ``*`` become emphasis, its
# ``\{`` loses the backslash and its ``{…}`` feeds attr_list.  One rule, shared
# by the renderer (which shows such a run verbatim) and the lint (which asks
# the author to wrap it in ``$…$``): a *TeX run* is a maximal run of printable
# ASCII without spaces (and without ``[]()<>``, which Markdown links and
# autolinks need, and without leading or trailing ``*``/``_``, which may
# close emphasis around it) holding a control word, a backslash that is not
# itself escaped followed by a letter, and no ``://`` (an address).
# Markdown has no escape ``\`` + letter, so a run with one is not Markdown
# that an author escaped; a dump's literal Markdown always doubles its
# backslashes (``kxsj.render.md_literal``), so it has none.

_RUN_EDGE = "*_"


def _run_char(ch: str) -> bool:
    return "!" <= ch <= "~" and ch not in "[]()<>"


def _has_control_word(text: str, start: int, end: int) -> bool:
    i = text.find("\\", start, end)
    while 0 <= i < end - 1:
        nxt = text[i + 1]
        if nxt.isascii() and nxt.isalpha():
            return True
        i = text.find("\\", i + 2, end)
    return False


def tex_run_at(text: str, pos: int) -> tuple[int, int] | None:
    """``(start, end)`` of the TeX run holding ``text[pos]``, or None if there is none."""
    if pos >= len(text) or not _run_char(text[pos]):
        return None
    start, end = pos, pos + 1
    while start > 0 and _run_char(text[start - 1]):
        start -= 1
    while end < len(text) and _run_char(text[end]):
        end += 1
    while start < end and text[start] in _RUN_EDGE:
        start += 1
    while end > start and text[end - 1] in _RUN_EDGE:
        end -= 1
    if not start <= pos < end or not _has_control_word(text, start, end):
        return None
    if text.find("://", start, end) >= 0:  # an address (``<http://x/a\b>``), not TeX
        return None
    return start, end


_CONTROL_WORD = re.compile(r"\\[A-Za-z]")


def tex_runs(text: str, start: int = 0, limit: int | None = None) -> list[tuple[int, int]]:
    """Every TeX run in ``text[start:limit]`` (none of them crossing ``limit``)."""
    limit = len(text) if limit is None else limit
    piece = text[:limit]
    runs: list[tuple[int, int]] = []
    for m in _CONTROL_WORD.finditer(piece, start):
        if runs and m.start() < runs[-1][1]:
            continue
        run = tex_run_at(piece, m.start())
        if run is not None and run[0] >= start:
            runs.append(run)
    return runs
