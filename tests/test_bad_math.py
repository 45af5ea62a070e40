"""Broken formulas: ``kxsj check`` names them by ``path:line``, pages show them as written (issue 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kxsj.enrich import enrich
from kxsj.lint import lint_posts, plain_text
from kxsj.load import load_posts
from kxsj.render.markdown import BodyRenderer
from kxsj.render.md_literal import literal_text

REPO = Path(__file__).resolve().parents[1]

MD_POST = """---
title: 坏公式
date: 2024-01-01
slug: bad
---
第一段有好公式 $x^2$ 和钱 $5。

未闭合的花括号 $x^{2$ 在这里。

<!--more-->

未闭合的美元 $y 在这里。

```
代码里的 $ 和 \\begin{equation} 不算
```

\\begin{equation}
\\left( a + b
\\end{equation}

$$\\begin{aligned} a &= b \\end{align}$$

多了一个 } 的 $a}$ 与 `$行内代码$`。

\\begin{gather}
没有结束
"""

DUMP = """15 Nov

坏公式的转储

开头 $\\frac{1}{2$ 不闭合。

一个孤立的 $ 美元；花了$5，又花了$10。

\\begin{equation}
\\left\\{ x \\right.
\\end{equation}

点击阅读全文...

16 Nov

另一篇

$$x = \\frac{a}{b$$
"""

# The same post in a second dump, with one more line: it is merged into the first.
DUMP2 = """15 Nov

坏公式的转储

补充的一行 \\end{align} 在另一个文件里。
"""


@pytest.fixture
def site(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "bad.md").write_text(MD_POST, encoding="utf-8")
    (posts / "a.txt").write_text(DUMP, encoding="utf-8")
    (posts / "b.txt").write_text(DUMP2, encoding="utf-8")
    return tmp_path


def lint_messages(root: Path) -> list[str]:
    result = load_posts(root / "posts", root=root)
    return [str(d) for d in lint_posts(enrich(result.posts, diags=[]))]


def test_lint_names_the_file_line_of_every_broken_formula(site, monkeypatch):
    monkeypatch.chdir(site)
    found = lint_messages(site)
    expected = [
        r"posts/bad\.md:8: warning: formula `\$x\^\{2\$` leaves 1 `\{` unclosed",
        r"posts/bad\.md:12: warning: `\$` opens no formula",
        r"posts/bad\.md:19: warning: formula `\\begin\{equation\} \\left\( a \+ b \\end\{equa…` has 1 `\\left` without `\\right`",
        r"posts/bad\.md:22: warning: formula `\$\$\\begin\{aligned\} a &= b \\end\{align\}\$\$` has `\\end\{align\}` where `\\end\{aligned\}` was due",
        r"posts/bad\.md:24: warning: formula `\$a\}\$` has a `\}` without a `\{`",
        r"posts/bad\.md:26: warning: `\\begin\{gather\}` has no matching `\\end\{gather\}`",
        r"posts/a\.txt:5: warning: formula `\$\\frac\{1\}\{2\$` leaves 1 `\{` unclosed",
        r"posts/a\.txt:7: warning: `\$` opens no formula",
        r"posts/b\.txt:5: warning: `\\end\{align\}` without a `\\begin\{align\}`",
        r"posts/a\.txt:19: warning: formula `\$\$x = \\frac\{a\}\{b\$\$` leaves 1 `\{` unclosed",
    ]
    for pattern in expected:
        assert any(re.match(pattern, m) for m in found), f"nothing like {pattern!r} in\n" + "\n".join(found)
    # Nothing else: good formulas, money, `\left\{ … \right.`, code and code spans are fine.
    assert len(found) == len(expected), "\n".join(found)


def test_lint_is_quiet_on_the_bundled_archive_and_the_corpus(shared_dir):
    """Quiet but for the TeX the crawl left outside formulas (in a few corpus posts)."""
    bundled = load_posts(REPO / "posts", root=REPO).posts
    corpus = load_posts(shared_dir / "corpus/md", root=shared_dir).posts
    dumps = load_posts(shared_dir / "corpus/dumps", root=shared_dir).posts
    assert len(bundled) == 36 and len(corpus) == 130 and len(dumps) >= 100
    assert [str(d) for d in lint_posts(bundled)] == []
    found = [str(d) for d in lint_posts(corpus + dumps)]
    stray = [d for d in found if "TeX outside a formula" in d]
    assert stray and len({d.split(":")[0] for d in stray}) < 20
    # Two real errors the corpus carries (MathJax shows both in red):
    # 11664 defines \RMSNorm with \newcommand in prose, outside any formula;
    # 6024 has ``\=`` where the crawl lost a backslash of ``\\``.
    assert [m.split(": warning: ")[0].rsplit("/", 1)[-1] + " " + re.search(r"uses `([^`]*)`", m).group(1) for m in found if m not in stray] == [
        "11664.md:68 \\RMSNorm",
        "6024.md:92 \\=",
    ], found


@pytest.mark.parametrize("text", ["a $ b \\$ c \\\\ d", "<script>&amp;[x]~~~ *_{}#+-.!|`", "\\begin{equation} $$"])
def test_dump_markdown_turns_back_into_the_dump_text(text):
    assert plain_text(literal_text(text))[0] == text


def test_kxsj_check_prints_math_warnings_and_strict_fails_on_them(site, run_kxsj):
    proc = run_kxsj("check", cwd=site)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # warnings only
    assert "posts/bad.md:8: warning: formula `$x^{2$` leaves 1 `{` unclosed" in proc.stdout
    assert "posts/a.txt:5: warning: formula" in proc.stdout
    strict = run_kxsj("check", "--strict", cwd=site)
    assert strict.returncode == 1


def test_broken_formulas_stay_on_the_page_as_written():
    html = BodyRenderer().render(
        "花括号 $x^{2$ 在这里。\n\n孤立的 $y 在这里。\n\n\\begin{gather}\n没有结束\n\n$$a+b\n"
    ).html
    assert '<span class="arithmatex">\\(x^{2\\)</span>' in html
    assert "孤立的 $y 在这里。" in html
    assert "\\begin{gather}" in html and "没有结束" in html and "$$a+b" in html


def test_page_shows_a_broken_formula_as_written_not_only_the_error(site, run_kxsj, serve_dir, page):
    (site / "kxsj.yml").write_text("search: false\n", encoding="utf-8")
    (site / "posts/a.txt").unlink()
    (site / "posts/b.txt").unlink()
    proc = run_kxsj("build", cwd=site)
    assert proc.returncode == 0, proc.stderr
    base = serve_dir(site / "public")
    page.goto(base + "posts/bad/")
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    errors = page.evaluate(
        "Array.from(document.querySelectorAll('mjx-merror')).map(e => [e.getAttribute('data-mjx-error'), e.textContent])"
    )
    shown = {tex for _message, tex in errors}
    # The TeX as written is on the page (the message is only the tooltip).
    assert {"a}", "\\begin{equation} \\left( a + b \\end{equation}"} <= shown, errors
    assert all(message and message not in tex for message, tex in errors), errors
    text = page.inner_text("article")
    assert "未闭合的美元 $y 在这里。" in text
    assert "x^{2" in text and "没有结束" in text


def test_tex_outside_formulas_is_reported_once_per_line(tmp_path):
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "t.md").write_text(
        "---\ntitle: t\ndate: 2020-01-01\n---\n"
        "从而\\boldsymbol{M}_t\\boldsymbol{V}_{t-1}和t\\in\\{0,1\\}可以写成\n"
        "公式$\\alpha$与代码`\\alpha`和my\\_var都不算，MathJax排版的\\eqref{eq:1}与(\\ref{x})也不算\n"
        "```\n\\beta\n```\n"
        "其中\\boldsymbol{O}_+ 是正部\n",
        encoding="utf-8",
    )
    found = [str(d).split("posts/", 1)[1] for d in lint_posts(load_posts(tmp_path / "posts", root=tmp_path).posts)]
    assert ["posts/" + d for d in found] == [
        "posts/t.md:5: warning: TeX outside a formula, `\\boldsymbol{M}_t\\boldsymbol{V}_{t-1}` (and 1 more on this line), "
        "is shown as plain text, not typeset; wrap it in $…$",
        "posts/t.md:10: warning: TeX outside a formula, `\\boldsymbol{O}_+`, is shown as plain text, not typeset; wrap it in $…$",
    ]
