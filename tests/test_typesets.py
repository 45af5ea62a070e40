"""An edited post's formulas typeset once (``kxsj.incremental.typesets``).

Under ``math: build`` a build after an edit of a math-heavy post's prose
takes the post's previous typeset formulas instead of typesetting them all
again, and the pages are byte for byte those of a build from nothing.  An
edit that changes a formula typesets the body again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.incremental import workers
from kxsj.render import mathbuild, mathengine
from kxsj.render.markdown import BodyRenderer

pytestmark = pytest.mark.skipif(not mathengine.available(), reason="mini-racer is not installed")

# Numbered equations, a reference to one and a macro: what MathJax numbers
# and defines for the whole body, so a formula typeset alone would differ.
POST = """---
title: 公式很多的一篇
date: 2024-03-01
---

开头的一段。

$$\\begin{equation}\\newcommand{\\KL}{\\operatorname{KL}}\\KL(p\\Vert q) = \\int p \\log\\frac{p}{q}\\label{eq:kl}\\end{equation}$$

由式$\\eqref{eq:kl}$可知 $\\KL \\geq 0$，而 $x_1^2 + x_2^2$ 是另一回事。

$$\\begin{equation}\\sum_{k=1}^n k = \\frac{n(n+1)}{2}\\end{equation}$$

