"""The plain data that flows between the stages: posts, dates, diagnostics.

Every stage takes and returns these dataclasses (and lists of them), so a
stage can be tested, cached or run in another process without knowing the
others.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Optional

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""Month abbreviations, January first: how the listing dumps and the
metadata file write a date (``15 Nov``) and how a citation names a month."""

@dataclass(frozen=True, order=True)
class PostDate:
    """A post's date; the year may be unknown (a listing dump shows ``15 Nov``).

    Ordering puts known years by date and unknown years after every known one
    (they sort by month and day among themselves).
    """

    year: Optional[int]
    month: int
    day: int

    def __post_init__(self) -> None:
        # Validate eagerly so that an impossible date never travels further.
        _dt.date(self.year if self.year is not None else 2000, self.month, self.day)

    @property
    def known(self) -> bool:
        return self.year is not None

    def iso(self) -> str:
        """``YYYY-MM-DD``, or ISO 8601's ``--MM-DD`` when the year is unknown."""
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def as_date(self) -> Optional[_dt.date]:
        if self.year is None:
            return None
        return _dt.date(self.year, self.month, self.day)

    def sort_key(self) -> tuple:
        """Newest-first helpers sort by this descending: unknown years go last."""
        return (1 if self.year is not None else 0, self.year or 0, self.month, self.day)

    def __str__(self) -> str:
        return self.iso()


@dataclass(frozen=True)
class SourceRef:
    """Where a post (or a piece of it) was read from: ``path:line``."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Series:
    """A post's place in a series: ``生成扩散模型漫谈（十五）`` -> (生成扩散模型漫谈, 15)."""

    name: str
    number: int
    tentative: bool = field(default=False, compare=False)
    """Read from a title that may as well be a numbered heading (``名：3. …``):
    kept only when the site holds two or more posts of the series
    (``kxsj.enrich.series.settle_series``)."""


@dataclass(frozen=True)
class PostRef:
    """Another post as a link needs it: URL and title.

    The enrich stage fills ``Post.cites``, ``cited_by``, ``related`` and the
    series neighbours with these rather than with ``Post`` objects, so a post
    stays plain data (no cycles) and a template can link without a lookup.
    """

    url: str
    title: str


@dataclass
class Post:
    """One post, whichever kind of file it came from.

    ``body`` is the Markdown the renderer gets; for a listing dump it is the
    dump's plain text already turned into Markdown that renders back to that
    exact text.  ``excerpt`` is the part shown on list pages.
    """

    title: str
    date: PostDate
    body: str
    excerpt: str
    kind: str  # "dump" or "markdown"
    source: list[SourceRef] = field(default_factory=list)
    has_more: bool = False
    slug: str = ""
    url: str = ""
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    series: Optional[Series] = None
    original_id: Optional[int] = None
    original_url: Optional[str] = None
    author: Optional[str] = None
    draft: bool = False
    summary: Optional[str] = None
    title_guessed: bool = False
    readers: Optional[int] = None
    """How many readers the original site counted (a dump's 「N位读者」, or ``readers:``)."""
    assets: list[tuple[str, str]] = field(default_factory=list)
    """The post's own files to publish beside its page: (path under the page, file) (``kxsj.load.assets``)."""
    page_context: str = ""
    """The context line put before ``body`` and ``excerpt`` for the renderer (``kxsj.load.assets``); "" when none."""
    line_map: list[tuple[int, str, int]] = field(default_factory=list)
    """Where the body's lines were read: ``(body line, path, source line)``
    anchors, body lines 0-based and ascending; a body line belongs to the last
    anchor at or before it, counting on from its source line.  Lets
    ``kxsj check`` point at the file line of a formula (``source_of``)."""
    # Filled by the enrich stage (kxsj.enrich.links / related / reading).
    cites: list[PostRef] = field(default_factory=list)
    """Posts of the archive this post names in 《…》, in order of first mention."""
    cited_by: list[PostRef] = field(default_factory=list)
    """Posts that name this one in 《…》, newest first."""
    related: list[PostRef] = field(default_factory=list)
    """Up to five posts sharing the most tags, then the newest."""
    series_prev: Optional[PostRef] = None
    series_next: Optional[PostRef] = None
    chars: int = 0
    """Characters of text (math, markup and spaces left out)."""
    reading_minutes: int = 0

    def source_of(self, body_line: int) -> SourceRef:
        """``path:line`` in the input of the body's line ``body_line`` (0-based)."""
        anchor = None
        for entry in self.line_map:
            if entry[0] > body_line:
                break
            anchor = entry
        if anchor is None:
            first = self.source[0] if self.source else SourceRef("", 0)
            return SourceRef(first.path, first.line)
        return SourceRef(anchor[1], anchor[2] + body_line - anchor[0])

    def to_json(self) -> dict:
        """The shape ``kxsj list --json`` prints."""
        return {
            "title": self.title,
            "date": self.date.iso(),
            "slug": self.slug,
            "url": self.url,
            "tags": list(self.tags),
            "categories": list(self.categories),
            "series": (
                {"name": self.series.name, "number": self.series.number}
                if self.series
                else None
            ),
            "has_more": self.has_more,
            "source": [str(s) for s in self.source],
            "original_id": self.original_id,
            "original_url": self.original_url,
            "author": self.author,
            "draft": self.draft,
            "kind": self.kind,
            "body": self.body,
        }


LEVELS = ("info", "warning", "error")


@dataclass(frozen=True)
class Diagnostic:
    """Something the loader or the build had to guess or could not do.

    ``message`` says what is wrong *and* how to fix the input; it is printed as
    ``path:line: level: message`` so editors can jump to it.
    """

    path: str
    line: int
    level: str  # one of LEVELS
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message}"


@dataclass
class LoadResult:
    """What the load stage gives the rest of the build."""

    posts: list[Post]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "warning"]
