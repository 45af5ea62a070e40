"""Markdown posts (``posts/**/*.md``) with YAML front matter: how new posts are written.

::

    ---
    title: "生成扩散模型漫谈（一）：DDPM = 拆楼 + 建楼"
    date: 2022-06-13
    tags: [概率, 生成模型]
    categories: [信息时代]      # or a single `category: 信息时代`
    slug: ddpm-1                # optional: the URL is /posts/<slug>/
    id: 9119                    # optional: id on the original site -> /archives/9119/
    url: https://kexue.fm/archives/9119
    draft: false
    summary: "…"                # optional: the excerpt on list pages
    author: 苏剑林               # optional: the site's `author` otherwise
    readers: 141741             # optional: readers the original site counted
    series: 生成扩散模型漫谈      # optional: else found in the title (（一）, 《名》系列——8. …)
    updated: 2022-07-01         # accepted, not shown yet
    ---
    First paragraphs…
    <!--more-->
    The rest.

Without ``<!--more-->`` (and without ``summary``) the excerpt is the opening
paragraphs, cut at a paragraph boundary.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Optional

import yaml

from kxsj.codescan import code_lines, marker_outside_code, unclosed_fence
from kxsj.load.dumptext import formula_open
from kxsj.load.files import TextFile
from kxsj.load.links import original_id as parse_original_id, original_url
from kxsj.load.series import detect_series
from kxsj.model import Diagnostic, Post, PostDate, Series, SourceRef
from kxsj.yamltext import YamlLimitError, error_line, key_lines, parse_yaml

MORE = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.M)
_FM_KEYS = {"title", "date", "tags", "tag", "categories", "category", "slug", "draft", "summary", "id", "url", "author", "readers", "updated", "series"}
AUTO_EXCERPT_CHARS = 240
"""An excerpt made without ``<!--more-->`` stops after the paragraph that passes this length."""


def split_front_matter(text: str) -> tuple[Optional[str], str, int]:
    """(front matter YAML or None, body, line number where the body starts)."""
    if not text.startswith("---"):
        return None, text, 1
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].strip() != "---":
        return None, text, 1
    m = re.compile(r"^(---|\.\.\.)[ \t]*$", re.M).search(text, first_nl + 1)
    if not m:
        return text[first_nl + 1 :], "", text.count("\n") + 2
    fm = text[first_nl + 1 : m.start()]
    body_start = m.end() + 1 if m.end() < len(text) and text[m.end()] == "\n" else m.end()
    return fm, text[body_start:], text.count("\n", 0, body_start) + 1


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _parse_date(value) -> PostDate:
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return PostDate(value.year, value.month, value.day)
    text = str(value).strip()
    m = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$", text)
    if not m:
        raise ValueError(f"`date` must be YYYY-MM-DD, got {text!r}")
    try:
        return PostDate(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"`date` {text} does not exist; correct the day or month") from None


def auto_excerpt(body: str) -> tuple[str, bool]:
    """The opening paragraphs of ``body`` (whole blocks only) and whether more follows.

    Paragraphs are cut only at blank lines outside fenced code and display
    math, so an excerpt never ends inside a formula or a code block.
    """
    paras = []
    cur: list[str] = []
    in_code = code_lines(body)
    for i, line in enumerate(body.split("\n")):
        if not line.strip() and i not in in_code and cur and not formula_open("\n".join(cur)):
            paras.append("\n".join(cur))
            cur = []
            continue
        cur.append(line)
    if any(x.strip() for x in cur):
        paras.append("\n".join(cur))
    paras = [p for p in paras if p.strip()]
    out = []
    size = 0
    for p in paras:
        out.append(p)
        size += len(p)
        if size >= AUTO_EXCERPT_CHARS:
            break
    more = len(out) < len(paras)
    return "\n\n".join(out), more


def _front_matter(tf: TextFile, fm_text: Optional[str], diags: list[Diagnostic]) -> Optional[tuple[dict, object]]:
    """``(mapping, YAML node)`` of the front matter (empty when there is none), or None when it is unusable."""
    if fm_text is None:
        diags.append(Diagnostic(tf.shown, 1, "warning", "no front matter; start the file with `---`, `title: …`, `date: YYYY-MM-DD`, `---`"))
        return {}, None
    try:
        loaded, node = parse_yaml(fm_text)
    except yaml.YAMLError as exc:
        line = error_line(exc, 2)
        if isinstance(exc, YamlLimitError):
            diags.append(Diagnostic(tf.shown, line, "error", f"front matter refused: {exc.problem}; the post was not loaded"))
        else:
            diags.append(Diagnostic(tf.shown, line, "error", f"front matter is not valid YAML ({getattr(exc, 'problem', None) or exc}); the post was not loaded — fix the syntax (quote titles that contain `: `)"))
        return None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        diags.append(Diagnostic(tf.shown, 2, "error", "front matter must be `key: value` lines; the post was not loaded"))
        return None
    return loaded, node


def _body_and_excerpt(shown: str, body: str, body_line: int, diags: list[Diagnostic]) -> tuple[str, str, bool, list]:
    """The body without its ``<!--more-->`` line, the excerpt, whether more follows, and the body's line map."""
    line_map = [(0, shown, body_line)]
    open_fence = unclosed_fence(body)
    if open_fence is not None:
        diags.append(Diagnostic(shown, body_line + open_fence, "warning", "code fence opened here is never closed: the rest of the post is shown as it is, not as code; close it with the same ``` or ~~~ line"))
    more = marker_outside_code(body, MORE)  # a marker quoted in a code block is code
    if more is None:
        return (body, *auto_excerpt(body), line_map)
    before, after = body[: more[0]], body[more[1] :]
    head, tail = before.rstrip("\n"), after.lstrip("\n")
    # The marker line (and blank lines around it) left the body: re-anchor what follows.
    skipped = len(after) - len(tail)
    line_map.append((head.count("\n") + 2, shown, body_line + before.count("\n") + skipped))
    return head + "\n\n" + tail, before.rstrip() + "\n", bool(after.strip()), line_map


