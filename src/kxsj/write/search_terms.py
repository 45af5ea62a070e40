"""Search terms Pagefind cannot get wrong: Chinese as overlapping character pairs.

Pagefind segments Chinese into words twice, once when it indexes a page and
once in the reader's browser when it reads the query, and the two do not
always agree (Pagefind 1.5 segments queries with the browser's ICU, the index
with its own dictionary): ``傅里叶`` or ``变分`` then finds almost nothing.
So besides the page's text, the index gets *search terms* that no segmenter
splits, and the browser turns the query into the same terms
(``static/js/search-query.js``, which must follow the rules below):

* every run of Han characters gives its overlapping pairs (``生成模型`` →
  生成 成模 模型) and its last character alone (padded to a pair's length),
  so a text holding a query holds all the query's pairs, and a
  one-character query finds the pairs it starts (Pagefind matches words by
  prefix);
* each character is written as four lowercase letters (its code point in
  base 26), after a two-letter prefix: ``kx`` for the page's text, ``ky``
  for its title, so a search can ask which results hold the query in their
  title.  Latin letters only: no segmenter, stemmer or tokenizer splits them.

The terms are appended to a *copy* of each page that Pagefind reads; the
pages readers get are unchanged.  ``TERMS_MARK`` opens the appended block,
so the browser can cut the terms off the page text Pagefind returns.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from html.parser import HTMLParser
from typing import Optional

from kxsj.cjk_ranges import HAN

HAN_RUN = re.compile(f"[{HAN}]+")
WORD = re.compile(r"[0-9a-z]+")
TEXT_PREFIX = "kx"
TITLE_PREFIX = "ky"
TERMS_MARK = "kxsjterms"
TERMS_BLOCK = f"<div data-pagefind-body>{TERMS_MARK}"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
RUN_END = "zzzz"
"""Pads a run's last character to a pair's length: a code no character has
(26**4 - 1 is past the last code point), so every term is ten letters and
none is the beginning of another, which Pagefind would match in its place
when a query term is missing from the index."""
SKIPPED_CLASSES = frozenset({"arithmatex", "post-meta", "series-note", "reading-info", "excerpt-note", "original-link"})
"""Classes whose text Pagefind is told to leave out (``EXCLUDE_SELECTORS`` in
``kxsj.write.search``): the search terms leave it out as well."""
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


@lru_cache(maxsize=None)  # a few thousand distinct characters, met again and again
def letters(char: str) -> str:
    """A character as four letters: its code point in base 26."""
    code = ord(char)
    out = []
    for _ in range(4):
        code, digit = divmod(code, 26)
        out.append(LETTERS[digit])
    return "".join(reversed(out))


def han_terms(text: str, prefix: str) -> list[str]:
    """The pair terms of every Han run in ``text``, in order, and each run's last character."""
    terms = []
    for run in HAN_RUN.findall(text):
        coded = [letters(c) for c in run]
        terms.extend(prefix + a + b for a, b in zip(coded, coded[1:]))
        terms.append(prefix + coded[-1] + RUN_END)
    return terms


def title_terms(title: str) -> list[str]:
    """The title's pair terms and its Latin words (each spelled in letters), ``ky``-prefixed."""
    lowered = title.lower()
    words = [TITLE_PREFIX + "".join(letters(c) for c in w) for w in WORD.findall(HAN_RUN.sub(" ", lowered))]
    return han_terms(lowered, TITLE_PREFIX) + words


class _PageText(HTMLParser):
    """The text of the ``data-pagefind-body`` elements, less the skipped ones, and the title."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool, bool]] = []  # tag, in body, skipped, in title
        self.body: list[str] = []
        self.title: list[str] = []
        self.has_body = False

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        names = dict(attrs)
        in_body, skipped, in_title = self.stack[-1][1:] if self.stack else (False, False, False)
        if "data-pagefind-body" in names:
            in_body = self.has_body = True
        classes = set((names.get("class") or "").split())
        if tag in ("script", "style", "template") or classes & SKIPPED_CLASSES or "data-pagefind-ignore" in names:
            skipped = True
        if names.get("data-pagefind-meta") == "title":
            in_title = True
        self.stack.append((tag, in_body, skipped, in_title))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):  # close the nearest open element of that name
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self.stack:
            return
        _, in_body, skipped, in_title = self.stack[-1]
        if in_title:
            self.title.append(data)
        if in_body and not skipped:
            self.body.append(data)


def with_search_terms(html: str) -> Optional[str]:
    """The page with its search terms appended for Pagefind, or None if it is not indexed.

    A page already holding the terms is returned unchanged.
    """
    if "data-pagefind-body" not in html:
        return None
    if TERMS_BLOCK in html:
        return html
    parser = _PageText()
    parser.feed(html)
    parser.close()
    if not parser.has_body:
        return None
    terms = han_terms("".join(parser.body), TEXT_PREFIX) + title_terms("".join(parser.title))
    block = f'{TERMS_BLOCK} {escape(" ".join(terms))}</div>'
    end = html.rfind("</body>")
    return html[:end] + block + html[end:] if end >= 0 else html + block
