"""Inline rules that keep the author's text as written.

The archive's prose is Markdown converted from crawled HTML, and the crawl
left TeX without its ``$`` (``\\boldsymbol{O}_+ \\boldsymbol{I}_-``), code
words (``__iter__``, ``@_arohan_``), products (``64*64``) and tag-like text
(``源代码中都有<title>字段``).  Stock Markdown turns these into emphasis, eats
backslashes or writes raw HTML that hides the rest of the page.  These
processors replace or precede Python-Markdown's own, keeping what authors
use (``**bold**``, ``_em_`` between spaces or punctuation, ``\\*``, inline
``<sub>``…):

* ``TexRunProcessor`` (replaces ``escape``, 180): a backslash escape applies
  except inside a TeX run (``kxsj.mathscan.tex_run_at``): a run such as
  ``t\\in\\{0,1\\}`` holds a control word, which Markdown has no escape for,
  so it is TeX, not Markdown, and is kept verbatim, whole (no emphasis,
  escape or attribute list inside it).  ``my\\_var`` or ``\\*`` are escapes.
* ``HardBreakProcessor`` (185): CommonMark's hard line break, a ``\\`` that
  is not itself escaped at the end of a line, gives ``<br>`` (not when it
  ends a TeX run, which is shown as written).
* ``LiteralDelimiterProcessor`` (65, before emphasis at 60): ``_`` or ``*``
  that cannot be emphasis is escaped, as if the author had written ``\\_``:
  ``_`` inside a word (``snake_case``, ``__iter__``, CJK counts as word) or
  after anything but a space, an opening bracket or quote or CJK punctuation
  (``@_arohan_``, ``}_+``) unless it can close; ``*`` after ``^`` or ``_``
  (``x^*``) or between two digits (``64*64``).
* ``PhrasingHtmlProcessor`` (replaces ``html``, 90): inline raw HTML only for
  phrasing tags (``<b>``, ``<sub>``, ``<span>``…) and comments, and only
  balanced: a start tag whose end tag does not follow in the same text, or
  an end tag that closes no open one, is text.  A block tag in mid-sentence
  (``给每个<h2>标签``), an RCDATA or raw-text one (``<title>``,
  ``<textarea>``) or an unknown name (``<paper_id>``) is text.  Emphasis
  never crosses an inline tag (``LiteralDelimiterProcessor``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown import util
from markdown.inlinepatterns import EscapeInlineProcessor, HtmlInlineProcessor, InlineProcessor

from kxsj.mathscan import tex_run_at
from kxsj.render.text_blocks import RAW_TEXT_TAGS

# Elements that may sit inside a paragraph; anything else there is text.
PHRASING_TAGS = frozenset(
    "a abbr b bdi bdo br cite code data del dfn em font i img ins kbd mark q "
    "rp rt ruby s samp small span strong sub sup time u var wbr".split()
)
VOID_TAGS = frozenset({"br", "img", "wbr"})
_TAG_NAME = re.compile(r"<(?:!--|(/?)([A-Za-z][A-Za-z0-9]*))")


def _escaped(text: str, pos: int) -> bool:
    n = 0
    while pos > n and text[pos - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _literal(char: str) -> str:
    """What Python-Markdown's escape pattern puts for an escaped ``char``."""
    return f"{util.STX}{ord(char)}{util.ETX}"


class TexRunProcessor(EscapeInlineProcessor):
    """Backslash escapes, except in TeX left outside formulas (kept verbatim)."""

    def handleMatch(self, m: re.Match, data: str):  # type: ignore[override]
        run = tex_run_at(data, m.start(0))
        if run is None:
            return super().handleMatch(m, data)
        start, end = run
        # A string is stashed and put back as text: no later pattern sees it.
        return data[start:end], start, end


class HardBreakProcessor(InlineProcessor):
    """``\\`` at the end of a line (not itself escaped): a ``<br>``."""

    def __init__(self, md: Markdown) -> None:
        super().__init__(r"\\\n", md)

    def handleMatch(self, m: re.Match, data: str):  # type: ignore[override]
        if _escaped(data, m.start(0)) or tex_run_at(data, m.start(0)) is not None:
            return None, None, None  # ``\\`` is a backslash; ``\alpha\`` is TeX, shown as written
        return etree.Element("br"), m.start(0), m.end(0)


