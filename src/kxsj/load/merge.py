"""Dump entries -> posts: apply metadata, resolve lost titles and years, merge duplicates.

The same post appears in several dumps (a list page and a search page, two
list pages).  Entries are grouped by their metadata entry when one matches,
else by NFKC title and month/day, and each group becomes one post that keeps
every source location and the most complete data: the full date of the search
format, the longest excerpt, the author line.  No line is dropped: a line of a
shorter copy that the kept excerpt lacks is appended to it.
"""

from __future__ import annotations

import functools
import dataclasses
import unicodedata
from dataclasses import dataclass, field
from typing import Optional

from kxsj.load.dumps import DumpEntry, Line, looks_like_title, nfkc
from kxsj.load.dumptext import markdown_and_line_map
from kxsj.load.metadata import MetaEntry, MetaIndex
from kxsj.model import MONTH_NAMES, Diagnostic, Post, PostDate, SourceRef



@dataclass
class _Resolved:
    """A dump entry after metadata: its title and body lines decided."""

    entry: DumpEntry
    meta: Optional[MetaEntry]
    title: Optional[str]
    title_guessed: bool
    body: list[Line] = field(default_factory=list)

    def key(self) -> tuple:
        if self.meta is not None:
            return ("meta", id(self.meta))
        e = self.entry
        return ("title", nfkc(self.title or (self.body[0].text if self.body else "")), e.month, e.day)


@functools.lru_cache(maxsize=65536)  # kxsj serve merges the same lines after every save
def _squash(text: str) -> str:
    """Comparison form of a line: NFKC, no spaces, no punctuation (scrapes lose ``、``)."""
    t = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in t if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def _resolve(e: DumpEntry, index: MetaIndex, diags: list[Diagnostic]) -> _Resolved:
    meta, lost = index.match(e)
    lines = list(e.lines)
    if meta is not None:
        meta.used = True
        if lost and e.title is not None:
            lines.insert(0, e.title)  # the "title" was the body's first line
        return _Resolved(e, meta, meta.title or (e.title.text if e.title else None), False, lines)
    if e.title is not None and (e.fmt == "search" or looks_like_title(e.title.text)):
        return _Resolved(e, None, e.title.text, False, lines)
    # No title line (or one that reads like body text): keep the line in the body.
    if e.title is not None:
        lines.insert(0, e.title)
    return _Resolved(e, None, None, True, lines)


def _fallback_title(r: _Resolved) -> str:
    e = r.entry
    if e.month:
        return f"无题（{e.month}月{e.day}日）"
    return "无题"


def _ready_meta_line(e: DumpEntry, title: str, opens_with: Optional[str] = None) -> str:
    """A metadata entry to paste into ``meta.yml``, with ``YYYY`` for the unknown year."""
    bits = [f'title: "{title}"']
    if e.month:
        bits.append(f'month_day: "{e.day} {MONTH_NAMES[e.month - 1]}"')
        bits.append(f"date: YYYY-{e.month:02d}-{e.day:02d}")
    if opens_with:
        bits.append(f'opens_with: "{opens_with}"')
    return "- {" + ", ".join(bits) + "}"


def merge_entries(entries: list[DumpEntry], index: MetaIndex, diags: list[Diagnostic]) -> list[Post]:
    """One post per distinct dump post, duplicates merged, metadata applied."""
    groups: dict[tuple, list[_Resolved]] = {}
    for e in entries:
        r = _resolve(e, index, diags)
        groups.setdefault(r.key(), []).append(r)
    return [_merge_group(g, diags) for g in groups.values()]


