"""A post's own files (``Post.assets``) as output files beside its page.

They are handed to the writer as pages holding the file's bytes, so they go
through everything pages do: the in-place update writes only what changed
(comparing bytes, never trusting what the output holds), a file gone from
the post's folder is gone from the output, and a failed or ``--strict``
build leaves the previous output as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable
from urllib.parse import unquote

from kxsj.load.files import display_path, read_regular
from kxsj.load.assets import MAX_ASSET_BYTES
from kxsj.model import Diagnostic, Post
from kxsj.render.rendered import Page


def asset_pages(posts: Iterable[Post], taken: Iterable[str], diags: list[Diagnostic]) -> list[Page]:
    """One page per file of each post's folder, at ``<post path><file>``.

    A file whose path a page of the site already has (``taken``: a file
    named ``index.html`` in the folder) is left out with a warning.
    """
    taken = set(taken)
    pages: list[Page] = []
    for post in posts:
        if not post.assets:
            continue
        base = unquote(post.url)
        for rel, source in sorted(post.assets):
            path = base + rel
            if path in taken or path + "/" in taken or (rel.endswith("index.html") and base + rel[: -len("index.html")] in taken):
                diags.append(Diagnostic(display_path(Path(source)), 0, "warning", f"not published: the site has a page at {path}"))
                continue
            try:
                content = read_regular(source, MAX_ASSET_BYTES)
            except OSError as exc:
                diags.append(Diagnostic(display_path(Path(source)), 0, "warning", f"cannot read it ({exc.strerror or exc}); not published"))
                continue
            taken.add(path)
            pages.append(Page(path, content))
    return pages
