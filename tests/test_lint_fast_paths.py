"""The math lint's regex shortcuts give exactly the answers of the walks they skip.

``lint._braces_pair`` says a formula's braces pair up without walking them;
``mathlint._all_known`` says a formula holds nothing to report without
reading each control sequence with its argument.  Each is compared here
with the walk, on texts made of the pieces those walks care about.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kxsj import lint, mathlint, mathscan

BRACE_PIECES = st.sampled_from(["{", "}", "\\", "\\{", "\\}", "\\\\", "a", " ", "{a}", "{{", "}}"])
TEX_PIECES = st.sampled_from([
    "\\begin{equation}", "\\end{equation}", "\\begin{align*}", "\\begin {aligned}", "\\begin{nosuchenv}", "\\begin{a{b}}",
    "\\begin", "\\beginx", "\\\\begin{x}", "\\text{", "\\text{\\nosuchmacro}", "\\mbox{\\frac}", "\\verb|\\q|", "\\require{",
    "\\require{cancel}", "\\require{nosuchpackage}", "\\frac", "\\nosuchmacro", "\\label{e}", "\\eqref{e}", "}", "{", "x",
    " ", "\\ ", "\\\\", "\\newcommand{\\qq}{q}", "\\qq", "\\operatorname{x}", "\\left(", "\\right)",
])


@settings(max_examples=500, deadline=None)
@given(st.lists(BRACE_PIECES, max_size=24).map("".join))
def test_braces_pair_exactly_when_the_walk_finds_nothing(tex):
    span = mathscan.MathSpan(0, len(tex), False, "$")
    assert lint._braces_pair(tex) == (not list(lint._brace_problems(tex, span)))


def test_braces_nested_deeper_than_the_passes_are_left_to_the_walk():
    deep = "{" * (lint._PAIR_PASSES + 1) + "}" * (lint._PAIR_PASSES + 1)
    assert not lint._braces_pair(deep)  # not known to pair: the walk decides
    assert not list(lint._brace_problems(deep, mathscan.MathSpan(0, len(deep), False, "$")))


@settings(max_examples=500, deadline=None)
@given(st.lists(TEX_PIECES, min_size=1, max_size=10).map("".join))
def test_formulas_skipped_as_all_known_have_nothing_to_report(tex):
    data = mathlint.mathjax_tex()
    macros, envs, _ = mathlint._post_context([tex], data)
    if mathlint._all_known(tex, macros, envs):
        for _, name, argument in mathlint.control_sequences(tex):
            assert mathlint._problem(name, argument, macros, envs, data, tex) == (None, None)


def test_a_formula_with_an_unknown_name_or_environment_is_read_closely():
    data = mathlint.mathjax_tex()
    for tex in ("\\nosuchmacro x", "\\begin{nosuchenv}x\\end{nosuchenv}", "\\begin{a{b}}", "\\require{cancel}"):
        macros, envs, _ = mathlint._post_context([tex], data)
        assert not mathlint._all_known(tex, macros, envs), tex
    macros, envs, _ = mathlint._post_context(["\\begin{align*}x\\end{align*}"], data)
    assert mathlint._all_known("\\begin{align*}x\\end{align*}", macros, envs)