# What may come right before a ``_`` that opens emphasis: a space, the start,
# an opening bracket or quote, CJK punctuation or another delimiter.  Never a
# word character (CJK included: Python's ``\w``), ``}``, ``)``, ``^``, ``@``…
_OPEN_AFTER = " \t\n([{\"'“‘（【《「『〈，。、：；！？*~>"
# What may come right after a ``_`` that closes emphasis.
_CLOSE_BEFORE = " \t\n)]}\"'”’）】》」』〉，。、：；！？,.;:!?*~<"


def _underscore_can_open(data: str, start: int, end: int) -> bool:
    before = data[start - 1] if start else " "
    after = data[end] if end < len(data) else " "
    return before in _OPEN_AFTER and not after.isspace() and after not in "{\\"


def _underscore_can_close(data: str, start: int, end: int) -> bool:
    before = data[start - 1] if start else " "
    after = data[end] if end < len(data) else " "
    return not before.isspace() and before != "\\" and after in _CLOSE_BEFORE


_DUNDER = re.compile(r"[A-Za-z][A-Za-z0-9]*(_{2,})(?![\w])")


class LiteralDelimiterProcessor(InlineProcessor):
    """Escape the ``_`` and ``*`` runs that must not be emphasis (see the module)."""

    def __init__(self, md: Markdown) -> None:
        super().__init__(r"_+|\*+", md)

    def handleMatch(self, m: re.Match, data: str):  # type: ignore[override]
        start, end = m.span(0)
        before = data[start - 1] if start else ""
        after = data[end] if end < len(data) else ""
        if self._alone_between_tags(data, start, end, m.group(0)[0]):
            return "".join(_literal(c) for c in m.group(0)), start, end
        if m.group(0)[0] == "_":
            dunder = _DUNDER.match(data, end) if len(m.group(0)) >= 2 else None
            if dunder and dunder.group(1) == m.group(0):  # ``__iter__``: a name, not bold
                end = dunder.end()
                return "".join(_literal(c) if c == "_" else c for c in data[start:end]), start, end
            literal = not (_underscore_can_open(data, start, end) or _underscore_can_close(data, start, end))
        else:
            single = len(m.group(0)) == 1
            literal = (single and before in ("^", "_")) or (before.isdigit() and after.isdigit())
        if not literal:
            return None, None, None
        return "".join(_literal(c) for c in m.group(0)), start, end


    def _alone_between_tags(self, data: str, start: int, end: int, char: str) -> bool:
        """Whether no other run of ``char`` is inside the same inline HTML element as this one.

        Emphasis must not cross an inline tag (``<sub>_x</sub>_`` would nest
        ``<em>`` across ``</sub>``): a run with no partner in its own element
        (or outside all of them) is a plain character.  A whole element
        inside the emphasis (``**注意<sub>2</sub>要点**``) is no obstacle.
        """
        if util.INLINE_PLACEHOLDER_PREFIX not in data:
            return False
        stack: list[tuple[str, int]] = []  # the open elements: (name, where)
        pieces: list[tuple[int, int, tuple]] = []  # text between tags and the elements it is in
        pos = 0
        for at, after, closing, name in _inline_tags(self.md, data, 0, len(data), raw=False):
            pieces.append((pos, at, tuple(stack)))
            if not closing:
                stack.append((name, at))
            elif stack and stack[-1][0] == name:
                stack.pop()
            pos = after
        if not pieces:
            return False
        pieces.append((pos, len(data), tuple(stack)))
        mine = next(inside for a, b, inside in pieces if a <= start < b)
        runs = sum(len(re.findall(re.escape(char) + "+", data[a:b])) for a, b, inside in pieces if inside == mine)
        return runs == 1


# Raw HTML's placeholder, and raw HTML that is one start or end tag.
_STASHED = re.compile(re.escape(util.HTML_PLACEHOLDER).replace("%s", r"(\d+)"))
_ONE_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?>")


