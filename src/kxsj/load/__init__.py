"""Load stage: ``posts/`` -> ``LoadResult`` (a list of ``Post`` plus diagnostics).

Reads listing dumps (``*.txt``, see ``dumps``), Markdown posts (``*.md``, see
``markdown_posts``) and the metadata file (``meta.yml``, see ``metadata``);
merges the same post seen in several dumps; fills in what dumps lack (year,
true title, tags) from metadata; and reports every guess with ``path:line``
and the fix.  It never raises on bad input: a bad file costs only itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from kxsj.config import Config
from kxsj.load.dumps import DumpEntry, Line, looks_like_title, nfkc, parse_dump
from kxsj.load.dumptext import lines_to_markdown
from kxsj.load.files import display_path, iter_post_files, read_text_file
from kxsj.load.markdown_posts import parse_markdown_post
from kxsj.load.merge import merge_entries
from kxsj.load.metadata import MetaIndex, load_metadata
from kxsj.load.series import detect_series
from kxsj.model import Diagnostic, LoadResult, Post

__all__ = ["load_posts", "LoadResult"]


def load_posts(posts_dir: Path, config: Optional[Config] = None, root: Optional[Path] = None) -> LoadResult:
    """Every post below ``posts_dir``, newest first, with what had to be guessed."""
    config = config or Config()
    posts_dir = Path(posts_dir)
    root = Path(root) if root else posts_dir.parent
    diags: list[Diagnostic] = []
    if not posts_dir.is_dir():
        diags.append(Diagnostic(display_path(posts_dir), 0, "error", "posts folder not found; create it, or pass --posts DIR"))
        return LoadResult([], diags)

    meta_file = posts_dir / config.metadata
    index = MetaIndex(load_metadata(meta_file, diags) if meta_file.is_file() else [])

    entries: list[DumpEntry] = []
    posts: list[Post] = []
    for path in iter_post_files(posts_dir, root, diags):
        tf = read_text_file(path, diags)
        if tf is None:
            continue
        if path.suffix.lower() == ".txt":
            entries.extend(e for e in parse_dump(tf.text, tf.shown, diags) if not e.date_error)
        else:
            post = parse_markdown_post(tf, diags)
            if post is not None:
                posts.append(post)

    posts.extend(merge_entries(entries, index, diags))
    for e in index.unused():
        diags.append(Diagnostic(e.path, e.line, "warning", f"metadata entry {e.describe()} matches no post; check its `title` (or `opens_with`) and `month_day`, or remove it"))

    for post in posts:
        if post.series is None:
            post.series = detect_series(post.title)
    posts.sort(key=lambda p: (p.date.sort_key(), p.title), reverse=True)
    return LoadResult(posts, diags)


# Re-exported for tests that check dump conversion on their own.
__all__ += ["parse_dump", "lines_to_markdown", "looks_like_title", "nfkc", "Line"]
