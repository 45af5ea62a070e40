"""Math lint for ``kxsj check``: formulas MathJax will choke on, with the file line.

A formula with an error is still published as written (MathJax shows it in
red, the text around it is untouched), so these are warnings: the author
should look, the build need not stop.  What is checked:

* a ``$`` or ``$$`` that opens no formula (no closing one before a blank
  line); ``$`` followed by a digit is money, not math, and is left alone;
* ``{`` / ``}`` that do not pair up inside a formula (``\\{`` and ``\\}`` are
  literal braces);
* ``\\begin{…}`` / ``\\end{…}`` that do not pair up, inside a formula or out;
* ``\\left`` / ``\\right`` that do not pair up inside a formula;
* TeX outside any formula (``\\boldsymbol{M}_t`` whose ``$`` was lost): the
  page shows it verbatim, as text (``kxsj.mathscan.tex_runs``, the rule the
  renderer uses); one warning per line, saying to wrap it in ``$…$``.
* what the site's MathJax does not know: ``\\require`` names, macros,
  environments (``kxsj.mathlint``).

Formulas are found by ``kxsj.mathscan``, the same rules the renderer uses,
on the post's Markdown body with code masked out.  A listing dump's body is
the dump text made literal for Markdown (``kxsj.render.md_literal``), so the
text between formulas is turned back into the dump's own characters first.
Messages name ``path:line`` of the input file through ``Post.source_of``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator

from kxsj import mathscan
from kxsj.codescan import mask_code
from kxsj.load import parse_post_file
from kxsj.mathlint import mathjax_problems
from kxsj.model import Diagnostic, Post
from kxsj.render.md_literal import _BACKSLASHED, _ENTITIES

_LITERAL = re.compile(
    r"\\([" + re.escape("".join(sorted(_BACKSLASHED))) + r"])|" + "|".join(re.escape(e) for e in _ENTITIES.values())
)
_FROM_ENTITY = {e: ch for ch, e in _ENTITIES.items()}
_ENV = re.compile(r"\\(begin|end)\{([^{}\n]*)\}")
_BRACE = re.compile(r"\\[\\{}]|[{}]")
"""A brace, or an escaped brace or backslash (``\\{``, ``\\}``, ``\\\\``), which pairs with nothing."""
_ESCAPED = re.compile(r"\\[\\{}]")
_PAIR = re.compile(r"\{[^{}]*\}")
_PAIR_PASSES = 8
_REF = re.compile(r"\\(?:eq)?ref\{[^{}\n]*\}")
_CONTROL_WORD = re.compile(r"\\[A-Za-z]")
_LEFT_RIGHT = re.compile(r"\\(left|right)(?![A-Za-z])")
EXCERPT = 40


def lint_posts(posts: Iterable[Post]) -> list[Diagnostic]:
    """Every math problem in every post's body, in post and line order."""
    out: list[Diagnostic] = []
    for post in posts:
        out.extend(lint_post(post))
    return out


def parse_and_lint_post_file(path: Path, diags: list[Diagnostic]):
    """``parse_post_file``, with the lint of a Markdown post that is no draft added to its diagnostics.

    Linted as it is parsed, a file's findings are kept with its parse in the
    parse cache, so a build after an edit lints only the files that changed.
    The rest is linted once loaded (``linted_late``): dumps, whose posts
    exist only once merged, and drafts, which only a build with drafts shows.
    """
    result = parse_post_file(path, diags)
    if isinstance(result, Post) and not linted_late(result):
        diags.extend(lint_post(result))
    return result


def linted_late(post: Post) -> bool:
    """Whether ``parse_and_lint_post_file`` left ``post`` to be linted after loading."""
    return post.kind != "markdown" or post.draft


