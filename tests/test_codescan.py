"""``kxsj.codescan``, the one definition of where code is in Markdown, agrees with the renderer.

Each case below is one where a former copy of the rule disagreed with the
page: the loader's fence reader (closed a fence with a longer one, missed a
fence indented in a list item), the lint's mask (a longer fence closed, an
unclosed fence hid the rest of the post, a backtick fence with a backtick in
its info string, an escaped backtick opened a span), the citation scan's
(a code span across a blank line, a backtick info string), and the excerpt
cutter (```` closed by ```).
"""

from __future__ import annotations

import re

import pytest

from kxsj import codescan
from kxsj.enrich.links import mentions
from kxsj.load.markdown_posts import AUTO_EXCERPT_CHARS, MORE, auto_excerpt
from kxsj.mathscan import scan
from kxsj.render.markdown import BodyRenderer

_MATH = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)

DOCS = {
    "longer fence is content": "a\n\n```\n$x$\n````\n\nafter $y$\n\n```\nz\n```\n",
    "shorter fence is content": "a\n\n````\n$x$\n```\n$w$\n````\n\nb $y$",
    "unclosed fence is text": "a\n\n```\n$x$\n\nb $y$",
    "backtick in info string": "a\n\n```foo`bar\n$x$\n```\n\nb $y$",
    "span stops at a blank line": "a `x $p$\n\n$q$ y` b",
    "escaped backtick": "a \\`$x$` b",
    "fence in a list item": "- item\n\n    ```\n    $x$\n    ```\n\n$y$",
    "tilde fence": "~~~\n$x$\n~~~\n$y$",
    "span": "a ``x ` $y$`` $z$",
}


@pytest.fixture(scope="module")
def renderer():
    return BodyRenderer()


@pytest.mark.parametrize("name", list(DOCS))
def test_math_outside_code_is_the_math_on_the_page(renderer, name):
    doc = DOCS[name]
    on_page = _MATH.findall(renderer.render(doc).html)
    found = [doc[s.start + 1 : s.end - 1] for s in scan(codescan.mask_code(doc))]
    assert found == on_page


def test_mask_keeps_length_and_newlines():
    doc = DOCS["fence in a list item"] + "\n`a\nb`"
    masked = codescan.mask_code(doc)
    assert len(masked) == len(doc)
    assert [i for i, c in enumerate(masked) if c == "\n"] == [i for i, c in enumerate(doc) if c == "\n"]


def test_excerpt_is_not_cut_inside_a_four_backtick_fence():
    body = "intro\n\n````\n```\n" + "x" * AUTO_EXCERPT_CHARS + "\n\nstill code\n````\n\nafter\n"
    excerpt, more = auto_excerpt(body)
    assert more and excerpt.endswith("still code\n````")


def test_citation_after_a_lone_backtick_is_found():
    assert mentions("a `x\n\n见《甲》\n\ny` b") == ["甲"]


def test_marker_in_a_list_items_fence_is_code():
    body = "- item\n\n    ```\n    x\n<!--more-->\n    ```\n\nafter\n"
    assert codescan.marker_outside_code(body, MORE) is None


def test_unclosed_fence_line_and_marker_after_it():
    body = "a\n\n```py\nx\n<!--more-->\nrest\n"
    assert codescan.unclosed_fence(body) == 2
    start, end = codescan.marker_outside_code(body, MORE)
    assert body[start:end] == "<!--more-->"
    assert codescan.unclosed_fence("```\nx\n```\n") is None
