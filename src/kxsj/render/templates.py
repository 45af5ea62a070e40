"""The Jinja environment every page, the feed and the sitemap are rendered with.

Autoescape is on for HTML *and* XML (a title like ``<script>`` or ``A&B`` must
come out as text in both), off only for plain-text files such as
``robots.txt``.  Every address a template prints goes through ``href``, so
a site served under a sub-path (``base_url = https://user.github.io/repo/``)
works, and Chinese path segments are percent-encoded in the markup while
the files on disk keep their UTF-8 names.
"""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import quote, unquote

import jinja2

from kxsj.assets import asset_dirs
from kxsj.config import Config
from kxsj.model import PostDate
from kxsj.render.math import has_math
from kxsj.render.mathcss import page_css, page_fonts
from kxsj.render.share import post_share
from kxsj.render.site_loader import SiteTemplateLoader


@functools.lru_cache(maxsize=65536)  # every page links the same tags, months and neighbours
def quote_path(path: str) -> str:
    """Percent-encode a site path for use in markup (``/tag/生成模型/`` -> ``/tag/%E7%94%9F…/``).

    Accepts the path decoded or already encoded (``kxsj.enrich`` hands post
    URLs over encoded): paths kxsj makes never hold a literal ``%``.
    """
    return quote(unquote(path), safe="/")


def href(config: Config, path: str) -> str:
    """The address a page links to: root-relative, under the base path (``/repo/archives/1/``).

    Root-relative rather than absolute, so the same pages work on the
    published host and on any local server that serves them at the base path.
    """
    return config.base_path + quote_path(path)


def absolute(config: Config, path: str) -> str:
    """The full address of a site path under ``base_url``, for the feed, sitemap and citations.

    Without a ``base_url`` there is no full address to give, so it is root-relative.
    """
    return config.site_url(quote_path(path))


def zh_date(date: PostDate) -> str:
    """``2021年11月15日``; a date without a year says so instead of guessing one."""
    if date.year is None:
        return f"{date.month:02d}月{date.day:02d}日（年份不详）"
    return f"{date.year}年{date.month:02d}月{date.day:02d}日"


def _autoescape(name: str | None) -> bool:
    # Plain text (robots.txt) must not turn "&" into "&amp;"; everything else,
    # HTML and XML alike, is escaped.
    return not (name or "").endswith(".txt")


def make_environment(
    config: Config, root: Path | None = None, bytecode_cache: jinja2.BytecodeCache | None = None,
    reload: bool = True,
) -> jinja2.Environment:
    """A Jinja environment over the site's own templates, then the shipped ones.

    ``kxsj build`` passes ``bytecode_cache`` (``kxsj.incremental.templates``)
    so templates compiled by the last build are not compiled again, and
    ``reload=False``: one build renders every page with the templates as it
    first read them, without asking the file system before each page and
    each ``{% include %}`` whether a template changed (``kxsj serve`` keeps
    asking, to pick up an edited template).
    """
    loader = SiteTemplateLoader([str(d) for d in asset_dirs("templates", root)])
    env = jinja2.Environment(
        loader=loader,
        bytecode_cache=bytecode_cache,
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=reload,
    )
    env.filters["href"] = lambda path: href(config, path)
    env.filters["absolute"] = lambda path: absolute(config, path)
    env.filters["zh_date"] = zh_date
    env.globals["config"] = config
    env.globals["share_post"] = lambda rp, description=None: post_share(rp, config, lambda p: absolute(config, p), description)
    env.globals["static"] = lambda path: href(config, "/static/" + path.lstrip("/"))
    env.tests["math"] = has_math  # {% if html is math %}: the page needs MathJax
    env.globals["mathjax_src"] = (
        href(config, "/static/mathjax/tex-chtml-full.js") if config.mathjax == "local" else config.mathjax
    )
    env.globals["math_mode"] = config.math  # build: formulas typeset by kxsj build (kxsj.render.mathbuild)
    env.globals["math_chars_css"] = page_css  # build: the CSS of the characters a page's formulas use
    env.globals["math_fonts"] = page_fonts  # build: the fonts they are drawn with, preloaded
    return env
