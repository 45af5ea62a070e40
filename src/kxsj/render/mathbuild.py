"""``math: build``: a post's formulas typeset into its body HTML, and MathML for the feed.

The Markdown renderer (``kxsj.render.math``) writes every formula as
``<span class="arithmatex">\\(…\\)</span>`` or ``<div class="arithmatex">…</div>``,
the TeX HTML-escaped and nothing else inside; on a ``math: browser`` page
MathJax typesets exactly those elements.  Under ``math: build``
``typeset_body`` hands the same elements of one body, in order, to MathJax
in V8 (``kxsj.render.mathengine``) as one document and puts the CHTML it
gives back in their place, so the page shows what the browser would have
shown, numbered the same, without running MathJax.  The result is part of
the rendered body, so the render cache keeps it (its key names the math
mode and the engine's version: ``kxsj.render.context``).

Each ``mjx-container`` carries ``data-tex``, the formula's TeX as written
without delimiters (HTML-escaped), and ``display="true"`` when displayed.

Identical inline formulas are typeset once per process
(``_memo``) when nothing in the post can change how they look: no
``\\label``, ``\\tag``, ``\\ref``, ``\\eqref`` or environment in the formula,
and no macro definition or ``\\require`` anywhere in the post.

MathJax typesets a body's formulas as one document, so what it gives
depends on that list of formulas alone.  An edit of a post's prose leaves
the list as it was: ``reused_typesets`` hands ``typeset_body`` the
previous version's typeset formulas (``typeset_formulas`` of its HTML,
``kxsj.incremental.typesets``), and a body whose list is the same takes
them instead of typesetting every formula again.
"""

from __future__ import annotations

import contextlib
import html
import re
from typing import Iterator, Mapping, Optional

from kxsj.render.math import MATH_CLASS, _is_display_env, html_escape

# The elements ``kxsj.render.math`` (and ``prose_refs``) write: only text inside.
_FRAGMENT = re.compile(rf'<(span|div) class="{MATH_CLASS}">([^<]*)</\1>')
# The same elements once typeset: one container each.
_TYPESET = re.compile(rf'<(span|div) class="{MATH_CLASS}">(<mjx-container [^>]*>.*?</mjx-container>)</\1>', re.S)
_CONTAINER_TEX = re.compile(r'<mjx-container [^>]*?\bdata-tex="([^"]*)"')
_DISPLAY = re.compile(r'<mjx-container [^>]*?\bdisplay="true"')
# Either, for the feed: groups 1, 2 for the first, 3, 4 for the second.
_EITHER = re.compile(_FRAGMENT.pattern + "|" + _TYPESET.pattern.replace("\\1", "\\3"), re.S)
_MML = re.compile(r'<kxsj-mml n="(\d+)"></kxsj-mml>')

# What in a post changes how its other formulas look (MathJax keeps
# definitions and loaded packages for the whole document) ...
_DEFINES = re.compile(r"\\(?:require|newcommand|renewcommand|def|gdef|edef|let|DeclareMathOperator|newenvironment|renewenvironment|global)(?![A-Za-z])")
# ... and what makes a formula's look depend on the rest of the post (numbers).
_CONTEXTUAL = re.compile(r"\\(?:label|tag|ref|eqref|begin|end|nonumber|notag)(?![A-Za-z])")
_MEMO_LIMIT = 50_000
_memo: dict[str, str] = {}
_reused: dict[str, list[str]] = {}
"""``formulas_key`` of a body's formulas -> their typeset containers (``reused_typesets``)."""


def fragments(body: str) -> list[tuple[str, str]]:
    """The body's formula elements in order: ``(tag, escaped text)``."""
    return [(m.group(1), m.group(2)) for m in _FRAGMENT.finditer(body)]


def formulas_key(frags: list[tuple[str, str]]) -> str:
    """One string for a body's list of formulas (element and escaped TeX of each, in order)."""
    return "\0".join(f"{tag}\1{text}" for tag, text in frags)


def typeset_formulas(body: str) -> Optional[tuple[str, list[str]]]:
    """A typeset body's ``(formulas_key, typeset containers)``: its formulas as the renderer
    found them, each with what MathJax made of it; None if it holds none, or one not typeset."""
    found, frags = _source_fragments(body)
    if not found or any(m.group(4) is None for m in found):
        return None
    return formulas_key(frags), [m.group(4) for m in found]


@contextlib.contextmanager
def reused_typesets(typesets: Mapping[str, list[str]]) -> Iterator[None]:
    """While it lasts, a body whose formulas' key is in ``typesets`` takes those containers instead of MathJax's work."""
    _reused.clear()
    _reused.update(typesets)
    try:
        yield
    finally:
        _reused.clear()


def _memoisable(tag: str, text: str) -> bool:
    return tag == "span" and not _CONTEXTUAL.search(text) and not _DEFINES.search(text)


def typeset_body(body: str) -> str:
    """``body`` with every formula typeset by MathJax (CHTML), as one document per body."""
    from kxsj.render.mathengine import typeset

    found = list(_FRAGMENT.finditer(body))
    if not found:
        return body
    frags = [(m.group(1), m.group(2)) for m in found]
    memo = not _DEFINES.search(body)
    # Decided once: a formula the memo has is not typeset, every other one is.
    known = _reused.get(formulas_key(frags)) if _reused else None
    if known is None or len(known) != len(frags):
        known = [_memo.get(text) if memo and _memoisable(tag, text) else None for tag, text in frags]
    done = iter(typeset([f for f, inner in zip(frags, known) if inner is None]))
    out, pos = [], 0
    for m, (tag, text), inner in zip(found, frags, known):
        if inner is None:
            inner = next(done)
            if memo and _memoisable(tag, text) and len(_memo) < _MEMO_LIMIT:
                _memo[text] = inner
        out.append(body[pos : m.start(2)])
        out.append(inner)
        pos = m.end(2)
    out.append(body[pos:])
    return "".join(out)


def _source_fragments(body: str) -> tuple[list[re.Match], list[tuple[str, str]]]:
    """The body's formula elements with the text a ``math: browser`` body has in them."""
    found, frags = [], []
    for m in _EITHER.finditer(body):
        found.append(m)
        if m.group(2) is not None:
            frags.append((m.group(1), m.group(2)))
            continue
        tag, inner = m.group(3), m.group(4)
        tex = _CONTAINER_TEX.search(inner)
        text = html.unescape(tex.group(1)) if tex else ""
        if _DISPLAY.search(inner):
            text = text if _is_display_env(text) else "\\[" + text + "\\]"
        else:
            text = "\\(" + text + "\\)"
        frags.append((tag, html_escape(text)))
    return found, frags


def feed_body(body: str) -> str:
    """``body`` (either math mode) with every formula as MathML, its TeX kept as annotation: for the feed."""
    from kxsj.render.mathengine import MathEngineError, mathml

    found, frags = _source_fragments(body)
    if not found:
        return body
    try:
        inners, mmls = mathml(frags)
    except MathEngineError:
        return body
    out, pos = [], 0
    for m, inner in zip(found, inners):
        out.append(body[pos : m.start()])
        out.append(_MML.sub(lambda n: mmls[int(n.group(1))], inner))
        pos = m.end()
    out.append(body[pos:])
    return "".join(out)


def clear_memo() -> None:
    """Forget the inline formulas typeset so far in this process."""
    _memo.clear()
