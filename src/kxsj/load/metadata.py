"""``posts/meta.yml``: what the listing dumps do not say.

A list of entries, one per post, in the shape of ``shared/kexue-meta.yml``::

    - id: 8757                      # the post's id on the original site
      date: 2021-11-15              # the full date (the dumps show only "15 Nov")
      month_day: "15 Nov"           # optional: as the dump shows it, to tell apart equal titles
      title: "WGAN新方案：通过梯度归一化来实现L约束"
      opens_with: "…"               # only when the dump lost the title: the line it shows instead
      url: https://kexue.fm/archives/8757
      categories: ["信息时代"]
      tags: ["无监督", "GAN"]

Entries are matched to dump posts by title after Unicode NFKC normalisation
(dumps print ``：`` as ``:``), or by ``opens_with`` for a post whose title line
is missing; ``month_day``/``date`` break ties between equal titles.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml

from kxsj.load.dumps import MONTHS, DumpEntry, nfkc
from kxsj.load.files import read_text_file
from kxsj.load.links import original_id, original_url
from kxsj.model import Diagnostic
from kxsj.yamltext import error_line, parse_yaml

_FIELDS = {"id", "date", "month_day", "title", "opens_with", "url", "categories", "category", "tags", "slug", "series"}


@dataclass
class MetaEntry:
    line: int
    path: str
    title: Optional[str] = None
    id: Optional[int] = None
    date: Optional[_dt.date] = None
    month_day: Optional[tuple[int, int]] = None
    opens_with: Optional[str] = None
    url: Optional[str] = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    slug: Optional[str] = None
    used: bool = False

    def describe(self) -> str:
        bits = [f"id {self.id}" if self.id is not None else None, f"《{self.title}》" if self.title else None]
        return " ".join(b for b in bits if b) or "(no id or title)"

    def month_and_day(self) -> Optional[tuple[int, int]]:
        if self.month_day:
            return self.month_day
        if self.date:
            return (self.date.month, self.date.day)
        return None


def _str_list(value, key: str, where: str, line: int, diags: list[Diagnostic]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    diags.append(Diagnostic(where, line, "error", f"`{key}` must be a list of strings like [\"GAN\", \"生成模型\"]"))
    return []


def load_metadata(path: Path, diags: list[Diagnostic]) -> list[MetaEntry]:
    """Entries of the metadata file; a bad entry is reported and skipped, not fatal."""
    tf = read_text_file(path, diags)
    if tf is None:
        return []
    where = tf.shown
    try:
        data, root = parse_yaml(tf.text)
    except yaml.YAMLError as exc:
        line = error_line(exc)
        diags.append(Diagnostic(where, line, "error", f"not valid YAML ({getattr(exc, 'problem', None) or exc}); no metadata was applied — fix the syntax"))
        return []
    if data is None:
        return []
    if not isinstance(data, list):
        diags.append(Diagnostic(where, 1, "error", "must be a YAML list of entries (`- id: …`), see the README's metadata section"))
        return []
    entries = []
    for item, node in zip(data, root.value):
        line = node.start_mark.line + 1
        if not isinstance(item, dict):
            diags.append(Diagnostic(where, line, "error", "entry must be a mapping like `- title: …`; skipped"))
            continue
        unknown = sorted(set(map(str, item)) - _FIELDS)
        if unknown:
            diags.append(Diagnostic(where, line, "warning", f"unknown field(s) {', '.join(unknown)} ignored; known: {', '.join(sorted(_FIELDS))}"))
        e = MetaEntry(line, where)
        title = item.get("title")
        e.title = str(title).strip() if title is not None else None
        opens = item.get("opens_with")
        e.opens_with = str(opens).strip() if opens else None
        if item.get("id") is not None:
            try:
                e.id = original_id(item["id"])
            except ValueError as exc:
                diags.append(Diagnostic(where, line, "error", str(exc)))
        d = item.get("date")
        if d is not None:
            if isinstance(d, _dt.datetime):
                d = d.date()
            if isinstance(d, _dt.date):
                e.date = d
            else:
                try:
                    e.date = _dt.date.fromisoformat(str(d).strip())
                except ValueError:
                    diags.append(Diagnostic(where, line, "error", f"`date` must be YYYY-MM-DD (a real date), got {d!r}"))
        md = item.get("month_day")
        if md is not None:
            parts = str(md).split()
            try:
                day, month = int(parts[0]), MONTHS[parts[1]]
                _dt.date(2000, month, day)
                e.month_day = (month, day)
            except (IndexError, KeyError, ValueError):
                diags.append(Diagnostic(where, line, "error", f"`month_day` must look like \"15 Nov\", got {md!r}"))
        if e.date and e.month_day and (e.date.month, e.date.day) != e.month_day:
            diags.append(Diagnostic(where, line, "warning", f"`date` {e.date} and `month_day` {md!r} disagree; the date wins"))
        e.url = original_url(item.get("url"), where, line, diags)
        cats = item.get("categories", item.get("category"))
        e.categories = _str_list(cats, "categories", where, line, diags)
        e.tags = _str_list(item.get("tags"), "tags", where, line, diags)
        e.slug = str(item["slug"]).strip() if item.get("slug") else None
        if not e.title and not e.opens_with:
            diags.append(Diagnostic(where, line, "error", "entry needs a `title` (or `opens_with`) to be matched to a post; skipped"))
            continue
        entries.append(e)
    return entries


class MetaIndex:
    """Finds the metadata entry of a dump entry (NFKC title, or ``opens_with``)."""

    def __init__(self, entries: list[MetaEntry]):
        self.entries = entries
        for e in entries:  # entries may be reused across loads (kxsj serve)
            e.used = False
        self.by_title: dict[str, list[MetaEntry]] = {}
        for e in entries:
            if e.title:
                self.by_title.setdefault(nfkc(e.title), []).append(e)
        self.openers = [(nfkc(e.opens_with), e) for e in entries if e.opens_with]

    @staticmethod
    def _fits_date(e: MetaEntry, d: DumpEntry) -> bool:
        md = e.month_and_day()
        if md is None or d.month is None:
            return True
        if md != (d.month, d.day):
            return False
        return not (d.year and e.date and e.date.year != d.year)

    def _pick(self, cands: list[MetaEntry], d: DumpEntry) -> Optional[MetaEntry]:
        fitting = [e for e in cands if self._fits_date(e, d)]
        return fitting[0] if fitting else None

    def match(self, d: DumpEntry) -> tuple[Optional[MetaEntry], bool]:
        """(entry, title_was_lost) for a dump entry, or (None, False)."""
        first = d.first_line
        if first is None:
            return None, False
        key = nfkc(first.text)
        if d.title is not None:
            hit = self._pick(self.by_title.get(key, []), d)
            if hit:
                return hit, False
        hits = [e for opener, e in self.openers if opener and key.startswith(opener)]
        hit = self._pick(hits, d)
        if hit:
            return hit, True
        return None, False

    def unused(self) -> list[MetaEntry]:
        return [e for e in self.entries if not e.used]
