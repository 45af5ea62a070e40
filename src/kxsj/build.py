"""``build_site``: load -> enrich -> render -> write, for the CLI and the dev server.

Each stage gets plain data and hands plain data on; this module only wires
them and collects every diagnostic.  What makes a build fast (caches,
worker processes, the "nothing changed" stamp) is asked for through one
object, ``kxsj.incremental.session.Incremental``.  Problems with single
posts never stop the others: the post is reported (``path:line: level:
message``) and the rest of the site is built.  ``strict`` turns any warning
or error into a failed build whose output is *not* swapped in, so CI can
keep the last good site.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

from kxsj.config import load_config, normalise_base_url
from kxsj.model import Diagnostic, Post
from kxsj.posts import load_site_posts
from kxsj.render.stage import markdown_renderer, post_html  # noqa: F401 - where the CLI, the dev server and tools find them
from kxsj.report import BuildOptions, BuildReport

__all__ = ["BuildOptions", "BuildReport", "build_site", "load_site_posts", "markdown_renderer", "post_html"]


def build_site(
    options: BuildOptions, to_html: Optional[Callable[[str], str]] = None, posts: Optional[list[Post]] = None,
) -> BuildReport:
    """Build the site described by ``options``; never raises for bad input.

    ``posts`` (already enriched) and ``to_html`` replace the load stage and
    the body renderer, for tests and tools that make posts themselves.
    """
    from kxsj.incremental.session import Incremental
    from kxsj.write.output import sigterm_as_interrupt

    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(sigterm_as_interrupt())  # `kill` cleans up like Ctrl-C
        try:
            return _build(options, to_html, posts, cleanup)
        finally:
            Incremental.stop()


def _build(options: BuildOptions, to_html, posts: Optional[list[Post]], cleanup: contextlib.ExitStack) -> BuildReport:
    from kxsj.incremental.session import Incremental
    from kxsj.render.budget import set_budget
    from kxsj.write.site import claim_output

    start = time.monotonic()
    options = replace(options, root=Path(options.root), posts_dir=Path(options.posts_dir), out_dir=Path(options.out_dir))
    diags: list[Diagnostic] = []

    def report(n_posts: int, n_pages: int, written: bool) -> BuildReport:
        # A bad post is reported and left out, and the rest of the site is still
        # a good site: only --strict fails on it.
        failing = options.strict and any(d.level in ("error", "warning") for d in diags)
        return BuildReport(n_posts, n_pages, time.monotonic() - start, diags, written and not failing, options.out_dir, written)

    if options.base_url is not None:
        try:
            options = replace(options, base_url=normalise_base_url(options.base_url))
        except ValueError as exc:
            diags.append(Diagnostic("--base-url", 0, "error", f"--base-url {exc}"))
            return report(0, 0, written=False)
    problem = claim_output(options.out_dir, [options.root, options.posts_dir], [options.posts_dir], cleanup)
    if problem:
        diags.append(Diagnostic(str(options.out_dir), 0, "error", problem))
        return report(0, 0, written=False)

    speed = Incremental(options, from_files=posts is None and to_html is None, enabled=options.cache)
    saved = speed.unchanged()
    if saved is not None:  # nothing changed since the last build (kxsj.yml included): its report, and nothing to do
        diags[:] = [Diagnostic(**d) for d in saved["diagnostics"]]
        return report(saved["posts"], saved["pages"], written=True)
    config, found = load_config(options.root)
    diags += found
    if options.base_url is not None:
        config.base_url = options.base_url
    set_budget(config.render_timeout)  # before any worker is forked: they inherit it
    speed.configure(config)
    # Only now: a build with nothing to do imports none of the renderer.
    from kxsj.render.stage import render_stage
    from kxsj.write.post_assets import asset_pages
    from kxsj.write.search import search_indexer
    from kxsj.write.site import write_site

    # load -> enrich
    if posts is None:
        speed.start()
        with speed.loading():
            posts, load_diags = load_site_posts(
                options, config, parse=speed.parse, reading=speed.reading, related=speed.related, refs=speed.refs,
                loaded=speed.loaded if to_html is None else None,
            )
        diags += load_diags
    elif to_html is None:
        speed.start_rendering(posts)
    indexer, search_diags = search_indexer(config)
    diags += search_diags
    if indexer is None:  # pages then say search is unavailable instead of offering a box that fails
        config = replace(config, search=False)
    # render
    html_of = post_html(to_html or speed.renderer(posts), posts, config)
    site = render_stage(
        options, config, posts, html_of, diags, start, memo=speed.page_memo(posts, config),
        render_pages=speed.render_pages(cleanup), bytecode=speed.template_cache(config), to_feed=speed.feed_bodies(),
    )
    if site is None:
        return report(len(posts), 0, written=False)
    site.pages.extend(asset_pages(posts, (p.path for p in site.pages), diags))  # each post's own files beside its page
    # write: the caches travel with the output, saved into it before it is committed
    speed.leave_out_drafts(posts)
    steps = [speed.close_spool, speed.save_into] + ([lambda folder: diags.extend(indexer(folder))] if indexer else [])
    written = write_site(options, config, site.pages, diags, steps, in_place=indexer is None)
    if written is None:
        return report(site.posts, len(site.pages), written=False)
    final = report(site.posts, len(site.pages), written=written[0])
    if final.written:
        speed.record(written[1], {"posts": final.posts, "pages": final.pages, "diagnostics": [vars(d) for d in diags]}, indexer)
    return final
