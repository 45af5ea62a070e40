"""The posts a build renders: load -> drafts left out -> enrich -> math lint -> each post's own files.

``kxsj build``, ``kxsj check`` and ``kxsj serve`` all get their posts here,
so they report the same diagnostics and ``--strict`` fails each on the
same ones.
"""

from __future__ import annotations

from typing import Callable, Optional

from kxsj.config import Config
from kxsj.model import Diagnostic, Post
from kxsj.report import BuildOptions


def load_site_posts(
    options: BuildOptions, config: Config, parse=None, reading=None, loaded: Optional[Callable[[list[Post]], None]] = None,
    related=None, lint: bool = True, assets: bool = True, refs=None,
) -> tuple[list[Post], list[Diagnostic]]:
    """Load -> drafts left out unless asked for -> enrich -> math lint: the posts a build renders.

    ``kxsj check`` and ``kxsj build`` both come through here, so they report
    the same diagnostics and ``--strict`` fails both on the same ones.
    ``parse``, ``reading``, ``related`` and ``refs`` are the stages' memo hooks;
    ``loaded(posts)`` is called between load and enrich (the bodies start
    rendering there).  ``kxsj serve`` passes ``lint=False``: it lints only the files saved.
    """
    from kxsj.enrich import enrich
    from kxsj.lint import linted_late, lint_posts, parse_and_lint_post_file
    from kxsj.assets import asset_dirs
    from kxsj.load import load_posts
    from kxsj.load.assets import attach_all

    result = load_posts(options.posts_dir, config, parse=parse, parse_file=parse_and_lint_post_file if lint else None)
    diags = list(result.diagnostics)
    posts = [p for p in result.posts if options.drafts or not p.draft]
    if loaded is not None:
        loaded(posts)
    posts = enrich(posts, config, diags, reading, related)
    if lint:  # Markdown posts were linted as they were parsed
        diags.extend(lint_posts(p for p in posts if linted_late(p)))
    if assets:  # each post's own files, its local links checked (kxsj serve does it after each load itself)
        diags.extend(attach_all(posts, asset_dirs("static", options.root), options.posts_dir, refs))
    return posts, diags
