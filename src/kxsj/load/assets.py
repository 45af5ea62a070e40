"""A post's own files (images, PDFs, data) and the local files its Markdown points to.

A Markdown post may keep its files beside it in one of two ways::

    posts/ddpm/index.md          posts/ddpm.md
    posts/ddpm/fig.png           posts/ddpm/fig.png

The folder's files (hidden ones and post files left out) are published next
to the post's page (``public/<post url>/fig.png``), so ``![图](fig.png)``
works on the page as it does in an editor's preview.  Every relative link
and image, and every one to ``/static/…``, is checked here: a file that does
not exist is a warning with ``path:line``.

What the renderer needs to know about them travels in the text it renders:
``page_context`` puts one HTML comment line (``CONTEXT_MARK`` and JSON) in
front of the body and the excerpt, which ``kxsj.render.page_links`` reads and
removes.  Every render cache and page key is made from the text alone, so a
changed image size or page address gives a new text, and no stale HTML.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from kxsj.imagesize import RASTER_SUFFIXES, image_size
from kxsj.local_links import CONTEXT_MARK, local_target
from kxsj.load.files import POST_SUFFIXES, display_path, inside, not_regular
from kxsj.model import Diagnostic, Post, SourceRef

BUNDLE_INDEX = ("index.md", "index.markdown")
MAX_ASSET_BYTES = 50 * 1024 * 1024
"""Largest file published beside a post (a larger one is reported and left out)."""

_TARGET = re.compile(r"\]\(\s*<?([^)\s>]+)")
"""The address of an inline link or image in Markdown source: ``](target``; matches never overlap, so one pass is linear."""
_REFDEF = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:\s*<?([^\s>]+)", re.M)
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_TICKS = re.compile(r"`+")
MAX_WARNINGS = 20
"""Local links of one post reported one by one; the rest are counted in one more warning."""
LOOK_BACK = 1000
"""How far before ``](`` the ``[`` of its text is looked for, to tell an image (``![``) from a link."""


def asset_folder(source: Path) -> Optional[Path]:
    """The folder holding ``source``'s files: its own folder for ``index.md``, else a sibling of its name."""
    if source.name.lower() in BUNDLE_INDEX:
        return source.parent
    sibling = source.with_suffix("")
    return sibling if sibling.is_dir() else None


def may_get_files(post: Post) -> bool:
    """Whether ``attach_assets`` may put a context line before ``post``'s texts.

    It may for a Markdown post whose texts can hold a link and that has a
    folder of its own or names a ``/static/`` file: cheap tests, a folder's
    status at most.  The build renders such a post's texts once they have
    their context line, not before as well (``kxsj.incremental.session``).
    A wrong answer costs time, never a page: True for a post that gets no
    line renders its texts a little later; False for one that does (a
    percent-encoded ``/static/``) renders them also without it.
    """
    if post.kind != "markdown" or not post.source:
        return False
    texts = (post.body, post.excerpt if post.summary else "")
    if not any(may_reference(text) for text in texts):
        return False
    return any("/static/" in text for text in texts) or asset_folder(Path(post.source[0].path)) is not None


def folder_files(folder: Path, diags: list[Diagnostic]) -> dict[str, Path]:
    """``relative path -> file`` of what is published from a post's folder.

    Left out: hidden names, post files (``.md``, ``.txt``), sub-folders that
    are posts of their own (they hold an ``index.md``), symlinks leading out
    of the folder and anything not a regular file (those with a warning).
    """
    found: dict[str, Path] = {}
    for base, dirnames, filenames in os.walk(folder):
        here = Path(base)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not any((here / d / n).is_file() for n in BUNDLE_INDEX))
        for name in sorted(filenames):
            path = here / name
            if name.startswith(".") or path.suffix.lower() in POST_SUFFIXES:
                continue
            shown = display_path(path)
            if os.path.islink(path) and not inside(path, folder):
                diags.append(Diagnostic(shown, 0, "warning", "symlink leading out of the post's folder, not published; copy the file in instead"))
                continue
            problem = not_regular(path)
            if problem is None and path.stat().st_size > MAX_ASSET_BYTES:
                problem = f"over {MAX_ASSET_BYTES >> 20} MB"
            if problem:
                diags.append(Diagnostic(shown, 0, "warning", f"{problem}; not published"))
                continue
            found[path.relative_to(folder).as_posix()] = path
    return found


def normalise(target: str) -> Optional[str]:
    """A relative target as a ``/``-joined path inside its folder; None when it climbs out (``../x``)."""
    path = posixpath.normpath(target)
    if path.startswith("../") or path in ("..", ".") or path.startswith("/"):
        return None
    return path


def _code_spans(line: str) -> str:
    """``line`` with its code spans blanked: a run of backticks up to the next run of the same length.

    Each run's partner is found in one pass from the end, so a line of
    thousands of backticks costs no more than its length.
    """
    runs = [(m.start(), m.end()) for m in _TICKS.finditer(line)]
    if len(runs) < 2:
        return line
    partner: list[Optional[int]] = [None] * len(runs)
    later: dict[int, int] = {}
    for i in range(len(runs) - 1, -1, -1):
        size = runs[i][1] - runs[i][0]
        partner[i] = later.get(size)
        later[size] = i
    out, i, done = [], 0, 0
    while i < len(runs):
        j = partner[i]
        if j is None:
            i += 1
            continue
        out += [line[done:runs[i][0]], " " * (runs[j][1] - runs[i][0])]
        done, i = runs[j][1], j + 1
    return "".join(out) + line[done:]


def _masked(text: str) -> str:
    """``text`` with fenced code and code spans blanked (line breaks kept): links there are code."""
    if "`" not in text and "~~~" not in text:  # no fence and no code span: nothing to blank
        return text
    return _mask_lines(text)


def _mask_lines(text: str) -> str:
    """``_masked``, line by line."""
    out, fence = [], None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            out.append("")
        elif m:
            fence = m.group(1)
            out.append("")
        else:
            out.append(_code_spans(line) if "`" in line else line)
    return "\n".join(out)


def may_reference(text: str) -> bool:
    """False when ``text`` can hold no link: it lacks what every match of _TARGET and _REFDEF holds."""
    return "](" in text or "]:" in text


def references(text: str) -> Iterator[tuple[int, bool, str]]:
    """``(line index, is image, address)`` of each inline link, image and reference definition."""
    if not may_reference(text):
        return iter(())
    return _walk_references(text)


def _walk_references(text: str) -> Iterator[tuple[int, bool, str]]:
    """``references``, found in the text with its code masked."""
    masked = _masked(text)
    line, counted = 0, 0
    for m in _TARGET.finditer(masked):
        line += masked.count("\n", counted, m.start())
        counted = m.start()
        opening = masked.rfind("[", max(0, m.start() - LOOK_BACK), m.start())
        yield line, opening > 0 and masked[opening - 1] == "!", m.group(1)
    for m in _REFDEF.finditer(masked):
        yield masked.count("\n", 0, m.start()), False, m.group(1)


def _size(path: Path) -> list[int]:
    if path.suffix.lower() not in RASTER_SUFFIXES:
        return []
    size = image_size(path)
    return list(size) if size else []


class SiteFiles:
    """The site's static files by site path (``/static/css/site.css`` -> file), found once per build."""

    def __init__(self, static_dirs: Iterable[Path]):
        self.dirs = list(static_dirs)

    def find(self, site_path: str) -> Optional[Path]:
        rel = normalise(site_path[len("/static/"):])
        if rel is None:
            return None
        for folder in self.dirs:
            path = folder / rel
            if path.is_file() and inside(path, folder):
                return path
        return None


def _without_context(post: Post) -> Post:
    """``post`` as it was parsed, before ``attach_assets`` put its context in (a copy when it had one)."""
    if not post.page_context:
        return post
    context, cut = post.page_context, len(post.page_context)
    had = post.body.startswith(context)  # a body put in since (kxsj serve's quick edit) has none
    return dataclasses.replace(
        post,
        body=post.body[cut:] if had else post.body,
        excerpt=post.excerpt[cut:] if post.excerpt.startswith(context) else post.excerpt,
        line_map=[(b - 1, p, l) for b, p, l in post.line_map] if had else post.line_map,
        page_context="", assets=[],
    )


References = Callable[[str], Iterable[tuple[int, bool, str]]]
"""``references`` or a memo of it (``kxsj.incremental.bodies.reference_finder``)."""


def attach_assets(
    post: Post, site: SiteFiles, diags: list[Diagnostic], posts_dir: Optional[Path] = None, refs: Optional[References] = None,
) -> Post:
    """``post`` with its folder's files found, its local links checked and the page context before its texts.

    A post that needs any of it comes back as a copy: the parsed post, which
    ``kxsj serve`` keeps between builds, is never changed.  A post that had
    it already (from a previous build) gets it again from scratch.
    """
    post = _without_context(post)
    if post.kind != "markdown" or not post.source:
        return post
    source = Path(post.source[0].path)
    folder = asset_folder(source)
    if folder is not None and posts_dir is not None and os.path.abspath(folder) == os.path.abspath(posts_dir):
        folder = None  # posts/index.md is a post, not a bundle of the whole posts folder
    files = folder_files(folder, diags) if folder is not None else {}
    found, static, problems = _check_links(post, source, folder, files, site, refs or references)
    for where, message in problems[:MAX_WARNINGS]:
        diags.append(Diagnostic(where.path, where.line, "warning", message if isinstance(message, str) else message()))
    if len(problems) > MAX_WARNINGS:
        first = problems[0][0]
        diags.append(Diagnostic(first.path, first.line, "warning", f"… and {len(problems) - MAX_WARNINGS:,} more local links or images of this post like those above"))
    if not (files or found or static):
        return post
    post = dataclasses.replace(post, assets=[(rel, str(path)) for rel, path in files.items()])
    if found or static:
        # ASCII only: nothing in the line can be changed by the renderer's own preprocessors.
        context = f"{CONTEXT_MARK}{json.dumps({'url': post.url, 'files': found, 'static': static}, sort_keys=True)}-->\n"
        post.page_context = context
        post.body = context + post.body
        post.excerpt = context + post.excerpt if post.excerpt else post.excerpt
        post.line_map = [(b + 1, p, l) for b, p, l in post.line_map]
    return post


def _check_links(post: Post, source: Path, folder: Optional[Path], files: dict[str, Path], site: SiteFiles, refs: References):
    """``(found, static, problems)``: the folder files and static files the post's local links name
    (``target -> [path in folder, width, height]``, ``site path -> [width, height]``), and
    ``(where, message)`` for each link that names nothing published (a message that looks at
    the disk comes as a function: only the first few are shown)."""
    found: dict[str, list] = {}
    static: dict[str, list[int]] = {}
    problems: list[tuple[SourceRef, str]] = []
    for text in (post.body, post.excerpt if post.summary else ""):
        for line, image, url in refs(text):
            target = local_target(url)
            if target is None or target in found or target in static or target.endswith("/"):  # remote, done, or a page
                continue
            what = "image" if image else "link"
            where = post.source_of(line) if text is post.body else post.source[0]
            if target.startswith("/"):
                path = site.find(target) if target.startswith("/static/") else None
                if path is not None:
                    static[target] = _size(path)
                elif target.startswith("/static/"):
                    problems.append((where, f"{what} `{url}`: no file static/{target[8:]} in the site's static folder"))
                continue
            if target.lower().endswith(POST_SUFFIXES):
                problems.append((where, f"{what} `{url}` names a post's file, which is not published; link the post's address instead (`/posts/<slug>/` or `/archives/<id>/`)"))
                continue
            rel = _resolve(target, source, folder, files)
            if rel is not None:
                found[target] = [rel, *_size(files[rel])]
            else:
                problems.append((where, lambda what=what, url=url, target=target: _missing(what, url, target, source, folder)))
    return found, static, problems


def _resolve(target: str, source: Path, folder: Optional[Path], files: dict[str, Path]) -> Optional[str]:
    """The folder file a relative target names: as the page sees it, or as the editor does (``ddpm/fig.png`` from ``ddpm.md``)."""
    if folder is None:
        return None
    rel = normalise(target)
    if rel in files:
        return rel
    joined = posixpath.normpath(posixpath.join(source.parent.as_posix(), target))
    base = folder.as_posix().rstrip("/") + "/"
    if joined.startswith(base) and joined[len(base):] in files:
        return joined[len(base):]
    return None


def _missing(what: str, url: str, target: str, source: Path, folder: Optional[Path]) -> str:
    beside = source.parent / target
    suggested = folder or source.with_suffix("")
    if beside.is_file():
        return (f"{what} `{url}`: {display_path(beside)} is not published; put it in the post's folder "
                f"{display_path(suggested)}/ (or make the post a folder with index.md)")
    if folder is None:
        return f"{what} `{url}`: no such file; a post's files go in a folder named after it ({display_path(suggested)}/)"
    return f"{what} `{url}`: no file {display_path(folder / target)}"


def attach_all(
    posts: list[Post], static_dirs: Iterable[Path], posts_dir: Optional[Path] = None, refs: Optional[References] = None,
) -> list[Diagnostic]:
    """``attach_assets`` for every post of the list, in place; the diagnostics found (``refs``: a memo of ``references``)."""
    diags: list[Diagnostic] = []
    site = SiteFiles(static_dirs)
    for i, post in enumerate(posts):
        posts[i] = attach_assets(post, site, diags, posts_dir, refs)
    return diags
