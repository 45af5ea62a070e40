"""Listing dumps (``posts/*.txt``): plain text scraped from kexue.fm's list pages.

Two formats, possibly mixed in one file:

*Listing format* — a post starts at a ``15 Nov`` line (no year), then its
title, its excerpt paragraphs and the ``点击阅读全文...`` stub::

    15 Nov

    WGAN新方案:通过梯度归一化来实现L约束

    当前,WGAN主流的实现方式……

    点击阅读全文...

*Search format* — a post starts at its title line, immediately followed by a
``By 苏剑林 | 2021-04-11 | 141741位读者 | 引用`` line with the first paragraph
glued to it; ``最近评论`` (the sidebar) ends the content.

This module only cuts a file into entries and says which line is what; it
never drops a content line.  ``dumptext`` turns an entry's lines into Markdown.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Optional

from kxsj.model import MONTH_NAMES, Diagnostic

MONTHS = {m: i for i, m in enumerate(MONTH_NAMES, 1)}
DATE_LINE = re.compile(r"^[ \t\u3000]*(\d{1,2})[ \t]+(" + "|".join(MONTH_NAMES) + r")[ \t\u3000]*$")
BYLINE = re.compile(r"^By (?P<author>[^|\n]{1,60}?) \| (?P<date>\d{4}-\d{1,2}-\d{1,2}) \| (?P<readers>[\d,]+)位读者 \| 引用(?P<rest>.*)$")
MORE_STUB = re.compile(r"^[ \t\u3000]*点击阅读全文(\.\.\.|…|……)?[ \t\u3000]*$")
SIDEBAR = re.compile(r"^[ \t\u3000]*最近评论[ \t\u3000]*$")

TITLE_MAX = 48
"""A first line longer than this (in characters) is body text, not a lost title."""
_SENTENCE_END = ("。", "，", "；", "：", ",", ";")


@dataclass
class Line:
    """One content line of a dump, with its 1-based line number."""

    no: int
    text: str


@dataclass
class DumpEntry:
    """One post as a dump shows it, before metadata and duplicates are applied."""

    path: str
    start: int  # line of the entry's first line (date line or title line)
    fmt: str  # "listing", "search" or "orphan"
    month: Optional[int] = None
    day: Optional[int] = None
    year: Optional[int] = None
    author: Optional[str] = None
    readers: Optional[int] = None  # the byline's 「N位读者」
    title: Optional[Line] = None  # the title line, when the dump has one
    lines: list[Line] = field(default_factory=list)  # body lines (title excluded)
    has_more: bool = False
    date_error: Optional[str] = None

    @property
    def first_line(self) -> Optional[Line]:
        """The line in title position: the title, or the first body line when there is none."""
        if self.title is not None:
            return self.title
        return self.lines[0] if self.lines else None


def nfkc(text: str) -> str:
    """Matching form of a title: NFKC (dumps print ``：`` as ``:``) without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def looks_like_title(text: str) -> bool:
    """Whether a line in title position can be a title (a long sentence cannot)."""
    t = text.strip()
    return 0 < len(t) <= TITLE_MAX and not t.endswith(_SENTENCE_END)


def parse_dump(text: str, path: str, diags: list[Diagnostic]) -> list[DumpEntry]:
    """Cut a dump into entries; every non-blank, non-chrome line lands in one entry.

    Never raises: text that fits no format becomes an ``orphan`` entry with a
    warning, so nothing is lost.
    """
    raw = text.split("\n")
    if raw and raw[0].startswith("\ufeff"):
        raw[0] = raw[0][1:]
    entries: list[DumpEntry] = []
    cur: Optional[DumpEntry] = None
    sidebar_at: Optional[int] = None
    after_sidebar = 0
    i = 0
    n = len(raw)
    while i < n:
        line = raw[i]
        no = i + 1
        stripped = line.strip()
        if sidebar_at is not None:
            # Anything after the sidebar heading is sidebar (comments, links).
            if stripped:
                after_sidebar += 1
            i += 1
            continue
        m = DATE_LINE.match(line)
        if m:
            cur, i = _listing_entry(raw, i, path, m)
            entries.append(cur)
            continue
        if stripped and i + 1 < n and BYLINE.match(raw[i + 1]):
            cur = _search_entry(raw, i, path, BYLINE.match(raw[i + 1]))
            entries.append(cur)
            i += 2
            continue
        if not stripped:
            i += 1
            continue
        if MORE_STUB.match(line):
            if cur is not None:
                cur.has_more = True
            i += 1
            continue
        if SIDEBAR.match(line):
            sidebar_at = no
            i += 1
            continue
        if cur is None:
            cur = DumpEntry(path, no, "orphan")
            entries.append(cur)
            diags.append(Diagnostic(path, no, "warning", "text before the first post header (a `15 Nov` date line, or a title followed by a `By … | YYYY-MM-DD | … | 引用` line); kept as an untitled post — add the header above it"))
        cur.lines.append(Line(no, line.rstrip()))
        i += 1
    if after_sidebar:
        diags.append(Diagnostic(path, sidebar_at, "info", f"{after_sidebar} line(s) after `最近评论` are the page's sidebar and were not loaded"))
    for e in entries:
        if e.date_error:
            diags.append(Diagnostic(path, e.start, "error", e.date_error))
    return entries


def _listing_entry(raw: list[str], i: int, path: str, m: re.Match) -> tuple[DumpEntry, int]:
    """The entry a ``15 Nov`` date line at ``raw[i]`` starts, and the index of the line after its header."""
    entry = DumpEntry(path, i + 1, "listing")
    day, month = int(m.group(1)), MONTHS[m.group(2)]
    try:
        _dt.date(2000, month, day)  # 2000 is a leap year: 29 Feb is fine
        entry.month, entry.day = month, day
    except ValueError:
        entry.date_error = f"`{raw[i].strip()}` is not a date; correct the day or month"
    # The title is the next non-blank line, unless that line starts another post.
    j = i + 1
    while j < len(raw) and not raw[j].strip():
        j += 1
    if j < len(raw) and not _starts_entry(raw, j) and not MORE_STUB.match(raw[j]):
        entry.title = Line(j + 1, raw[j].strip())
        return entry, j + 1
    return entry, i + 1


def _search_entry(raw: list[str], i: int, path: str, by: re.Match) -> DumpEntry:
    """The entry a title at ``raw[i]`` followed by a ``By … | YYYY-MM-DD`` line starts."""
    no = i + 1
    entry = DumpEntry(path, no, "search", title=Line(no, raw[i].strip()), author=by.group("author").strip(),
                      readers=int(by.group("readers").replace(",", "")))
    try:
        y, mo, d = (int(x) for x in by.group("date").split("-"))
        _dt.date(y, mo, d)
        entry.year, entry.month, entry.day = y, mo, d
    except ValueError:
        entry.date_error = f"`{by.group('date')}` is not a date; correct it"
    rest = by.group("rest").strip()
    if rest:
        entry.lines.append(Line(no + 1, rest))
    entry.has_more = True  # search results only ever show a post's opening
    return entry


def _starts_entry(raw: list[str], j: int) -> bool:
    if DATE_LINE.match(raw[j]):
        return True
    return j + 1 < len(raw) and bool(raw[j].strip()) and bool(BYLINE.match(raw[j + 1]))
