"""``kxsj check`` reports formulas the site's MathJax would show as errors (issue 17).

The macro, environment and ``\\require`` names come from
``kxsj/data/mathjax_tex.json``, generated from the vendored MathJax by
``scripts/mathjax_tex_names.py`` (``tests/test_reader_view.py`` checks it is
current).
"""

from __future__ import annotations

import pytest

from kxsj import mathscan
from kxsj.enrich import enrich
from kxsj.lint import lint_posts
from kxsj.load import load_posts
from kxsj.mathlint import control_sequences, mathjax_problems, mathjax_tex

POST = """---
title: MathJax 不认识的
date: 2024-01-01
slug: unknown
---
好的：$\\require{AMScd}\\begin{CD} A @>>> B \\end{CD}$，$\\require{HTML}\\class{x}{a}$，$\\require{physics}\\abs{x}$。

未知扩展 $\\require{foo} x$ 在第7行。

拒绝加载 $\\require{autoload} x$ 在第9行。

未定义 $\\foo + \\alpha$ 在第11行，又见 $\\foo$。

文字里不算：$\\text{\\stop_gradient}$ 与 $\\label{eq:\\x}$。

自己定义的：$\\newcommand{\\sg}{\\mathop{\\text{sg}}}\\sg$，$\\newcommand{tr}{\\mathop{\\text{tr}}}\\tr A$，$\\DeclareMathOperator{\\argmin}{argmin}\\argmin$，后面 $\\sg x$。

未知环境：
$$\\begin{foomatrix} a \\end{foomatrix}$$

`$\\nocode$` 是代码。
"""


@pytest.fixture
def messages(tmp_path, monkeypatch):
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "unknown.md").write_text(POST, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = load_posts(tmp_path / "posts", root=tmp_path)
    return [str(d) for d in lint_posts(enrich(result.posts, diags=[]))]


def test_unknown_require_macro_and_environment_are_reported_with_path_line(messages):
    heads = [m.split(", which")[0].split(", so")[0] for m in messages]
    assert heads == [
        "posts/unknown.md:8: warning: `\\require{foo}`: MathJax 3.2.2 has no TeX extension of that name",
        "posts/unknown.md:10: warning: `\\require{autoload}`: the site's MathJax does not load `autoload` on request",
        "posts/unknown.md:12: warning: formula `$\\foo + \\alpha$` uses `\\foo`",
        "posts/unknown.md:19: warning: formula `$$\\begin{foomatrix} a \\end{foomatrix}$$` uses the environment `foomatrix`",
    ], "\n".join(messages)
    assert messages[2].endswith("(1 more formula uses it in this post)")


def test_every_name_mathjax_3_2_2_can_require_is_accepted():
    data = mathjax_tex()
    names = sorted(data.require_allowed) + sorted(data.v2_names)
    names += ["AMScd", "HTML", "AMSmath", "AMSsymbols", "noErrors", "noUndefined"]  # MathJax 2's
    assert {"amscd", "html", "physics", "mhchem", "amsmath"} <= set(names)
    for name in names:
        assert data.require_problem(name) is None, name
    for name in data.require_allowed:  # MathJax 3 names in any case, as the page maps them
        assert data.require_problem(name.upper()) is None, name


def test_the_data_file_knows_the_common_macros_and_not_textmacros():
    data = mathjax_tex()
    assert "textmacros" not in data.page_packages  # \text{stop_gradient} is text, as on kexue.fm
    macros, envs = data.names(data.page_packages)
    assert {"frac", "boldsymbol", "mathbb", "eqref", "xrightarrow", "ce", "cancel", "coloneqq", "{", ","} <= macros
    assert {"equation", "align", "pmatrix", "cases", "CD"} <= envs
    assert "abs" not in macros  # physics is loaded only on \require
    assert "abs" in data.names(["physics"])[0]


def test_text_arguments_are_not_read_as_tex():
    tex = "\\text{a \\b c} + \\mbox{\\d} \\href{\\e}{\\f} \\verb|\\g| \\h"
    assert [name for _, name, _ in control_sequences(tex)] == ["text", "mbox", "href", "f", "verb", "h"]


def test_clean_formulas_give_nothing():
    body = "$\\boldsymbol{x}_t = \\sqrt{\\bar{\\alpha}_t}\\,\\varepsilon$ 与 $$\\begin{aligned} a &\\xrightarrow{f} b \\\\ \\left\\{ c \\right. \\end{aligned}$$"
    assert mathjax_problems(body, list(mathscan.scan(body))) == []


def test_masking_code_keeps_every_offset():
    """Offsets found in the masked body point into the body itself (fence lines too)."""
    from kxsj.lint import mask_code

    body = "前\n```python\nx = '$a$'\n```\n后 `$b$` 与 $c$\n~~~\n$d$\n~~~\n"
    masked = mask_code(body)
    assert len(masked) == len(body) and masked.count("\n") == body.count("\n")
    assert [body[s.start : s.end] for s in mathscan.scan(masked)] == ["$c$"]