def lint_post(post: Post) -> list[Diagnostic]:
    body = mask_code(post.body)
    problems: list[tuple[int, str]] = []  # (offset in body, message)
    pos = 0
    dump = post.kind == "dump"
    spans = list(mathscan.scan(body))
    for span in spans:
        problems.extend(_gap_problems(body, pos, span.start, dump))
        problems.extend(_stray_tex(body, pos, span.start, dump))
        problems.extend(_formula_problems(body, span))
        pos = span.end
    problems.extend(_gap_problems(body, pos, len(body), dump))
    problems.extend(_stray_tex(body, pos, len(body), dump))
    problems.extend(mathjax_problems(body, spans))  # unknown macros, \require
    out = []
    for offset, message in sorted(problems, key=lambda p: p[0]):
        where = post.source_of(body.count("\n", 0, offset))
        out.append(Diagnostic(where.path, where.line, "warning", message))
    return out


def plain_text(markdown: str) -> tuple[str, list[int]]:
    """Dump Markdown outside formulas -> the dump's characters, and each one's offset in ``markdown``."""
    chars: list[str] = []
    offsets: list[int] = []
    pos = 0
    for m in _LITERAL.finditer(markdown):
        for i in range(pos, m.start()):
            chars.append(markdown[i])
            offsets.append(i)
        chars.append(m.group(1) or _FROM_ENTITY[m.group(0)])
        offsets.append(m.start())
        pos = m.end()
    for i in range(pos, len(markdown)):
        chars.append(markdown[i])
        offsets.append(i)
    return "".join(chars), offsets


def _show(tex: str) -> str:
    one_line = " ".join(tex.split())
    return one_line if len(one_line) <= EXCERPT else one_line[: EXCERPT - 1] + "…"


def _gap_problems(body: str, start: int, end: int, dump: bool) -> Iterator[tuple[int, str]]:
    """Text between formulas: delimiters that opened nothing."""
    gap = body[start:end]
    if not any(c in gap for c in "$\\"):
        return
    if dump:
        text, offsets = plain_text(gap)
    else:
        text, offsets = gap, list(range(len(gap)))
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            m = _ENV.match(text, i)
            if m:
                kind, env = m.groups()
                if kind == "begin":
                    yield start + offsets[i], f"`\\begin{{{env}}}` has no matching `\\end{{{env}}}`, so it is not shown as math; close the environment"
                else:
                    yield start + offsets[i], f"`\\end{{{env}}}` without a `\\begin{{{env}}}` before it; remove it or add the `\\begin`"
                i = m.end()
                continue
            if dump and text.startswith(("\\(", "\\["), i):
                closer = ")" if text[i + 1] == "(" else "]"
                yield start + offsets[i], f"`{text[i:i + 2]}` opens a formula that is never closed with `\\{closer}`; it is shown as plain text"
            i += 2
            continue
        if ch == "$":
            if text.startswith("$$", i):
                yield start + offsets[i], "`$$` opens a display formula that is never closed, so it is shown as plain text; add the closing `$$`"
                i += 2
                continue
            if not (i + 1 < len(text) and text[i + 1].isdigit()):  # `$5` is money
                yield start + offsets[i], "`$` opens no formula (no closing `$` before a blank line), so it is shown as a plain `$`; close the formula, or write `\\$` for a dollar sign"
        i += 1


def _stray_tex(body: str, start: int, end: int, dump: bool) -> Iterator[tuple[int, str]]:
    """Text between formulas: TeX that lost its ``$``, one warning per line."""
    gap = body[start:end]
    if "\\" not in gap:
        return
    text, offsets = plain_text(gap) if dump else (gap, range(len(gap)))
    # A lone ``\\begin{…}``/``\\end{…}`` has its own warning (``_gap_problems``);
    # ``\\eqref{…}``/``\\ref{…}`` in prose is typeset by MathJax as written.
    runs = [
        (a, b) for a, b in mathscan.tex_runs(text)
        if not _ENV.match(text, a) and _CONTROL_WORD.search(_REF.sub("", text[a:b]))
    ]
    lines: dict[int, list[tuple[int, int]]] = {}
    for a, b in runs:
        lines.setdefault(text.count("\n", 0, a), []).append((a, b))
    for found in lines.values():
        a, b = found[0]
        more = f" (and {len(found) - 1} more on this line)" if len(found) > 1 else ""
        yield start + offsets[a], (
            f"TeX outside a formula, `{_show(text[a:b])}`{more}, is shown as plain text, not typeset; wrap it in $…$"
        )


