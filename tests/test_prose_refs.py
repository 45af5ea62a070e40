"""A bare ``\\eqref{…}``/``\\ref{…}`` in prose is typeset and linked, as on kexue.fm (issue 17)."""

from __future__ import annotations

import pytest

from kxsj import mathscan
from kxsj.lint import mask_code
from kxsj.render.markdown import BodyRenderer
from kxsj.render.prose_refs import find_prose_refs


@pytest.fixture(scope="module")
def render():
    renderer = BodyRenderer()
    return lambda text: renderer.render(text).html


def test_bare_reference_in_prose_becomes_inline_math(render):
    assert render("如式\\eqref{eq:x}所示，见\\ref{a_b*c}。") == (
        '<p>如式<span class="arithmatex">\\(\\eqref{eq:x}\\)</span>所示，'
        '见<span class="arithmatex">\\(\\ref{a_b*c}\\)</span>。</p>'
    )


@pytest.mark.parametrize(
    "text, shown",
    [
        ("转义 \\\\eqref{eq:x} 了", "<p>转义 \\eqref{eq:x} 了</p>"),  # an escaped backslash is text
        ("代码 `\\eqref{y}` 里", "<p>代码 <code>\\eqref{y}</code> 里</p>"),
        ("空的 \\eqref{} 不算", "<p>空的 \\eqref{} 不算</p>"),
        ("跨行 \\eqref{a\nb} 不算", "<p>跨行 \\eqref{a\nb} 不算</p>"),
        ("\\eqrefx{a} 不是", "<p>\\eqrefx{a} 不是</p>"),
    ],
)
def test_what_is_not_a_prose_reference_stays_as_written(render, text, shown):
    assert render(text) == shown


def test_a_reference_inside_a_formula_is_left_to_the_formula(render):
    html = render("由$\\eqref{eq:x}$与$$a\\tag{\\ref{b}}$$可知")
    assert html.count('class="arithmatex"') == 2
    assert "\\(\\eqref{eq:x}\\)" in html


def test_find_prose_refs_agrees_with_the_renderer(render):
    body = "见\\eqref{a}与$\\eqref{b}$，`\\ref{c}`，\\\\ref{d}，\\ref{e}。\n\n$$\\ref{f}$$"
    masked = mask_code(body)
    refs = find_prose_refs(masked, list(mathscan.scan(masked)))
    assert [tex for _, tex in refs] == ["\\eqref{a}", "\\ref{e}"]
    html = render(body)
    assert html.count('class="arithmatex"') == 2 + 2  # two references, two formulas
