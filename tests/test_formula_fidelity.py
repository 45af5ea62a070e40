"""Every formula of the 130 real posts reaches the page intact.

For each post in the shared corpus the body is rendered, the text content of
every ``.arithmatex`` element is read back, and compared with

* the formulas ``kxsj.mathscan`` finds in the body outside code (the site's
  MathJax rules): same formulas, same order, byte-identical inner TeX;
* the rough per-post list in ``index.json``: each entry the body's own scan
  calls math must be found intact; the others are skipped and counted with
  the reason (inside code, or not math by the site's rules, e.g. money).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kxsj.mathscan import scan
from kxsj.render.markdown import BodyRenderer
from kxsj.render.prose_refs import find_prose_refs


_FENCE = re.compile(r"^(```+|~~~+)[^\n]*\n.*?^\1[ \t]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)


def split_front_matter(text: str) -> str:
    """The body of a corpus post (its YAML front matter removed)."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end >= 0:
            return text[end + 5 :]
    return text


def mask_code(body: str) -> str:
    """The body with fenced code and code spans blanked (same length)."""

    def blank(m: re.Match) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    return _CODE_SPAN.sub(blank, _FENCE.sub(blank, body))


def inner_tex(formula: str) -> str:
    """TeX between the delimiters; a bare environment is kept whole."""
    for opener, closer in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        if formula.startswith(opener) and formula.endswith(closer) and len(formula) >= 2 * len(opener):
            return formula[len(opener) : len(formula) - len(closer)]
    return formula


def expected_tex(body: str, span) -> str:
    """What the page should show for a source formula: its inner TeX, minus the
    ``> `` markers of the blockquote it sits in (Markdown syntax, not TeX)."""
    tex = inner_tex(span.tex(body))
    line_start = body.rfind("\n", 0, span.start) + 1
    if body.startswith(">", line_start):
        tex = re.sub(r"\n>[ ]?", "\n", tex)
    return tex


def page_inner_tex(tex: str) -> str:
    """Inner TeX of what the page shows, where ``$$\\begin{equation}…$$`` is written bare."""
    return inner_tex(tex) if tex.startswith(("\\(", "\\[")) else tex


class MathText(HTMLParser):
    """Text content of every element with class ``arithmatex``, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._depth = 0
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self._depth:
            self._depth += 1
        elif "arithmatex" in (dict(attrs).get("class") or "").split():
            self._depth = 1
            self._buf = []

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1
            if not self._depth:
                self.found.append("".join(self._buf))

    def handle_data(self, data):
        if self._depth:
            self._buf.append(data)


_CONTENTS = re.compile(r'<details class="toc[^"]*"[^>]*>.*?</details>', re.S)


def math_in_html(html: str) -> list[str]:
    """The formulas of ``html``, the contents list left out (it repeats the headings, formulas included)."""
    html = _CONTENTS.sub("", html)
    parser = MathText()
    parser.feed(html)
    parser.close()
    return parser.found


def brace_balance(tex: str) -> int:
    return len(re.findall(r"(?<!\\)\{", tex)) - len(re.findall(r"(?<!\\)\}", tex))


def corpus_posts(corpus: Path) -> list[tuple[dict, str]]:
    """``(index entry, body)`` for every post of the shared corpus."""
    index = json.loads((corpus / "index.json").read_text(encoding="utf-8"))
    out = []
    for entry in index:
        path = corpus / "md" / f"{entry['id']}.md"
        out.append((entry, split_front_matter(path.read_text(encoding="utf-8"))))
    return out


@pytest.fixture(scope="module")
def rendered(shared_dir):
    renderer = BodyRenderer()
    posts = corpus_posts(shared_dir / "corpus")
    return [(entry, body, renderer.render(body).html) for entry, body in posts]


def test_corpus_is_complete(rendered):
    assert len(rendered) == 130


def test_page_math_is_exactly_the_scanned_formulas(rendered):
    """Same formulas, same order, byte-identical TeX: no formula lost or altered."""
    total = 0
    for entry, body, html in rendered:
        source = mask_code(body)
        spans = list(scan(source))
        # A bare \eqref{…} in prose is math on the page too (kxsj.render.prose_refs).
        refs = find_prose_refs(source, spans)
        expected = [tex for _, tex in sorted([(s.start, expected_tex(body, s)) for s in spans] + refs)]
        got = [page_inner_tex(t) for t in math_in_html(html)]
        assert len(got) == len(expected), f"post {entry['id']}: {len(got)} math elements, {len(expected)} formulas"
        for n, (g, e) in enumerate(zip(got, expected)):
            assert g == e, f"post {entry['id']} formula {n}: page {g!r} != source {e!r}"
        total += len(expected)
    print(f"\n{total} formulas scanned in {len(rendered)} posts; every one on the page, in order, intact")
    assert total > 1000


def test_index_formulas_intact(rendered):
    checked = intact = 0
    skipped: Counter[str] = Counter()
    missing = []
    for entry, body, html in rendered:
        on_page = Counter(page_inner_tex(t) for t in math_in_html(html))
        source = mask_code(body)
        math_outside_code = {s.tex(body): expected_tex(body, s) for s in scan(source)}
        math_anywhere = {s.tex(body) for s in scan(body)}
        for formula in entry["formulas"]:
            if formula not in math_outside_code:
                if formula in math_anywhere or formula not in source:
                    skipped["inside code (text, as written)"] += 1
                else:
                    skipped["not math by the site's rules"] += 1
                continue
            checked += 1
            if on_page[math_outside_code[formula]]:
                intact += 1
            else:
                missing.append((entry["id"], formula))
    reasons = ", ".join(f"{n} {why}" for why, n in skipped.items()) or "none"
    print(f"\n{checked} formulas checked, {intact} intact; skipped: {reasons}")
    assert not missing, missing[:5]
    assert checked > 1000


def test_no_unbalanced_braces_introduced(rendered):
    for entry, body, html in rendered:
        source = Counter(expected_tex(body, s) for s in scan(mask_code(body)))
        for tex in math_in_html(html):
            inner = page_inner_tex(tex)
            if brace_balance(inner):
                assert source[inner], f"post {entry['id']}: unbalanced braces not in source: {inner!r}"
            if tex.startswith(("\\(", "\\[")):
                assert tex.endswith(("\\)", "\\]")), f"post {entry['id']}: delimiters cut: {tex!r}"