def parse_markdown_post(tf: TextFile, diags: list[Diagnostic]) -> Optional[Post]:
    """One ``.md`` file -> a Post, or None (with an error naming the line) when unusable."""
    fm_text, body, body_line = split_front_matter(tf.text)
    front = _front_matter(tf, fm_text, diags)
    if front is None:
        return None
    meta, node = front
    lines = key_lines(node, 2)  # front matter starts on line 2

    def line_of(key: str) -> int:
        return lines.get(key, 2)

    unknown = sorted(set(map(str, meta)) - _FM_KEYS)
    for key in unknown:
        diags.append(Diagnostic(tf.shown, line_of(key), "warning", f"unknown front matter key `{key}` ignored; known keys: {', '.join(sorted(_FM_KEYS))}"))

    title = meta.get("title")
    if title is None or not str(title).strip():
        h = re.search(r"^#\s+(.+)$", body, re.M)
        title = h.group(1).strip() if h else Path(tf.shown).stem
        diags.append(Diagnostic(tf.shown, 1, "warning", f"no `title:` in the front matter; using {title!r}"))
    title = str(title).strip()

    if meta.get("date") is None:
        mtime = _dt.date.fromtimestamp(tf.path.stat().st_mtime) if tf.path.exists() else _dt.date.today()
        date = PostDate(mtime.year, mtime.month, mtime.day)
        diags.append(Diagnostic(tf.shown, 1, "warning", f"no `date:` in the front matter; using the file's date {date.iso()} — add `date: YYYY-MM-DD`"))
    else:
        try:
            date = _parse_date(meta["date"])
        except ValueError as exc:
            diags.append(Diagnostic(tf.shown, line_of("date"), "error", f"{exc}; the post was not loaded"))
            return None

    cats = _as_list(meta.get("categories", meta.get("category")))
    tags = _as_list(meta.get("tags", meta.get("tag")))
    original_id = None
    if meta.get("id") is not None:
        try:
            original_id = parse_original_id(meta["id"])
        except ValueError as exc:
            diags.append(Diagnostic(tf.shown, line_of("id"), "warning", f"{exc}; ignored"))

    body, excerpt, has_more, line_map = _body_and_excerpt(tf.shown, body, body_line, diags)
    summary = meta.get("summary")
    if summary:
        excerpt = str(summary)
        has_more = True

    readers = _readers(meta.get("readers"), tf.shown, line_of("readers"), diags)
    series = _series(meta.get("series"), title, tf.shown, line_of("series"), diags)

    draft = meta.get("draft", False)
    if not isinstance(draft, bool):
        draft = str(draft).strip().lower() in ("true", "yes", "1")

    return Post(
        title=title,
        date=date,
        body=body,
        excerpt=excerpt,
        kind="markdown",
        source=[SourceRef(tf.shown, 1)],
        has_more=has_more,
        slug=str(meta.get("slug") or "").strip(),
        tags=tags,
        categories=cats,
        original_id=original_id,
        original_url=original_url(meta.get("url"), tf.shown, line_of("url"), diags),
        author=str(meta["author"]).strip() if meta.get("author") else None,
        draft=draft,
        summary=str(summary) if summary else None,
        line_map=line_map,
        readers=readers,
        series=series,
    )


def _readers(value, shown: str, line: int, diags: list[Diagnostic]) -> Optional[int]:
    """``readers: 141741`` (or ``"141,741"``): how many readers the original site counted."""
    if value is None:
        return None
    text = str(value).replace(",", "").strip()
    if isinstance(value, bool) or not text.isdigit() or len(text) > 12:
        diags.append(Diagnostic(shown, line, "warning", f"`readers` must be a whole number like 141741, got {value!r}; ignored"))
        return None
    return int(text)


def _series(value, title: str, shown: str, line: int, diags: list[Diagnostic]) -> Optional[Series]:
    """``series: 名`` (its number taken from the title, else none) or ``series: {name: 名, number: 3}``."""
    if value is None:
        return None
    number = None
    if isinstance(value, dict):
        name, number = value.get("name"), value.get("number")
    else:
        name = value
    if not isinstance(name, (str, int)) or not str(name).strip() or (number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 0)):
        diags.append(Diagnostic(shown, line, "warning", f"`series` must be a name (`series: 生成扩散模型漫谈`) or `{{name: …, number: 3}}`, got {value!r}; ignored"))
        return None
    name = str(name).strip()
    if number is None:
        found = detect_series(title)
        number = found.number if found is not None else 0
    return Series(name, number)