def _merge_group(group: list[_Resolved], diags: list[Diagnostic]) -> Post:
    group.sort(key=lambda r: (r.entry.path, r.entry.start))
    best = max(group, key=lambda r: (sum(len(ln.text) for ln in r.body), r.entry.fmt == "search"))
    body = list(best.body)
    paths = [best.entry.path] * len(body)
    have = _squash("".join(ln.text for ln in body))
    for r in group:
        if r is best:
            continue
        for ln in r.body:
            sq = _squash(ln.text)
            if sq and sq not in have:
                body.append(ln)
                paths.append(r.entry.path)
                have += sq
                diags.append(Diagnostic(r.entry.path, ln.no, "info", "line missing from the longer copy of this post in another dump; appended to the post"))
    meta = best.meta
    first = group[0]
    src = [SourceRef(r.entry.path, r.entry.start) for r in group]

    # Title
    title = next((r.title for r in group if r.title), None)
    guessed = False
    if title is None:
        title = _fallback_title(best)
        guessed = True
        e = best.entry
        line = body[0].no if body else e.start
        opener = body[0].text.strip()[:24] if body else ""
        diags.append(Diagnostic(e.path, line, "warning", f"post has no title line (this line reads like body text), so it is titled {title!r}; give it its true title in the metadata file: {_ready_meta_line(e, '…', opener)}"))

    # Date: the search format's full date, else metadata's year, else unknown.
    full = next((r.entry for r in group if r.entry.year), None)
    md = next(((r.entry.month, r.entry.day) for r in group if r.entry.month), None)
    year = full.year if full else None
    if full is not None:
        md = (full.month, full.day)
    if meta is not None and meta.date is not None:
        if year is None:
            year = meta.date.year
            if md is None:
                md = (meta.date.month, meta.date.day)
        if md and md != (meta.date.month, meta.date.day):
            diags.append(Diagnostic(meta.path, meta.line, "warning", f"metadata date {meta.date} disagrees with the dump's {md[1]} {MONTH_NAMES[md[0]-1]} for 《{title}》; fix one of them"))
            md = (meta.date.month, meta.date.day) if year == meta.date.year else md
    if md is None:
        md = (1, 1)
        diags.append(Diagnostic(first.entry.path, first.entry.start, "warning", f"no date for 《{title}》; add a metadata entry: {_ready_meta_line(first.entry, title)}"))
    elif year is None:
        diags.append(Diagnostic(first.entry.path, first.entry.start, "warning", f"year unknown for 《{title}》 (dated --{md[0]:02d}-{md[1]:02d}); add to the metadata file: {_ready_meta_line(first.entry, title)}"))
    date = PostDate(year, md[0], md[1])

    if len(group) > 1:
        diags.append(Diagnostic(first.entry.path, first.entry.start, "info", f"《{title}》 also appears at {', '.join(str(s) for s in src[1:])}; merged into one post"))

    markdown, where = markdown_and_line_map(body)
    author = next((r.entry.author for r in group if r.entry.author), None)
    return Post(
        title=title,
        date=date,
        body=markdown,
        excerpt=markdown,
        kind="dump",
        source=src,
        has_more=best.entry.has_more,
        slug=(meta.slug if meta and meta.slug else ""),
        tags=list(meta.tags) if meta else [],
        categories=list(meta.categories) if meta else [],
        original_id=meta.id if meta else None,
        original_url=meta.url if meta else None,
        author=author,
        readers=max((r.entry.readers for r in group if r.entry.readers is not None), default=None),
        title_guessed=guessed,
        line_map=[(md_line, paths[i], body[i].no) for md_line, i in where],
    )


def merge_markdown_with_dumps(md_posts: list[Post], dump_posts: list[Post], diags: list[Diagnostic]) -> list[Post]:
    """A Markdown post and a dump of the same post (same original id, or same
    NFKC title and date) become one: the Markdown's full text wins, the dump's
    sources and metadata are kept."""
    by_id = {p.original_id: p for p in dump_posts if p.original_id is not None}
    by_title: dict[str, list[Post]] = {}
    for p in dump_posts:
        by_title.setdefault(nfkc(p.title), []).append(p)
    absorbed: set[int] = set()
    out: list[Post] = []
    for md in md_posts:
        dump = by_id.get(md.original_id) if md.original_id is not None else None
        if dump is None:
            dump = next((d for d in by_title.get(nfkc(md.title), []) if (d.date.month, d.date.day) == (md.date.month, md.date.day) and d.date.year in (None, md.date.year)), None)
        if dump is None or id(dump) in absorbed:
            out.append(md)
            continue
        absorbed.add(id(dump))
        out.append(dataclasses.replace(
            md,
            source=list(md.source) + list(dump.source),
            tags=md.tags or list(dump.tags),
            categories=md.categories or list(dump.categories),
            original_id=md.original_id if md.original_id is not None else dump.original_id,
            original_url=md.original_url or dump.original_url,
            author=md.author or dump.author,
            readers=md.readers if md.readers is not None else dump.readers,
        ))
        src = md.source[0]
        diags.append(Diagnostic(src.path, src.line, "info", f"《{md.title}》 is also in {', '.join(str(s) for s in dump.source)}; the Markdown post's full text is used"))
    out.extend(p for p in dump_posts if id(p) not in absorbed)
    return out
