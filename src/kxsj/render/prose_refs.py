"""Bare ``\\eqref{…}`` / ``\\ref{…}`` in prose become linked equation references.

kexue.fm's MathJax read the whole page, so ``如式\\eqref{eq:x}所示`` written
without ``$`` still became a link to equation (x).  kxsj's MathJax reads only
what the renderer marked as math, so this inline pattern marks such a
reference as an inline formula: ``<span class="arithmatex">\\(\\eqref{eq:x}\\)</span>``,
which MathJax turns into the equation's number, linked to the equation in
the same post (``mathjax-config.js`` keeps labels per post).

It runs after Markdown's backslash escapes (so ``\\\\eqref{x}`` stays the
literal text ``\\eqref{x}``) and never sees text inside code or formulas,
which earlier patterns have taken.  The label is kept byte for byte.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

from kxsj.render.math import MATH_CLASS, html_escape

# ``\eqref{label}`` / ``\ref{label}``: a label is one line without braces.
PROSE_REF = r"(?<!\\)\\(?:eq)?ref\{[^{}\n]+\}"
# Before the text rules' escape and TeX-run pattern (180), which would keep a bare
# reference as literal text, and before links (160) so one inside [link text] is math too.
PRIORITY = 185


class ProseRefProcessor(InlineProcessor):
    """``\\eqref{…}`` outside any formula -> an inline formula holding just it."""

    def handleMatch(self, m: re.Match, data: str):  # type: ignore[override]
        el = etree.Element("span", {"class": MATH_CLASS})
        el.text = AtomicString(html_escape("\\(" + m.group(0) + "\\)"))
        return el, m.start(0), m.end(0)


class ProseRefExtension(Extension):
    """Register ``ProseRefProcessor`` (load before ``FastInlineExtension``)."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.inlinePatterns.register(ProseRefProcessor(PROSE_REF, md), "kxsj-prose-ref", PRIORITY)


_PROSE_REF = re.compile(PROSE_REF)


def find_prose_refs(text: str, formulas) -> list[tuple[int, str]]:
    """``(offset, tex)`` of each bare reference the renderer marks as math.

    ``text`` is a Markdown body with code blanked out (``kxsj.codescan.mask_code``)
    and ``formulas`` its ``mathscan`` spans; a reference inside a formula, or
    after an escaping backslash (``\\\\eqref``), is not one.  For tests and
    checks that count the formulas on a page.
    """
    out: list[tuple[int, str]] = []
    pos = 0
    for start, end in [*((s.start, s.end) for s in formulas), (len(text), len(text))]:
        for m in _PROSE_REF.finditer(text, pos, start):
            slashes = len(text[: m.start()]) - len(text[: m.start()].rstrip("\\"))
            if slashes % 2 == 0:
                out.append((m.start(), m.group(0)))
        pos = end
    return out
