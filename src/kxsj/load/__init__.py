"""Load stage: ``posts/`` -> ``LoadResult`` (a list of ``Post`` plus diagnostics).

Reads listing dumps (``*.txt``, see ``dumps``), Markdown posts (``*.md``, see
``markdown_posts``) and the metadata file (``meta.yml``, see ``metadata``);
merges the same post seen in several dumps; fills in what dumps lack (year,
true title, tags) from metadata; and reports every guess with ``path:line``
and the fix.  It never raises on bad input: a bad file costs only itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional, Union

from kxsj.config import Config
from kxsj.load.dumps import DumpEntry, Line, looks_like_title, nfkc, parse_dump
from kxsj.load.dumptext import lines_to_markdown
from kxsj.load.files import display_path, iter_post_files, read_text_file
from kxsj.load.markdown_posts import parse_markdown_post
from kxsj.load.merge import merge_entries, merge_markdown_with_dumps
from kxsj.load.metadata import MetaIndex, load_metadata
from kxsj.load.series import detect_series
from kxsj.model import Diagnostic, LoadResult, Post

__all__ = ["load_posts", "LoadResult"]


ParseFile = Callable[[Path, list[Diagnostic]], Any]
ParseMemo = Callable[[Path, ParseFile, list[Diagnostic]], Any]
"""``parse(path, parse_file, diags)``: how ``load_posts`` parses each file.

The default parses every time; ``kxsj serve`` passes one that reuses the
results of files that did not change since the last load.
"""


def _parse_now(path: Path, parse_file: ParseFile, diags: list[Diagnostic]) -> Any:
    return parse_file(path, diags)


def parse_post_file(path: Path, diags: list[Diagnostic]) -> Union[Post, list[DumpEntry], None]:
    """One file of ``posts/``: a Markdown post, a dump's entries, or None (reported in ``diags``)."""
    tf = read_text_file(path, diags)
    if tf is None:
        return None
    if path.suffix.lower() == ".txt":
        return [e for e in parse_dump(tf.text, tf.shown, diags) if not e.date_error]
    return parse_markdown_post(tf, diags)


def load_posts(
    posts_dir: Path, config: Optional[Config] = None, root: Optional[Path] = None, parse: Optional[ParseMemo] = None,
    parse_file: Optional[ParseFile] = None,
) -> LoadResult:
    """Every post below ``posts_dir``, newest first, with what had to be guessed.

    ``parse_file`` reads one file of ``posts/`` (default ``parse_post_file``);
    the build passes one that lints each Markdown post too.
    """
    parse_file = parse_file or parse_post_file
    parse = parse or _parse_now
    config = config or Config()
    posts_dir = Path(posts_dir)
    root = Path(root) if root else posts_dir.parent
    diags: list[Diagnostic] = []
    if not posts_dir.is_dir():
        diags.append(Diagnostic(display_path(posts_dir), 0, "error", "posts folder not found; create it, or pass --posts DIR"))
        return LoadResult([], diags)

    meta_file = posts_dir / config.metadata
    index = MetaIndex(parse(meta_file, load_metadata, diags) if meta_file.is_file() else [])

    entries: list[DumpEntry] = []
    posts: list[Post] = []
    for path in iter_post_files(posts_dir, root, diags):
        parsed = parse(path, parse_file, diags)
        if isinstance(parsed, Post):
            posts.append(parsed)
        elif parsed:
            entries.extend(parsed)

    posts = merge_markdown_with_dumps(posts, merge_entries(entries, index, diags), diags)
    for e in index.unused():
        diags.append(Diagnostic(e.path, e.line, "warning", f"metadata entry {e.describe()} matches no post; check its `title` (or `opens_with`) and `month_day`, or remove it"))

    for post in posts:
        if post.series is None:
            post.series = detect_series(post.title)
    posts.sort(key=lambda p: (p.date.sort_key(), p.title), reverse=True)
    return LoadResult(posts, diags)


# Re-exported for tests that check dump conversion on their own.
__all__ += ["parse_dump", "lines_to_markdown", "looks_like_title", "nfkc", "Line"]
