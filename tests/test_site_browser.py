"""The built site in a real browser: MathJax (vendored, offline) typesets every
formula, without errors, per post even when one page shows several posts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, build_site

REPO = Path(__file__).resolve().parents[1]
CORPUS_POSTS = ["6280", "9280", "10040", "10180"]  # many \label/\eqref, pmatrix, \boldsymbol

# Two posts that both define \label{eq:x}: on one list page they must not clash.
TWIN = """---
title: "标签测试{n}"
date: 2024-01-0{n}
tags: ["同名标签"]
---
第{n}篇：
$$\\begin{{equation}}E_{n} = mc^2\\label{{eq:x}}\\end{{equation}}$$
由$\\eqref{{eq:x}}$可知，$\\text{{能量}}$守恒。
"""


def build_into(root: Path, out: Path, base_url: str | None = None):
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=out, base_url=base_url))
    assert report.written, [str(d) for d in report.diagnostics]
    return report


@pytest.fixture(scope="module")
def site_root(tmp_path_factory, shared_dir) -> Path:
    """The bundled archive, a few corpus Markdown posts and the two twins."""
    root = tmp_path_factory.mktemp("browser-site")
    shutil.copytree(REPO / "posts", root / "posts")
    for name in CORPUS_POSTS:
        shutil.copy(shared_dir / "corpus" / "md" / f"{name}.md", root / "posts" / f"{name}.md")
    for n in (1, 2):
        (root / "posts" / f"twin{n}.md").write_text(TWIN.format(n=n), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def served(site_root, session_serve_dir):
    out = site_root / "public"
    build_into(site_root, out)
    return session_serve_dir(out)


def typeset(page, url: str) -> dict:
    """Open ``url``, wait for MathJax to finish, and count what it did."""
    page.goto(url)
    if page.locator("#MathJax-script").count():  # pages without a formula load no MathJax
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30000)
        page.evaluate("() => MathJax.startup.promise")
    return page.evaluate(
        """() => {
          const math = [...document.querySelectorAll('.arithmatex')];
          const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
          return {
            math: math.length,
            typeset: math.filter(e => e.querySelector('mjx-container')).length,
            errors: document.querySelectorAll('mjx-merror').length,
            outside: document.querySelectorAll('mjx-container:not(.arithmatex mjx-container)').length,
            duplicateIds: ids.filter((id, i) => ids.indexOf(id) !== i),
          };
        }"""
    )


def assert_clean(page, result: dict) -> None:
    assert result["math"] > 0
    assert result["typeset"] == result["math"], result
    assert result["errors"] == 0, result
    assert result["outside"] == 0, "MathJax typeset something outside .arithmatex"
    assert result["duplicateIds"] == []
    assert page.kxsj_errors == []
    assert page.kxsj_external == []


@pytest.mark.parametrize("path", ["", "archives/6280/", "archives/9280/", "archives/10040/", "archives/10180/", "archives/9152/"])
def test_every_formula_is_typeset_without_errors(page, served, path):
    result = typeset(page, served + path)
    assert_clean(page, result)
    if path.startswith("archives/6280"):
        assert result["math"] > 50  # a long post really was typeset, not a stub


def test_same_label_in_two_posts_on_one_page_does_not_clash(page, served):
    result = typeset(page, served + "tag/%E5%90%8C%E5%90%8D%E6%A0%87%E7%AD%BE/")
    assert_clean(page, result)
    # Each post numbers its own equations from (1) (read from the MathML that
    # MathJax keeps for screen readers: the CHTML glyphs are CSS), and each
    # \eqref link points at the equation in its own post.
    numbers = page.evaluate(
        "() => [...document.querySelectorAll('article')].map(a => a.querySelector('mjx-assistive-mml').textContent)"
    )
    assert numbers == ["(1)E2=mc2", "(1)E1=mc2"]
    refs = page.evaluate(
        """() => [...document.querySelectorAll('article a[href^="#"]')].map(a =>
             a.closest('article') === document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)))?.closest('article'))"""
    )
    assert refs == [True, True]


def test_site_under_a_sub_path_loads_mathjax_and_styles(page, site_root, serve_dir, tmp_path):
    out = tmp_path / "public"
    out.mkdir()
    base = serve_dir(out, "/repo/")
    build_into(site_root, out, base_url=base)
    result = typeset(page, base + "archives/10040/")
    assert_clean(page, result)
    width = page.evaluate("() => getComputedStyle(document.querySelector('main')).maxWidth")
    assert width != "none", "site.css did not load under the sub-path"