def _formula_problems(body: str, span: mathscan.MathSpan) -> Iterator[tuple[int, str]]:
    """Unpaired braces, environments and ``\\left``/``\\right`` inside one formula."""
    tex = span.tex(body)
    if not _braces_pair(tex):
        yield from _brace_problems(tex, span)
    if "\\begin" not in tex and "\\end" not in tex and "\\left" not in tex and "\\right" not in tex:
        return  # most formulas: nothing more to pair
    yield from _environment_problems(tex, span)


def _braces_pair(tex: str) -> bool:
    """Whether every brace of ``tex`` pairs up (escaped ones aside): innermost pairs removed until none is left.

    The same answer as ``_brace_problems`` finding nothing, in a few regular
    expression passes (as many as the braces nest deep).  Braces nested
    deeper than ``_PAIR_PASSES`` get False, and the walk answers for them:
    each pass reads the whole formula.
    """
    if "{" not in tex and "}" not in tex:
        return True
    rest = _ESCAPED.sub("", tex) if "\\" in tex else tex
    for _ in range(_PAIR_PASSES):
        fewer = _PAIR.sub("", rest)
        if fewer == rest:
            return "{" not in rest and "}" not in rest
        rest = fewer
    return False


def _brace_problems(tex: str, span: mathscan.MathSpan) -> Iterator[tuple[int, str]]:
    # Braces, skipping escaped characters (``\{``, ``\}``, ``\\``).
    depth = 0
    opened: list[int] = []
    for m in _BRACE.finditer(tex):
        ch = m.group()
        if ch == "{":
            opened.append(m.start())
        elif ch == "}":
            if opened:
                opened.pop()
            else:
                depth += 1
                if depth == 1:
                    yield span.start + m.start(), f"formula `{_show(tex)}` has a `}}` without a `{{` before it; MathJax shows it as an error"
    if opened:
        n = len(opened)
        yield span.start + opened[0], f"formula `{_show(tex)}` leaves {n} `{{` unclosed; MathJax shows it as an error — add the `}}`"


def _environment_problems(tex: str, span: mathscan.MathSpan) -> Iterator[tuple[int, str]]:
    """Unpaired ``\\begin``/``\\end`` and ``\\left``/``\\right`` inside one formula."""
    clean = re.sub(r"\\\\", "  ", tex)  # ``\\left`` is a line break, then ``left``
    stack: list[tuple[str, int]] = []
    for m in _ENV.finditer(clean):
        kind, env = m.groups()
        if kind == "begin":
            stack.append((env, m.start()))
        elif stack and stack[-1][0] == env:
            stack.pop()
        else:
            want = f"`\\end{{{stack[-1][0]}}}`" if stack else "no `\\end`"
            yield span.start + m.start(), f"formula `{_show(tex)}` has `\\end{{{env}}}` where {want} was due; MathJax shows it as an error"
            return
    for env, at in stack:
        yield span.start + at, f"formula `{_show(tex)}` leaves `\\begin{{{env}}}` without `\\end{{{env}}}`; MathJax shows it as an error"

    lefts: list[int] = []
    for m in _LEFT_RIGHT.finditer(clean):
        if m.group(1) == "left":
            lefts.append(m.start())
        elif lefts:
            lefts.pop()
        else:
            yield span.start + m.start(), f"formula `{_show(tex)}` has a `\\right` without a `\\left`; MathJax shows it as an error"
            return
    if lefts:
        yield span.start + lefts[0], f"formula `{_show(tex)}` has {len(lefts)} `\\left` without `\\right`; MathJax shows it as an error — add `\\right.` if no bracket is wanted"
