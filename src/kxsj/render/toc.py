"""Headings for readers: ids, a visible anchor on each, and an automatic contents list.

Built on Python-Markdown's ``toc`` extension, as its tree processor:

* every heading gets an id (``slugify_unicode``: Chinese headings keep
  readable ids) and, as its last child, an empty ``<a class="headerlink"
  href="#id">`` that the stylesheet shows as "#" (the mark is CSS generated
  content, so the heading's text stays exactly what the author wrote);
* a body with ``AUTO_TOC_MIN`` or more headings and no ``[TOC]`` of its own
  starts with ``<details class="toc toc-auto">``: collapsed at the top on
  a phone, moved beside the text on a wide screen by ``static/js/reader.js``;
* ``[TOC]`` typed by the author is replaced by the contents there, as
  ``toc`` always did, and then no automatic one is added.

The ``[TOC]`` marker is looked for only where it can be: the stock
``replace_marker`` joins the text of every element's subtree to test it
(its cost: ``benchmarks/README.md``, "Measured costs"), for a marker posts
hardly ever hold.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from copy import deepcopy

from markdown.extensions.toc import TocExtension, TocTreeprocessor, remove_fnrefs, slugify_unicode

AUTO_TOC_MIN = 3
"""A body with this many headings or more gets a contents list of its own."""

AUTO_TOC_TITLE = "目录"
ANCHOR_LABEL = "本节链接"


def _count(tokens: list[dict]) -> int:
    return sum(1 + _count(token.get("children", [])) for token in tokens)


class ReaderTocTreeprocessor(TocTreeprocessor):
    """``toc``'s tree processor with empty heading anchors and an automatic contents list."""

    def run(self, doc: etree.Element) -> None:
        self._placed = False
        self._doc = doc
        self._headings = None
        super().run(doc)
        tokens = getattr(self.md, "toc_tokens", [])
        if self._placed or _count(tokens) < AUTO_TOC_MIN:
            return
        details = etree.Element("details", {"class": "toc toc-auto", "data-pagefind-ignore": ""})
        summary = etree.SubElement(details, "summary")
        summary.text = AUTO_TOC_TITLE
        details.append(self.build_toc_div(tokens))
        doc.insert(0, details)

    def build_toc_div(self, toc_list: list) -> etree.Element:
        """The stock list, each entry showing its heading as written (formulas typeset, not as TeX)."""
        div = super().build_toc_div(toc_list)
        if not toc_list:
            return div
        if self._headings is None:  # found once per body: the stock run and the automatic list both build a list
            self._headings = {
                el.get("id"): el for el in self._doc.iter() if isinstance(el.tag, str) and self.header_rgx.match(el.tag)
            }
        headings = self._headings
        for link in div.iter("a"):
            heading = headings.get(link.get("href", "")[1:])
            if heading is not None and any(True for _ in heading.iter("span")):
                _show_heading(link, heading)
        return div

    def replace_marker(self, root: etree.Element, elem: etree.Element) -> None:
        marker = self.marker
        if any(el.text and marker in el.text for el in root.iter()):
            super().replace_marker(root, elem)
            self._placed = any(el is elem for el in root.iter())

    def add_permalink(self, c: etree.Element, elem_id: str) -> None:
        link = etree.SubElement(c, "a", {"class": "headerlink", "href": "#" + elem_id, "aria-label": ANCHOR_LABEL})
        link.text = ""


def _show_heading(link: etree.Element, heading: etree.Element) -> None:
    """``link`` made to show ``heading``'s content (its markup, less ids, anchor and footnote marks)."""
    copy = remove_fnrefs(deepcopy(heading))
    for child in list(copy):
        if child.tag == "a" and child.get("class") == "headerlink":
            copy.remove(child)
    for el in copy.iter():
        el.attrib.pop("id", None)
        if el.tag == "a":  # no link inside the entry's link
            el.tag = "span"
            el.attrib.clear()
    link.text = copy.text
    link[:] = list(copy)


class ReaderTocExtension(TocExtension):
    TreeProcessorClass = ReaderTocTreeprocessor


def reader_toc() -> ReaderTocExtension:
    """The ``toc`` extension as the body renderer uses it."""
    return ReaderTocExtension(slugify=slugify_unicode, permalink=True, permalink_class="headerlink")
