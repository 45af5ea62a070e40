"""The linear-time paths for hostile paragraphs give exactly the stock answers (issue 22).

``kxsj.render.link_scan`` finds where ``[text](href …)`` and ``[text][ref]``
end from counted parentheses and brackets, ``mathscan`` remembers the searches that found nothing, and
``fast_inline`` applies every formula of a paragraph in one pass.  None may
change a page: each is compared with the stock code it stands in for, on
texts made of the characters those paths care about.  (How the time grows
is measured by ``benchmarks/hostile_render.py``, not here.)
"""

from __future__ import annotations

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st

from kxsj import mathscan
from kxsj.render.link_scan import LinearLinkExtension
from kxsj.render.markdown import BodyRenderer
from kxsj.render.math import InlineMathProcessor

LINK_PIECES = st.sampled_from(["[", "]", "(", ")", '"', "'", " ", "a", "!", "<", ">", "\\", "x y", "\n", "[d](e ", '[d]("e) ', "![i](s)",
                               "[d][r]", "[r]", "![i][r]", "[r][]", "\n[r]: /u\n", "\n[d]: /v 't'\n"])
MATH_PIECES = st.sampled_from(["$", "$$", "\\", "\\(", "\\)", "\\[", "\\]", "\\begin{a}", "\\end{a}", "x", "5", " ", "\n", "\n\n",
                               "`", "*", "_", "[a](b)", "<b>", "&", "\\$", "\\\\", "中", "# ", "- "])

_stock = markdown.Markdown()
_linear = markdown.Markdown(extensions=[LinearLinkExtension()])


@settings(max_examples=400, deadline=None)
@given(st.lists(LINK_PIECES, max_size=30).map("".join))
def test_linear_links_render_as_the_stock_walk(text):
    assert _linear.reset().convert(text) == _stock.reset().convert(text)


def _spans(spans):
    return [(s.start, s.end, s.display, s.kind, s.env) for s in spans]


@settings(max_examples=300, deadline=None)
@given(st.lists(MATH_PIECES, max_size=30).map("".join), st.randoms(use_true_random=False))
def test_remembered_misses_never_change_what_is_math(text, rnd):
    fresh = {}
    for pos in range(len(text)):
        mathscan._MISSES.text = None  # forget: each answer from scratch
        span = mathscan.match_at(text, pos)
        fresh[pos] = span and _spans([span])[0]
    order = list(range(len(text)))
    rnd.shuffle(order)
    mathscan._MISSES.text = None
    for pos in order + order[::-1]:  # the same text asked in any order, with what it remembered
        span = mathscan.match_at(text, pos)
        assert (span and _spans([span])[0]) == fresh[pos]


_renderer = BodyRenderer()


@settings(max_examples=300, deadline=None)
@given(st.lists(MATH_PIECES, max_size=30).map("".join))
def test_formulas_applied_in_one_pass_render_as_one_at_a_time(text):
    try:
        InlineMathProcessor.batch = False
        one_by_one = _renderer.render(text).html
    finally:
        InlineMathProcessor.batch = True
    assert _renderer.render(text).html == one_by_one
