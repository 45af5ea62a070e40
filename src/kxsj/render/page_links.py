"""Links and images of a body as the published site needs them (a Python-Markdown extension).

* A link or image to a site path (``/static/img/fig.png``, ``/archives/8757/``)
  gets the site's base path, as the templates' own links do
  (``base_url: https://alice.github.io/blog/`` -> ``/blog/static/img/fig.png``).
* A relative one to a file of the post's folder (``fig.png``,
  ``ddpm/fig.png`` written from ``ddpm.md``) becomes the file's address
  beside the post's page (``/blog/posts/ddpm/fig.png``): right on the post
  page and in its excerpt on every list page alike.
* Every image loads lazily (``loading="lazy"``, ``decoding="async"``); a
  local raster image gets its ``width`` and ``height`` so the text does not
  jump as it arrives.  Remote addresses are kept as written.

What is known of the post's files comes in the text itself: the load stage
(``kxsj.load.assets``) puts one context line before the body and excerpt,
which the preprocessor here takes off before anything else reads the text.
"""

from __future__ import annotations

import json
from typing import Optional
from urllib.parse import quote, urlsplit

from markdown import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from kxsj.local_links import CONTEXT_MARK, local_target


class _ContextPreprocessor(Preprocessor):
    """Takes the context line off the text and keeps what it says for the tree processor."""

    def __init__(self, md, ext: "PageLinkExtension"):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        self.ext.context = {}
        if lines and lines[0].startswith(CONTEXT_MARK) and lines[0].endswith("-->"):
            try:
                context = json.loads(lines[0][len(CONTEXT_MARK):-3])
            except ValueError:
                return lines
            if isinstance(context, dict):
                self.ext.context = context
                return lines[1:]
        return lines


def _size(value) -> Optional[tuple[str, str]]:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value):
        return str(value[0]), str(value[1])
    return None


class _LinkTreeprocessor(Treeprocessor):
    def __init__(self, md, ext: "PageLinkExtension"):
        super().__init__(md)
        self.ext = ext

    def run(self, root) -> None:
        context = self.ext.context
        files = context.get("files") if isinstance(context.get("files"), dict) else {}
        static = context.get("static") if isinstance(context.get("static"), dict) else {}
        page = context.get("url") if isinstance(context.get("url"), str) else ""
        base = self.ext.base_path
        for el in root.iter():
            attr = "src" if el.tag == "img" else "href" if el.tag == "a" else None
            if attr is None:
                continue
            url = el.get(attr)
            target = local_target(url) if url else None
            size = None
            if target is not None and url.lstrip().startswith("/"):
                el.set(attr, base + url.lstrip())
                size = _size(static.get(target))
            elif target is not None and target in files and page.startswith("/"):
                entry = files[target]
                rel = entry[0] if isinstance(entry, list) and entry and isinstance(entry[0], str) else None
                if rel is not None:
                    parts = urlsplit(url.strip())
                    tail = ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")
                    el.set(attr, base + page + quote(rel) + tail)
                    size = _size(entry[1:])
            if el.tag == "img":
                _lazy(el, size)


def _lazy(el, size: Optional[tuple[str, str]]) -> None:
    el.set("loading", el.get("loading") or "lazy")
    el.set("decoding", el.get("decoding") or "async")
    if size and not el.get("width") and not el.get("height"):
        el.set("width", size[0])
        el.set("height", size[1])


class PageLinkExtension(Extension):
    """``base_path``: the path of the site's ``base_url`` without its trailing slash (``/blog``), or ""."""

    def __init__(self, base_path: str = "", **kwargs):
        super().__init__(**kwargs)
        self.base_path = base_path.rstrip("/")
        self.context: dict = {}

    def extendMarkdown(self, md) -> None:  # noqa: N802 - Python-Markdown's name
        md.registerExtension(self)
        # Before ``fenced_code_block`` (25) and ``html_block`` (20) see the context line.
        md.preprocessors.register(_ContextPreprocessor(md, self), "kxsj_page_context", 28)
        # After ``inline`` (20) has made the links and images, before ``prettify`` (10).
        md.treeprocessors.register(_LinkTreeprocessor(md, self), "kxsj_page_links", 15)

    def reset(self) -> None:
        self.context = {}
