"""How long a post is and how long it takes to read.

Chinese is read character by character (about 400 a minute), other text word
by word (about 200 a minute).  Math is counted lightly: a reader skims an
inline formula like a word, and a display formula like a short sentence, so
TeX source (``\\frac{\\partial}{\\partial x}`` is 26 characters) does not
inflate the estimate.  Code is read as words.  Markdown markup (link
addresses, HTML tags, ``#`` and ``*``) is not text and is not counted.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Callable, Optional

from kxsj.cjk_ranges import HAN, HANGUL, KANA
from kxsj.mathscan import scan
from kxsj.model import Post

CJK_PER_MINUTE = 400
WORDS_PER_MINUTE = 200
WORDS_PER_INLINE_MATH = 1
WORDS_PER_DISPLAY_MATH = 8

_CJK_RANGES = HAN + KANA + HANGUL
_CJK_RUN = re.compile(f"[{_CJK_RANGES}]+")
"""CJK characters, counted one by one; matched in runs so there are few matches."""
_WORD = re.compile(rf"[^\W_{_CJK_RANGES}]+(?:['’.\-][^\W_{_CJK_RANGES}]+)*")
"""A word of other text: letters and digits, joined by ``'’.-``, none of them CJK.

A CJK character ends a word just as a space would (it is neither a letter
here nor a joiner), so this finds in one pass the words of the text with
every CJK character replaced by a space.
"""
_LINE_MARKER = re.compile(r"^[ \t]*(?:#{1,6}|[*+-]|\d+\.|>)[ \t]+", re.M)
"""Heading, list and quote markers at the start of a line."""
_INLINE_MARKUP = re.compile(
    # Every alternative starts with one of these characters: a class first
    # lets the regex engine skip the text between them at C speed (twice as
    # fast as trying each alternative at every character).
    r"[!\[<*_~`]"
    r"(?:(?<=!)\[([^\]\n]*)\]\([^)\n]*\)"  # ![alt](url): keep the alt text
    r"|(?<=\[)([^\]\n]*)\]\([^)\n]*\)"  # [text](url): keep the text
    r"|(?<=<)[^>\n]+>"  # HTML tags
    r"|(?<=[*_~`])[*_~`]*)"  # emphasis and code marks
)


def _strip_markup(text: str) -> str:
    """``text`` without markup, each piece replaced by its text or a space.

    Line markers go first, then the rest, which gives what one pass over
    both would: no piece runs over a line end; a marker matches only at the
    start of a line, where a link, image or tag cannot also start and the
    one pass would try it before emphasis marks; and the space it leaves
    cannot start or join a piece.  (A test checks this against the one
    pass on real posts and generated text.)
    """
    text = _LINE_MARKER.sub(" ", text)
    return _INLINE_MARKUP.sub(lambda m: m.group(1) or m.group(2) or " ", text)


def _text_and_math(markdown_text: str) -> tuple[str, list]:
    """The body's text with math and markup taken out, and the math spans."""
    spans = scan(markdown_text)
    pieces, pos = [], 0
    for span in spans:
        pieces.append(markdown_text[pos : span.start])
        pieces.append(" ")
        pos = span.end
    pieces.append(markdown_text[pos:])
    return _strip_markup("".join(pieces)), spans


def _counts(text: str, spans: list) -> tuple[int, int, int, int]:
    # Runs, not single characters: far fewer matches, the same total.
    cjk = sum(map(len, _CJK_RUN.findall(text)))
    words = len(_WORD.findall(text))
    display = sum(1 for s in spans if s.display)
    return cjk, words, len(spans) - display, display


def text_counts(markdown_text: str) -> tuple[int, int, int, int]:
    """``(cjk_chars, other_words, inline_formulas, display_formulas)`` of a body."""
    return _counts(*_text_and_math(markdown_text))


@functools.lru_cache(maxsize=8192)  # kxsj serve enriches the same bodies after every save
def _chars_and_minutes(markdown_text: str) -> tuple[int, int]:
    """``char_count`` and ``reading_minutes`` together.

    The body is scanned for math and stripped of markup once for both, and
    characters are counted by C string methods and the regex engine rather
    than a Python loop per character.
    """
    text, spans = _text_and_math(markdown_text)
    chars = sum(map(len, text.split()))  # split() drops exactly the str.isspace characters
    cjk, words, inline, display = _counts(text, spans)
    words += inline * WORDS_PER_INLINE_MATH + display * WORDS_PER_DISPLAY_MATH
    minutes = cjk / CJK_PER_MINUTE + words / WORDS_PER_MINUTE
    if minutes == 0:
        return chars, 0
    return chars, max(1, math.ceil(minutes - 1e-9))


def char_count(markdown_text: str) -> int:
    """Characters a reader sees as text: no math, markup or whitespace."""
    return _chars_and_minutes(markdown_text)[0]


def reading_minutes(markdown_text: str) -> int:
    """Whole minutes to read, at least 1 for any text at all (0 for an empty body)."""
    return _chars_and_minutes(markdown_text)[1]


def chars_and_minutes(markdown_text: str) -> tuple[int, int]:
    """``(char_count, reading_minutes)`` of a body, in one pass."""
    return _chars_and_minutes(markdown_text)


def assign_reading(posts: list[Post], counts: Optional[Callable[[str], tuple[int, int]]] = None) -> None:
    """Set ``chars`` and ``reading_minutes`` from each post's body.

    ``counts`` replaces ``chars_and_minutes`` (``kxsj build`` passes one
    that keeps the numbers in the output's cache).
    """
    counts = counts or _chars_and_minutes
    for post in posts:
        post.chars, post.reading_minutes = counts(post.body)