class PhrasingHtmlProcessor(HtmlInlineProcessor):
    """Inline raw HTML for phrasing elements and comments only, balanced."""

    def handleMatch(self, m: re.Match, data: str):  # type: ignore[override]
        if not self._accept(m.group(1), data, m.start(0), m.end(0)):
            return None, None, None
        return super().handleMatch(m, data)

    def _accept(self, tag: str, data: str, start: int, end: int) -> bool:
        found = _TAG_NAME.match(tag)
        if found is None:  # a processing instruction or CDATA: bogus comments in HTML
            return False
        closing, name = found.group(1), (found.group(2) or "").lower()
        if not name:  # a comment
            return True
        if name not in PHRASING_TAGS and not self._in_flow(name):
            return False
        if name in VOID_TAGS:
            return not closing
        if closing:  # it closes the innermost element opened before it
            return _open_before(self.md, data, start)[-1:] == [name]
        return not tag.endswith("/>") and _closed_later(self.md, data, end, name)


    def _in_flow(self, name: str) -> bool:
        """Whether a block element ``name`` may open here: directly inside an HTML
        element the author wrote (``md_in_html``'s span mode on older Python-Markdown
        gives ``<figure markdown="span"><figcaption>`` to this stage), never in
        Markdown's own paragraphs, headings, list items or table cells."""
        inline = self.md.treeprocessors["inline"] if "inline" in self.md.treeprocessors else None
        ancestors = getattr(inline, "ancestors", None) or [""]
        return (
            name not in RAW_TEXT_TAGS
            and self.md.is_block_level(name)
            and self.md.is_block_level(ancestors[-1])
            and ancestors[-1] not in _MARKDOWN_BLOCKS
        )


_MARKDOWN_BLOCKS = frozenset("p h1 h2 h3 h4 h5 h6 li td th dt dd pre blockquote".split())


def stashed_tag(md: Markdown, ident: str) -> tuple[str, str] | None:
    """``(closing, name)`` when the inline placeholder ``ident`` stands for raw HTML that is one tag."""
    inline = md.treeprocessors["inline"] if "inline" in md.treeprocessors else None
    node = getattr(inline, "stashed_nodes", {}).get(ident)
    stashed = _STASHED.fullmatch(node) if isinstance(node, str) else None
    blocks = md.htmlStash.rawHtmlBlocks
    if stashed is None or int(stashed.group(1)) >= len(blocks):
        return None
    raw = blocks[int(stashed.group(1))]
    tag = _ONE_TAG.fullmatch(raw) if isinstance(raw, str) else None
    return (tag.group(1), tag.group(2).lower()) if tag else None


def _inline_tags(md: Markdown, data: str, start: int, end: int, raw: bool):
    """``(start, end, closing, name)`` of the tags of HTML elements (not void) in ``data[start:end]``.

    Tags already taken as HTML are placeholders by now (the inline stage
    may try a text again after a match); with ``raw``, tag-like text counts
    too (tags not decided yet).
    """
    for m in _TAG_OR_PLACEHOLDER.finditer(data, start, end):
        if m.group(3) is not None:
            tag = stashed_tag(md, m.group(3))
        else:
            tag = (m.group(1), m.group(2).lower()) if raw else None
        if tag is not None and tag[1] not in VOID_TAGS and (tag[1] in PHRASING_TAGS or md.is_block_level(tag[1])):
            yield m.start(), m.end(), tag[0], tag[1]


def _open_before(md: Markdown, data: str, start: int) -> list[str]:
    """The elements taken as HTML before ``start`` and still open there, innermost last."""
    stack: list[str] = []
    for _at, _after, closing, name in _inline_tags(md, data, 0, start, raw=False):
        if not closing:
            stack.append(name)
        elif stack and stack[-1] == name:
            stack.pop()
    return stack


def _closed_later(md: Markdown, data: str, end: int, name: str) -> bool:
    """Whether ``</name>`` closes the element started just before ``end`` without misnesting.

    The inline tags after it are followed with a stack: an end tag of an
    element opened in between closes that one; an end tag of something else
    (``<sub><i></sub></i>``, seen from ``<i>``) means this element would be
    misnested, so it is not one.
    """
    stack: list[str] = []
    for _at, _after, closing, other in _inline_tags(md, data, end, len(data), raw=True):
        if not closing:
            stack.append(other)
        elif stack and stack[-1] == other:
            stack.pop()
        elif other == name and other not in stack:
            return True
        else:
            return False
    return False


_TAG_OR_PLACEHOLDER = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9]*)(?=[\s/>])|" + re.escape(util.INLINE_PLACEHOLDER_PREFIX) + r"([0-9]+)" + re.escape(util.ETX)
)


class TextInlineExtension(Extension):
    """Register the processors above over Python-Markdown's."""

    def extendMarkdown(self, md: Markdown) -> None:
        patterns = md.inlinePatterns
        patterns.register(HardBreakProcessor(md), "kxsj-hard-break", 185)
        patterns.register(TexRunProcessor(patterns["escape"].pattern, md), "escape", 180)
        patterns.register(PhrasingHtmlProcessor(patterns["html"].pattern, md), "html", 90)
        patterns.register(LiteralDelimiterProcessor(md), "kxsj-literal-delimiters", 65)