结尾。
"""
OTHER = "---\ntitle: 另一篇\ndate: 2024-02-01\n---\n\n只有 $y$ 一个公式。\n"


def _site(root: Path) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "kxsj.yml").write_text("title: 测试\nmath: build\nsearch: false\n", encoding="utf-8")
    (root / "posts" / "heavy.md").write_text(POST, encoding="utf-8")
    (root / "posts" / "other.md").write_text(OTHER, encoding="utf-8")
    return root


def _edit(root: Path, old: str, new: str) -> None:
    path = root / "posts" / "heavy.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _pages(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file() and ".kxsj-cache" not in p.parts}


def _build_after_edit(site: Path, options: BuildOptions, old: str, new: str, typeset_calls: list[int], fresh: Path) -> tuple[list[int], dict[str, bytes]]:
    """Edit heavy.md and build: what MathJax typeset, and the pages (checked to be a build from nothing's)."""
    _edit(site, old, new)
    mathbuild.clear_memo()
    typeset_calls.clear()
    assert build_site(options).ok
    calls = list(typeset_calls)
    assert build_site(BuildOptions(site, site / "posts", fresh, cache=False)).ok
    pages = _pages(site / "public")
    assert pages == _pages(fresh)
    return calls, pages


@pytest.fixture
def typeset_calls(monkeypatch):
    """The formulas MathJax typeset, one list a call (rendering in this process: no helper, no pool)."""
    monkeypatch.setattr(workers, "cores", lambda: 1)
    calls: list[int] = []
    real = mathengine.typeset

    def typeset(fragments):
        if fragments:
            calls.append(len(fragments))
        return real(fragments)

    monkeypatch.setattr(mathengine, "typeset", typeset)
    mathbuild.clear_memo()
    return calls


def test_a_body_with_the_same_formulas_takes_the_previous_typesets(typeset_calls):
    renderer = BodyRenderer(math="build")
    before = renderer.render(POST.split("---\n", 2)[2]).html
    kept = mathbuild.typeset_formulas(before)
    assert kept is not None and len(kept[1]) == 5
    edited = POST.split("---\n", 2)[2].replace("开头的一段。", "开头的一段，改过了。")
    mathbuild.clear_memo()
    typeset_calls.clear()
    with mathbuild.reused_typesets(dict([kept])):
        reused = renderer.render(edited).html
    assert typeset_calls == []
    mathbuild.clear_memo()
    assert reused == renderer.render(edited).html  # what typesetting it gives
    assert typeset_calls == [5]
    # A changed formula: the body's list is another, so it is typeset in full.
    changed = edited.replace("\\frac{n(n+1)}{2}", "\\binom{n+1}{2}")
    typeset_calls.clear()
    mathbuild.clear_memo()
    with mathbuild.reused_typesets(dict([kept])):
        renderer.render(changed)
    assert typeset_calls == [5]
    assert mathbuild._reused == {}  # only while asked for


def test_an_edit_of_the_prose_typesets_nothing_and_gives_a_fresh_builds_pages(tmp_path, typeset_calls):
    site = _site(tmp_path / "site")
    options = BuildOptions(site, site / "posts", site / "public")
    assert build_site(options).ok
    calls, pages = _build_after_edit(site, options, "开头的一段。", "开头的一段，改过了。", typeset_calls, tmp_path / "fresh")
    assert calls == []
    assert any("改过了".encode() in page for page in pages.values())
    # The next edit, of a formula: the body is typeset again, in full.
    calls, _ = _build_after_edit(site, options, "x_1^2", "x_1^3", typeset_calls, tmp_path / "fresh2")
    assert calls and calls[0] == 5


def test_a_posts_record_outlives_builds_that_did_not_render_it(tmp_path, typeset_calls):
    """Builds that render only other posts (or nothing) keep the heavy post's record: its edit typesets nothing."""
    site = _site(tmp_path / "site")
    options = BuildOptions(site, site / "posts", site / "public")
    assert build_site(options).ok
    other = site / "posts" / "other.md"
    other.write_text(OTHER.replace("只有", "现在只有"), encoding="utf-8")
    assert build_site(options).ok  # renders other.md alone
    assert build_site(options).ok  # renders nothing
    calls, _ = _build_after_edit(site, options, "开头的一段。", "开头的一段，改过了。", typeset_calls, tmp_path / "fresh")
    assert calls == []


def test_a_post_with_its_own_files_takes_its_previous_typesets_too(tmp_path, typeset_calls):
    """Its body is rendered with its files' context line (kxsj.load.assets), after the others were asked for."""
    from test_post_assets import png

    site = _site(tmp_path / "site")
    _edit(site, "结尾。", "结尾。\n\n![图](fig.png)")
    (site / "posts" / "heavy").mkdir()
    (site / "posts" / "heavy" / "fig.png").write_bytes(png(5, 4))
    options = BuildOptions(site, site / "posts", site / "public")
    assert build_site(options).ok
    calls, pages = _build_after_edit(site, options, "开头的一段。", "开头的一段，改过了。", typeset_calls, tmp_path / "fresh")
    assert calls == []
    assert any(b'width="5"' in page and "改过了".encode() in page for page in pages.values())


def test_without_the_cache_every_formula_is_typeset(tmp_path, typeset_calls):
    site = _site(tmp_path / "site")
    options = BuildOptions(site, site / "posts", site / "public", cache=False)
    assert build_site(options).ok
    _edit(site, "开头的一段。", "开头的一段，改过了。")
    mathbuild.clear_memo()
    typeset_calls.clear()
    assert build_site(options).ok
    assert 5 in typeset_calls


HELPER_CASE = r"""
import json, sys
from pathlib import Path
from kxsj.build import BuildOptions, build_site
from kxsj.incremental import workers
from kxsj.render import mathengine
site = Path(sys.argv[1])
log = site.parent / "typeset.log"
real = mathengine.typeset
def typeset(fragments):  # the helper is forked from here: it runs this too
    if fragments:
        with open(log, "a") as f:
            f.write(f"{len(fragments)}\n")
    return real(fragments)
mathengine.typeset = typeset
helpers = []
real_start = workers.start_helper
def start(context):
    real_start(context)
    helpers.append(workers._helper is not None)
workers.start_helper = start
ok = build_site(BuildOptions(site, site / "posts", site / "public")).ok
print(json.dumps({"ok": ok, "helper": helpers}))
"""


def test_the_helper_process_takes_the_previous_typesets_too(tmp_path):
    """A build after an edit renders in the helper process: the typesets travel to it."""
    site = _site(tmp_path / "site")

    def build() -> dict:
        done = subprocess.run([sys.executable, "-c", HELPER_CASE, str(site)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert build()["ok"]
    if workers.cores() < 2:
        pytest.skip("one core: no helper process")
    log = tmp_path / "typeset.log"
    log.unlink()
    _edit(site, "开头的一段。", "开头的一段，改过了。")
    result = build()
    assert result == {"ok": True, "helper": [True]}
    assert not log.exists() or "5" not in log.read_text().split()
    fresh = tmp_path / "fresh"
    assert build_site(BuildOptions(site, site / "posts", fresh, cache=False)).ok
    assert _pages(site / "public") == _pages(fresh)


def test_a_serve_save_of_the_prose_typesets_nothing_and_serves_a_fresh_previews_pages(tmp_path, typeset_calls):
    from kxsj.serve.preview import PreviewSite

    site = _site(tmp_path / "site")
    preview = PreviewSite(site, site / "posts")
    preview.build()
    _edit(site, "开头的一段。", "开头的一段，改过了。")
    mathbuild.clear_memo()
    typeset_calls.clear()
    preview.build([site / "posts" / "heavy.md"])
    assert preview.loaded.replaced is not None  # the body-only path was taken
    assert typeset_calls == []
    fresh = PreviewSite(site, site / "posts")
    fresh.build()
    assert preview.pages.keys() == fresh.pages.keys()
    assert [p for p in preview.pages if preview.pages[p] != fresh.pages[p]] == []
    assert any("改过了".encode() in page for page in preview.pages.values() if isinstance(page, bytes))
