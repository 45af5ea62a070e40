"""Dump lines (plain text scraped from HTML) -> Markdown that renders back to that text.

A dump is not Markdown: ``*``, ``_``, ``#``, ``1.`` or ``<`` in it are literal
characters.  So outside formulas every character Markdown would act on is
escaped, and inside formulas (found by ``kxsj.mathscan``, the same rules the
renderer uses) nothing is touched, so the TeX reaches MathJax byte-for-byte.

Besides escaping, the scrape's shapes are restored:

* each non-blank line is a paragraph, but a formula spanning several lines
  (``\\begin{equation}`` … ``\\end{equation}``, ``$$`` … ``$$``) stays one block;
* an image caption shows up as the same line twice in a row: kept once, as a
  figure caption;
* URLs become links;
* indented or obviously code-shaped runs of lines become a fenced code block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kxsj import mathscan
from kxsj.cjk_ranges import FULLWIDTH_PUNCTUATION, HAN, KANA, PUNCTUATION, SYMBOLS
from kxsj.load.dumps import Line
from kxsj.render.md_literal import literal_text

MAX_FORMULA_LINES = 200
"""A formula left open for more lines than this is a typo, not a long formula."""

URL = re.compile(f"https?://[^\\s<>\"'{SYMBOLS}{FULLWIDTH_PUNCTUATION}]+")
_URL_TRAIL = ".,;:!?)]}'\""

CJK = re.compile(f"[{PUNCTUATION}{KANA}{HAN}]")
_STRING_OR_COMMENT = re.compile(r"\"[^\"]*\"|'[^']*'|#.*$")
_CODE_STRONG = re.compile(
    r"^(?:[ ]{2,}|\t)\S"
    r"|^\s*(?:def|class|for|while|if|elif|else|try|except|finally|with|async def)\b[^\n]*:\s*$"
    r"|^\s*(?:import\s+[\w.]+|from\s+[\w.]+\s+import\b)"
    r"|^\s*(?:return|yield|raise|print)\b\s*\S"
)
_CODE_WEAK = re.compile(
    r"^\s*[\w.\[\]'\"]+\s*(?:=|\+=|-=|\*=|/=)\s*\S"
    r"|^\s*[\w.]+\(.*\)\s*;?\s*$"
    r"|^\s*[{}\])]+\s*;?\s*$"
    r"|;\s*$"
)


@dataclass
class Block:
    """A run of dump lines that becomes one Markdown block."""

    kind: str  # "para", "code", "caption"
    lines: list[Line]


def linked_text(text: str) -> str:
    """Plain text (no formula in it) -> Markdown rendering exactly ``text``, URLs as links."""
    out = []
    pos = 0
    for m in URL.finditer(text):
        url = m.group(0).rstrip(_URL_TRAIL)
        out.append(literal_text(text[pos : m.start()]))
        out.append(f"<{url}>")
        pos = m.start() + len(url)
    out.append(literal_text(text[pos:]))
    return "".join(out)


def paragraph_markdown(text: str) -> str:
    """One dump paragraph -> Markdown: text literal (see ``md_literal``), formulas byte-for-byte."""
    text = text.strip()
    parts = []
    pos = 0
    for span in mathscan.scan(text):
        parts.append(linked_text(text[pos : span.start]))
        parts.append(text[span.start : span.end])
        pos = span.end
    parts.append(linked_text(text[pos:]))
    return "".join(parts)


def formula_open(text: str) -> bool:
    """Whether ``text`` leaves a display formula open (an unclosed env or ``$$``)."""
    if mathscan.unclosed_env_openers(text):
        spans = mathscan.scan(text)
        # An opener inside a complete ``$…$``/``$$…$$`` span is not open.
        for pos, _env in mathscan.unclosed_env_openers(text):
            if not any(s.start <= pos < s.end for s in spans):
                return True
    dd = 0
    i = 0
    while True:
        i = text.find("$$", i)
        if i < 0:
            break
        if not mathscan._is_escaped(text, i):
            dd += 1
        i += 2
    return dd % 2 == 1


def _code_like(text: str) -> tuple[bool, bool]:
    """(code-shaped, strongly so) for one line."""
    bare = _STRING_OR_COMMENT.sub("", text)
    if CJK.search(bare) or "$" in bare:
        return False, False
    if _CODE_STRONG.search(text):
        return True, True
    return bool(_CODE_WEAK.search(text)), False


def group_blocks(lines: list[Line]) -> list[Block]:
    """Cut body lines into paragraphs, multi-line formulas, code runs and captions."""
    blocks: list[Block] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        # A code-shaped run: consecutive code-like lines with at least one strong sign.
        j = i
        strong = False
        while j < n:
            like, st = _code_like(lines[j].text)
            if not like:
                break
            strong = strong or st
            j += 1
        if j > i and strong and (j - i >= 2 or lines[i].text[:1] in " \t"):
            blocks.append(Block("code", lines[i:j]))
            i = j
            continue
        # A formula left open continues on the following lines.
        if formula_open(line.text):
            k = i + 1
            text = line.text
            while k < n and k - i <= MAX_FORMULA_LINES:
                text += "\n" + lines[k].text
                k += 1
                if not formula_open(text):
                    blocks.append(Block("para", lines[i:k]))
                    i = k
                    break
            else:
                blocks.append(Block("para", [line]))  # never closed: keep lines as they are
                i += 1
            continue
        # The same line twice in a row: an image's caption (the image was lost).
        if i + 1 < n and lines[i + 1].text.strip() == line.text.strip():
            blocks.append(Block("caption", lines[i : i + 2]))
            i += 2
            continue
        blocks.append(Block("para", [line]))
        i += 1
    return blocks


def _fence(code: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def _guess_language(code: str) -> str:
    if re.search(r"^\s*(def |import |from \w+ import|for .+ in .+:|print\()", code, re.M):
        return "python"
    return "text"


def block_markdown(block: Block) -> str:
    if block.kind == "code":
        rows = []
        prev = None
        for ln in block.lines:
            if prev is not None:
                rows.extend([""] * max(0, ln.no - prev - 1))
            rows.append(ln.text)
            prev = ln.no
        code = "\n".join(rows)
        # Common indentation is the scrape's, not the code's.
        fence = _fence(code)
        return f"{fence}{_guess_language(code)}\n{code}\n{fence}"
    if block.kind == "caption":
        inner = paragraph_markdown(block.lines[0].text)
        return f'<figure class="caption" markdown="1">\n<figcaption markdown="span">{inner}</figcaption>\n</figure>'
    return paragraph_markdown("\n".join(ln.text for ln in block.lines))


def markdown_and_line_map(lines: list[Line]) -> tuple[str, list[tuple[int, int]]]:
    """``lines_to_markdown`` and, for each line kept, ``(Markdown line, index in lines)``.

    Markdown lines are 0-based; the math lint uses this to name the dump line
    of a formula.
    """
    parts: list[str] = []
    where: list[tuple[int, int]] = []
    at = 0  # Markdown line where the block starts
    index = 0
    for block in group_blocks(lines):
        md = block_markdown(block)
        first = block.lines[0].no
        for k, ln in enumerate(block.lines):
            if block.kind == "code":
                where.append((at + 1 + ln.no - first, index + k))
            elif block.kind == "caption":
                if k == 0:
                    where.append((at + 1, index))
            else:
                where.append((at + k, index + k))
        index += len(block.lines)
        parts.append(md)
        at += md.count("\n") + 2
    return "\n\n".join(parts), where


def lines_to_markdown(lines: list[Line]) -> str:
    """A dump entry's body lines -> the Markdown body the renderer gets."""
    return markdown_and_line_map(lines)[0]
