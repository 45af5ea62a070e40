"""The render stage as the build runs it, and the body renderer the build and the dev server share."""

from __future__ import annotations

from typing import Callable, Optional

from kxsj.config import Config
from kxsj.model import Diagnostic, Post


def markdown_renderer(config: Optional[Config] = None) -> Callable[[str], str]:
    """Body Markdown -> HTML with ``config``'s render settings, one instance for the whole build."""
    from kxsj.render.context import RenderContext
    from kxsj.render.markdown import configured_renderer

    renderer = configured_renderer(RenderContext.from_config(config) if config is not None else RenderContext())
    return lambda text: renderer.render(text).html


def post_html(to_html: Callable[[str], str], posts: list[Post], config: Config) -> Callable[[str], str]:
    """Body Markdown -> HTML as pages show it: rendered, then 《title》 mentions
    of archive posts linked.  The build and the dev server both go through here."""
    from kxsj.enrich.links import link_titles
    from kxsj.render.templates import href

    return link_titles(to_html, posts, lambda url: href(config, url), config.original_url)


def render_stage(
    options, config: Config, posts: list[Post], to_html: Callable[[str], str], diags: list[Diagnostic], start: float,
    memo=None, render_pages=None, bytecode=None, to_feed=None,
):
    """The render stage: every page (``kxsj.render.pages.render_site``), or None when a template or the disk failed.

    The failure is reported in ``diags``; ``memo``, ``render_pages``,
    ``bytecode`` and ``to_feed`` are the speed hooks (``kxsj.incremental.session``).
    """
    import jinja2

    from kxsj.progress import Progress
    from kxsj.render.mathengine import release
    from kxsj.render.pages import render_site
    from kxsj.render.templates import make_environment
    from kxsj.write.lock import describe_os_error

    progress = Progress(options.progress, start)
    try:
        site = render_site(
            posts, config, to_html, options.root, progress, memo=memo, render_pages=render_pages,
            env=make_environment(config, options.root, bytecode, reload=False), to_feed=to_feed,
        )
    except jinja2.TemplateError as exc:  # a site's own template is broken
        where = getattr(exc, "filename", None) or getattr(exc, "name", None) or "templates"
        diags.append(Diagnostic(where, getattr(exc, "lineno", 0) or 0, "error", f"template error: {exc}"))
        return None
    except OSError as exc:  # the page spool beside the output: a full disk
        diags.append(Diagnostic(str(options.out_dir), 0, "error", describe_os_error(exc, options.out_dir)))
        return None
    finally:
        progress.finish()
        release()  # the feed's MathML may have started V8: no V8 thread left, so this process may fork again
    diags += site.diagnostics
    return site
