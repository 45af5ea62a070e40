"""Post body Markdown -> HTML, one pipeline for dumps and Markdown posts.

``BodyRenderer`` builds a single ``markdown.Markdown`` and reuses it (with
``reset()``) for every body: building one costs far more than rendering a
typical post, and the build renders thousands.  Create one per worker
process; an instance is not safe to share between threads.

Extensions, and why:

* ``pymdownx.arithmatex`` (generic) + ``kxsj.render.math``: math found by
  ``kxsj.mathscan``, the same rules the original site's MathJax used;
* ``pymdownx.superfences`` + ``pymdownx.highlight``: fenced code through
  Pygments with CSS classes under ``.highlight`` (no inline styles, so the
  site stylesheet controls colours, and ``ClassModeStyle`` spares Pygments
  building a stylesheet per block that nothing reads);
* ``tables``, ``md_in_html`` (image captions written as HTML whose inside is
  Markdown), ``footnotes`` (``[^1]``);
* ``kxsj.render.text_blocks`` and ``kxsj.render.text_inline``: the reader
  sees what the author wrote: ``attr_list`` in its block form only, ``#``
  headings need a space, TeX left outside formulas kept verbatim, no
  emphasis from ``_``/``*`` inside words or TeX, raw HTML only for phrasing
  tags, CommonMark's ``\\`` hard break;
* ``toc`` through ``kxsj.render.toc``: Chinese headings get readable ids,
  a visible anchor each, and a body with three headings or more a contents
  list (``[TOC]`` still puts one where the author typed it);
* ``kxsj.render.link_scan``: ``[text](href)`` found in linear time;
* ``kxsj.render.cjk``: how a newline inside a paragraph is shown (the
  ``line_breaks`` setting: Chinese lines joined, kept, or ``<br>``);
* ``kxsj.render.prose_refs``: a bare ``\\eqref{…}`` in prose becomes math,
  linked to its equation as on kexue.fm;
* ``kxsj.render.page_links``: site paths under ``base_url``, the post's
  own files beside its page, lazy images with their sizes;
* ``kxsj.render.fast_inline``: the same inline stage, without the regex
  searches that cannot match (rendering time, not output).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import markdown
from pygments.style import Style, StyleMeta

from kxsj.render.budget import check_known, time_limit
from kxsj.render.cjk import CjkLineJoinExtension
from kxsj.render.fast_inline import FastInlineExtension
from kxsj.render.link_scan import LinearLinkExtension
from kxsj.render.math import MathExtension
from kxsj.render.context import RenderContext
from kxsj.render.mathbuild import typeset_body
from kxsj.render.page_links import PageLinkExtension
from kxsj.render.text_blocks import TextBlockExtension
from kxsj.render.text_inline import TextInlineExtension
from kxsj.render.toc import reader_toc
from kxsj.render.prose_refs import ProseRefExtension


@dataclass(frozen=True)
class RenderedBody:
    """A rendered body: its HTML and its headings for a table of contents.

    ``toc`` is ``(level, id, title)`` in document order; ``title`` is plain
    text (escape it when putting it into HTML).
    """

    html: str
    toc: list[tuple[int, str, str]] = field(default_factory=list)


class _NoTokenStyles(StyleMeta):
    """A style class that lists no token styles when iterated."""

    def __iter__(cls):
        return iter(())


class ClassModeStyle(Style, metaclass=_NoTokenStyles):
    """The Pygments style for highlighting with CSS classes: no token styles.

    ``pymdownx.highlight`` makes a new ``HtmlFormatter`` for every code
    block, and the formatter's constructor turns its style into a table of
    CSS per token type (``_create_stylesheet``), which costs more than
    highlighting a short block.  With ``noclasses=False`` nothing reads that
    table: spans get class names from their token types, and the colours
    are in ``static/css/pygments.css``.  With no token styles the table is
    empty and costs nothing; the HTML is the same.  With ``noclasses=True``
    the table *is* the output, so ``_extensions`` uses this style only with
    classes.
    """


def _extensions(line_breaks: str = "joined", base_path: str = "") -> tuple[list, dict]:
    noclasses = False  # CSS classes; the colours are in static/css/pygments.css
    extensions = [
        "pymdownx.arithmatex",
        MathExtension(),  # after arithmatex: replaces its processors
        "pymdownx.highlight",
        "pymdownx.superfences",
        "tables",
        "md_in_html",
        "footnotes",
        TextBlockExtension(),  # attr_list's block form (no "attr_list": its inline form eats text)
        TextInlineExtension(),  # after math: replaces ``escape`` and ``html``
        reader_toc(),  # heading ids and anchors, [TOC], the automatic contents list
        CjkLineJoinExtension(line_breaks),
        LinearLinkExtension(),
        ProseRefExtension(),  # bare \eqref{…} in prose -> a linked reference
        PageLinkExtension(base_path),  # site paths under base_url, the post's own files, lazy images
        FastInlineExtension(),  # last: replaces ``inline`` once all patterns are in
    ]
    configs = {
        "pymdownx.arithmatex": {"generic": True},
        "pymdownx.highlight": {
            "use_pygments": True,
            "css_class": "highlight",
            "guess_lang": False,
            "noclasses": noclasses,
            "pygments_style": "default" if noclasses else ClassModeStyle,
        },
    }
    return extensions, configs


def _flatten_toc(tokens: list[dict]) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    for token in tokens:
        out.append((token["level"], token["id"], html.unescape(token["name"])))
        out.extend(_flatten_toc(token.get("children", [])))
    return out


class BodyRenderer:
    """Render post bodies (Markdown with TeX) to HTML, reusing one parser.

    ``line_breaks`` is the setting of that name (``kxsj.render.cjk``),
    ``base_path`` the path of ``base_url`` (``kxsj.render.page_links``);
    ``math="build"`` typesets the formulas (``kxsj.render.mathbuild``);
    ``configured_renderer`` makes one with the site's settings (``RenderContext``).
    """

    def __init__(self, line_breaks: str = "joined", base_path: str = "", math: str = "browser", math_engine: str = "") -> None:
        extensions, configs = _extensions(line_breaks, base_path)
        self._typeset = math == "build"  # math_engine: only for the cache key (``RenderContext``)
        self._md = markdown.Markdown(
            extensions=extensions, extension_configs=configs, output_format="html"
        )

    @property
    def escaped_chars(self) -> frozenset[str]:
        """Characters a backslash makes literal (``\\$`` included)."""
        return frozenset(self._md.ESCAPED_CHARS)

    def render(self, text: str) -> RenderedBody:
        check_known(text)
        md = self._md
        md.reset()
        with time_limit():  # one slow post is reported, not waited for (``kxsj.render.budget``)
            body = md.convert(text)
        if self._typeset:  # MathJax in V8: outside the time limit, which is for Markdown
            body = typeset_body(body)
        toc = _flatten_toc(getattr(md, "toc_tokens", []))
        return RenderedBody(body, toc)


def configured_renderer(context: RenderContext) -> BodyRenderer:
    """A ``BodyRenderer`` with the site's settings (``kxsj.render.context``)."""
    return BodyRenderer(**context.options())
