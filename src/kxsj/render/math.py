"""Math for Python-Markdown, deciding "where is the formula" with ``kxsj.mathscan``.

``pymdownx.arithmatex`` (generic mode) is loaded for its place in the
pipeline (it adds ``$`` to Markdown's escape list and owns the
``arithmatex-inline`` / ``arithmatex-block`` registry slots), but its own
regexes read this archive wrongly: money (``花了$5，又花了$10``) becomes math,
a formula that sits inside a paragraph stays text, and a bare
``\\begin{equation}`` gets wrapped in ``\\[…\\]`` (a MathJax nesting error).
So this extension registers its own processors *under arithmatex's names*,
all of them asking ``mathscan`` — the one definition of math shared with the
dump reader and the lint — so the renderer can never disagree with them.

Three processors, in the order Python-Markdown runs them:

* ``MathJoinProcessor`` (block, priority 120): a display formula may contain a
  blank line, which splits it over several Markdown blocks; glue those blocks
  back into one before anyone else looks at them.
* ``DisplayMathProcessor`` (block, 79.9): splits a block around its display
  formulas so each one becomes ``<div class="arithmatex">`` and the text
  before and after stays in paragraphs (a ``<div>`` inside ``<p>`` is invalid
  HTML).
* ``InlineMathProcessor`` (inline, 189.9: after code spans, before
  backslash escapes, so ``\\\\``, ``\\_`` and ``*`` inside TeX stay as written
  and ``$`` inside code stays text).

What the page gets: inline ``<span class="arithmatex">\\(…\\)</span>``,
display ``<div class="arithmatex">\\[…\\]</div>``, bare environments exactly
as written.  The inner TeX is byte-identical to the source; only ``&``, ``<``
and ``>`` are written as entities, so the element's text content is the TeX.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from typing import Optional

from markdown import Extension, Markdown
from markdown.blockprocessors import BlockProcessor, ParagraphProcessor
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

from kxsj.codescan import mask_code_spans
from kxsj.mathscan import MathSpan, match_at, scan

MATH_CLASS = "arithmatex"
_MATH_MARKS = (f'class="{MATH_CLASS}"', "<mjx-container")


def has_math(html: str) -> bool:
    """Whether rendered ``html`` holds a formula: an element this extension
    (or ``prose_refs``) wrapped as ``class="arithmatex"``, the only thing the
    page's MathJax typesets, or one already typeset (``<mjx-container>``).

    Asked of a whole page's content by ``base.html``: a page without any
    loads no MathJax.  A false alarm (the text ``class="arithmatex"`` shown
    in a code block) only loads MathJax for nothing; no formula is missed,
    since every formula the renderer writes carries the mark.
    """
    return any(mark in html for mark in _MATH_MARKS)


def _has_display_hint(block: str) -> bool:
    """Whether ``block`` holds ``$$``, ``\\[`` or ``\\begin{``, without which it cannot hold block-level math.

    A cheap filter so most paragraphs never reach the scanner.  Three ``in``
    tests, not ``any()`` over a tuple: every block of every post is asked
    (200,000 times at 1,400 posts), and the generator cost more than the searches.
    """
    return "$$" in block or "\\[" in block or "\\begin{" in block


# ``mathscan.scan`` steps through text by these tokens (a ``\\x`` escape
# and a failed ``$$`` are skipped whole); openers are matched the same way.
_TOKEN = re.compile(r"\\.|\$\$?", re.DOTALL)
# Openers that may run past a blank line (``$…$`` never does).
_SPANNING_OPENERS = ("$$", "\\(", "\\[", "\\begin{")
# A block no processor has reason to claim: one that tests True on it claims every block.
_PLAIN_BLOCK = "x"

# Environments that are themselves a display equation: MathJax rejects them
# inside ``\[…\]``, so ``$$\begin{equation}…\end{equation}$$`` is written bare.
_DISPLAY_ENVS = frozenset(
    name + star
    for name in (
        "equation",
        "align",
        "gather",
        "multline",
        "eqnarray",
        "flalign",
        "alignat",
    )
    for star in ("", "*")
)


def html_escape(text: str) -> str:
    """Escape what HTML needs and nothing else (quotes are fine in text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def page_tex(text: str, span: MathSpan) -> str:
    """The formula as MathJax on the page should read it.

    ``$…$`` becomes ``\\(…\\)`` and ``$$…$$`` becomes ``\\[…\\]`` (the site's
    MathJax only knows those delimiters); everything else is kept as written.
    A bare environment that holds another of its own name (an ``array``
    inside an ``array``) is wrapped in ``\\[…\\]``: MathJax finds a bare
    environment's end by name without counting nesting, so it would stop at
    the inner ``\\end`` and show an error.
    The TeX between the delimiters is never changed.
    """
    raw = span.tex(text)
    if span.kind == "env":
        nested = raw.count(f"\\begin{{{span.env}}}") > 1
        return "\\[" + raw + "\\]" if nested and span.env not in _DISPLAY_ENVS else raw
    if span.kind == "$":
        return "\\(" + raw[1:-1] + "\\)"
    if span.kind == "$$":
        inner = raw[2:-2]
        if _is_display_env(inner):
            return inner
        return "\\[" + inner + "\\]"
    return raw


def _is_display_env(tex: str) -> bool:
    stripped = tex.strip()
    span = match_at(stripped, 0)
    return (
        span is not None
        and span.kind == "env"
        and span.end == len(stripped)
        and span.env in _DISPLAY_ENVS
    )


class _BlockScanner:
    """Block-level questions about math, answered like the inline stage would.

    Block-level decisions must not see ``$`` inside `` `…` ``: the inline
    stage handles code spans before math.  So code spans are found by the
    Markdown instance's own ``backtick`` processor (whatever its version's
    rules are) and blanked out before ``mathscan`` runs.  Display spans are
    cached per block text, since up to three processors ask about one block;
    ``MathExtension.reset`` clears the cache between documents.
    """

    def __init__(self, md: Markdown) -> None:
        self.md = md
        self._spans: dict[str, list[MathSpan]] = {}

    def clear(self) -> None:
        self._spans.clear()

    def mask_code_spans(self, text: str) -> str:
        """``text`` with every code span blanked out, same length, newlines kept."""
        return mask_code_spans(text, self.md.inlinePatterns["backtick"], fill="x", paragraphs=False)

    def protected_spans(self, block: str) -> list[MathSpan]:
        """The formulas the block processor must take out of Markdown's reach:
        display formulas, and inline ones that run over a line break (whose
        next line could look like a heading, quote or rule)."""
        if not (
            _has_display_hint(block)
            or ("\n" in block and ("$" in block or "\\(" in block))
        ):
            return []
        spans = self._spans.get(block)
        if spans is None:
            masked = self.mask_code_spans(block)
            spans = [s for s in scan(masked) if s.display or "\n" in masked[s.start : s.end]]
            self._spans[block] = spans
        return spans


class MathJoinProcessor(BlockProcessor):
    """Glue back the blocks a formula spans when it contains a blank line.

    Python-Markdown has split the text at blank lines before any block
    processor runs.  When ``blocks[0]`` opens a formula that only closes in a
    later block, the blocks are joined (with the blank lines they lost) and
    ``run`` returns False so the other processors see the joined block.
    """

    def __init__(self, md: Markdown, scanner: _BlockScanner) -> None:
        super().__init__(md.parser)
        self.scanner = scanner

    def test(self, parent: etree.Element, block: str) -> bool:
        return _has_display_hint(block) or "\\(" in block

    def run(self, parent: etree.Element, blocks: list[str]) -> bool:
        search_from = 0
        while len(blocks) > 1:
            masked = self.scanner.mask_code_spans(blocks[0])
            span = self._first_spanning(masked, blocks, search_from)
            if span is None:
                break
            count, end = 1, len(masked)
            while end < span.end:
                end += 2 + len(blocks[count])
                count += 1
            blocks[0:count] = ["\n\n".join(blocks[:count])]
            search_from = span.end
        return False

    def _first_spanning(self, masked: str, blocks: list[str], start: int) -> Optional[MathSpan]:
        """The first formula opened in ``masked[start:]`` that closes in a later block."""
        closed = scan(masked, start)
        gaps, pos = [], start
        for span in closed:
            gaps.append((pos, span.start))
            pos = span.end
        gaps.append((pos, len(masked)))
        rest = None
        for gap_start, gap_end in gaps:
            for m in _TOKEN.finditer(masked, gap_start, gap_end):
                if not masked.startswith(_SPANNING_OPENERS, m.start()):
                    continue
                if rest is None:
                    mask = self.scanner.mask_code_spans
                    rest = "\n\n".join([masked] + [mask(b) for b in blocks[1:]])
                span = match_at(rest, m.start())
                if span is not None and span.end > len(masked):
                    return span
        return None


class DisplayMathProcessor(BlockProcessor):
    """Split a block around its display formulas: text, div, text…

    Inline formulas that run over a line break are stashed in place (raw
    HTML in the paragraph), for the same reason: their lines are TeX.

    Registered at 79.9, before the processors that look for headings, rules,
    quotes or tables *anywhere* in a block, so a formula line such as ``> 0``
    or ``# x`` is never read as Markdown.  A block whose text before its
    first formula is claimed by one of the processors that run after this
    one (a list item, a quote, a heading line, a table, a definition…) is
    left to it: they parse their content again, and the formula is found
    there.  Those processors are read from the parser's registry when asked,
    so an extension's processor counts as soon as it is registered.  The
    text around the formulas is parsed as ordinary blocks, so inside a tight
    list item it stays list text just as it would without math.
    """

    def __init__(self, md: Markdown, scanner: _BlockScanner, defer: bool) -> None:
        super().__init__(md.parser)
        self.md = md
        self.scanner = scanner
        self.defer = defer

    def test(self, parent: etree.Element, block: str) -> bool:
        spans = self.scanner.protected_spans(block)
        if not spans:
            return False
        head = block[: spans[0].start]
        return not (self.defer and head.strip() and self._claimed_by_other(parent, head))

    def _claimed_by_other(self, parent: etree.Element, head: str) -> bool:
        """Whether a processor registered after this one would take ``head``.

        Some (``reference``, ``footnote``, ``abbr``) test True on every block
        and decide in ``run``: they are asked through their ``RE`` instead.
        The paragraph processor, which takes whatever is left, and the math
        processors themselves are not asked.
        """
        after = False
        for processor in self.parser.blockprocessors:  # in the order they run
            if processor is self:
                after = True
            elif after and not isinstance(processor, (DisplayMathProcessor, ParagraphProcessor)):
                if processor.test(parent, _PLAIN_BLOCK):
                    pattern = getattr(processor, "RE", None)
                    if isinstance(pattern, re.Pattern) and pattern.search(head):
                        return True
                elif processor.test(parent, head):
                    return True
        return False

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        block = blocks.pop(0)
        pos = 0
        text: list[str] = []
        for span in self.scanner.protected_spans(block):
            text.append(block[pos : span.start])
            pos = span.end
            # Stashed as raw HTML so nothing downstream can touch the TeX
            # (attr_list, for one, reads a trailing ``{…}`` line as attributes).
            tex = html_escape(page_tex(block, span))
            if not span.display:
                text.append(self.md.htmlStash.store(f'<span class="{MATH_CLASS}">{tex}</span>'))
                continue
            self._text(parent, "".join(text))
            text = []
            div = etree.SubElement(parent, "div", {"class": MATH_CLASS})
            div.text = AtomicString(self.md.htmlStash.store(tex))
        text.append(block[pos:])
        self._text(parent, "".join(text))

    def _text(self, parent: etree.Element, text: str) -> None:
        text = text.strip()
        if text:
            self.parser.parseBlocks(parent, [text])


class InlineMathProcessor(InlineProcessor):
    """Inline formulas (and display ones in headings, table cells, captions).

    The regex only finds candidate starts; ``mathscan.match_at`` decides.
    ``\\x`` escapes are matched whole and rejected, so ``\\$`` never opens
    math and is left to Markdown's escape pattern, which prints ``$``.
    """

    batch = True
    """Leaf elements with ``AtomicString`` text: ``kxsj.render.fast_inline`` applies all matches in one pass."""

    def __init__(self, md: Markdown) -> None:
        # Tokens as ``mathscan.scan`` steps through text: a failed ``$$`` is
        # skipped whole, so ``$$中文$`` is no formula here either.
        super().__init__(_TOKEN.pattern, md)

    def handleMatch(self, m: re.Match, data: str):  # type: ignore[override]
        span = match_at(data, m.start(0))
        if span is None:
            return None, None, None
        el = etree.Element("span", {"class": MATH_CLASS})
        el.text = AtomicString(html_escape(page_tex(data, span)))
        return el, span.start, span.end


class MathExtension(Extension):
    """Register the math processors over arithmatex's (load arithmatex first)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scanner: Optional[_BlockScanner] = None

    def extendMarkdown(self, md: Markdown) -> None:
        md.registerExtension(self)
        if "$" not in md.ESCAPED_CHARS:
            md.ESCAPED_CHARS = [*md.ESCAPED_CHARS, "$"]
        md.inlinePatterns.register(InlineMathProcessor(md), "arithmatex-inline", 189.9)
        self.scanner = scanner = _BlockScanner(md)
        blocks = md.parser.blockprocessors
        blocks.register(MathJoinProcessor(md, scanner), "kxsj-math-join", 120)
        blocks.register(DisplayMathProcessor(md, scanner, defer=True), "arithmatex-block", 79.9)
        # Safety net: a paragraph that still holds display math is split.
        blocks.register(DisplayMathProcessor(md, scanner, defer=False), "kxsj-math-in-paragraph", 10.5)

    def reset(self) -> None:
        if self.scanner is not None:
            self.scanner.clear()
