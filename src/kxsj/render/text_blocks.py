"""Block rules that keep the author's text as written.

* ``BlockAttrListTreeprocessor`` (replaces ``attr_list``, 8): attribute lists
  only in their block form, ``{: …}`` with the colon, on a block's last line
  or at the end of a heading.  The inline form (``{…}`` right after an
  element) is text: in this archive it is TeX the crawl left without ``$``
  (``\\boldsymbol{M}_t\\boldsymbol{V}_{t-1}``: the ``_…_`` became ``<em>``,
  then ``{t-1}`` its "attributes", and the text was eaten or moved).
* ``SpacedHashHeaderProcessor`` (replaces ``hashheader``, 70): ``#`` opens a
  heading only when a space (or the end of the line) follows, as in
  CommonMark; ``#训练`` is a hashtag, not a heading.
* ``RawTextTagPreprocessor`` (21, before raw HTML blocks at 20): a line that
  starts with a block-level element (``<h2>``, ``<div>``…) or one whose
  content the browser reads as raw text (``<title>``, ``<textarea>``,
  ``<xmp>``, ``<plaintext>``, ``<iframe>``, ``<script>``, ``<style>``…) is
  raw HTML only when that element is closed later in the text; otherwise it
  is text, and neither swallows the rest of the post as raw HTML nor leaves
  the page's HTML unbalanced.  Elements whose end tag HTML lets one omit
  (``<p>``, ``<li>``, ``<td>``…) and ``<hr>`` are left as they are.
* ``ControlCharPreprocessor`` (29, after Python-Markdown's whitespace
  normalisation): control characters other than tab, newline and form feed
  (a stray ``\\x08`` in a crawled post) and Unicode noncharacters are left
  out: the reader cannot see them, and HTML has no way to write them (even
  as ``&#8;``) in a well-formed page.
"""

from __future__ import annotations

import re

from markdown import Extension, Markdown
from markdown.blockprocessors import HashHeaderProcessor
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.preprocessors import Preprocessor


class BlockAttrListTreeprocessor(AttrListTreeprocessor):
    """``attr_list`` with ``{: …}`` (colon required) on blocks only."""

    BASE_RE = r"\{\:[ ]*([^\}\n ][^\n]*)\}"
    HEADER_RE = re.compile(r"[ ]+{}[ ]*$".format(BASE_RE))
    BLOCK_RE = re.compile(r"\n[ ]*{}[ ]*$".format(BASE_RE))
    INLINE_RE = re.compile(r"(?!)")  # the inline form: never


class SpacedHashHeaderProcessor(HashHeaderProcessor):
    """Hash headings whose ``#`` run is followed by a space or the line end."""

    RE = re.compile(r"(?:^|\n)(?P<level>#{1,6})(?=[ \t]|\n|$)(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)")


# Elements whose content an HTML parser does not read as markup: an unclosed
# one hides everything after it.
RAW_TEXT_TAGS = ("title", "textarea", "xmp", "plaintext", "iframe", "noscript", "noembed", "noframes", "script", "style")
# Elements that need no end tag (or have none).
_OPTIONAL_END = frozenset("p li dt dd tr td th thead tbody tfoot option colgroup hr".split())


class RawTextTagPreprocessor(Preprocessor):
    """Write ``&lt;`` for a line-start block or raw-text element that is never closed."""

    _cached: tuple[frozenset, re.Pattern] = (frozenset(), re.compile("(?!)"))

    def _start_re(self) -> re.Pattern:
        names = frozenset({*self.md.block_level_elements, *RAW_TEXT_TAGS} - _OPTIONAL_END)
        if names != self._cached[0]:  # the block-level list may grow as extensions load
            alternatives = "|".join(map(re.escape, sorted(names, key=lambda n: (-len(n), n))))
            self._cached = (names, re.compile(r"^( {0,3})<(" + alternatives + r")(?=[\s/>])", re.I))
        return self._cached[1]

    def run(self, lines: list[str]) -> list[str]:
        if not any("<" in line for line in lines):
            return lines
        start_re = self._start_re()
        text = "\n".join(lines).lower()
        out, offset = [], 0
        for line in lines:
            length = len(line) + 1
            m = start_re.match(line)
            if m:
                name = m.group(2).lower()
                closed = name != "plaintext" and f"</{name}" in text[offset:]
                if not closed:
                    line = m.group(1) + "&lt;" + line[m.end(1) + 1 :]
            out.append(line)
            offset += length
        return out


_INVISIBLE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


class ControlCharPreprocessor(Preprocessor):
    """Leave out the characters an HTML page cannot hold (see the module)."""

    def run(self, lines: list[str]) -> list[str]:
        return [_INVISIBLE.sub("", line) for line in lines]


class TextBlockExtension(Extension):
    """Register the processors above (in place of ``attr_list`` and ``hashheader``)."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.treeprocessors.register(BlockAttrListTreeprocessor(md), "attr_list", 8)
        md.parser.blockprocessors.register(SpacedHashHeaderProcessor(md.parser), "hashheader", 70)
        md.preprocessors.register(RawTextTagPreprocessor(md), "kxsj-raw-text-tags", 21)
        md.preprocessors.register(ControlCharPreprocessor(md), "kxsj-control-chars", 29)
