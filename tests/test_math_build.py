"""``math: build``: formulas typeset by MathJax at build time (kxsj.render.mathengine / mathbuild)."""

from __future__ import annotations

import html
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.config import load_config
from kxsj.render import mathbuild, mathcss, mathengine
from kxsj.render.markdown import BodyRenderer

pytestmark = pytest.mark.skipif(not mathengine.available(), reason="mini-racer is not installed")

ROOT = Path(__file__).resolve().parents[1]
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def render():
    renderer = BodyRenderer(math="build")
    return lambda text: renderer.render(text).html


def containers(body: str) -> list[str]:
    return re.findall(r"<mjx-container [^>]*>", body)


def chars(fragment: str) -> str:
    """The characters CHTML shows (each ``mjx-c`` names its code point in its class), math italic as plain."""
    shown = "".join(chr(int(c, 16)) for c in re.findall(r'<mjx-c class="mjx-c([0-9A-F]+)', fragment))
    return unicodedata.normalize("NFKC", shown)


def test_a_formula_is_typeset_with_its_tex(render):
    body = render("设 $x_1 < y$ 成立。\n")
    assert 'class="arithmatex"' in body and "\\(" not in body
    (tag,) = containers(body)
    assert 'data-tex="x_1 &lt; y"' in tag and "display=" not in tag
    assert chars(body).startswith("x1<y")


def test_label_and_eqref_resolve_within_the_post(render):
    text = (
        "先引用\\eqref{eq:b}。\n\n"
        "$$\\begin{equation}a=1\\label{eq:a}\\end{equation}$$\n\n"
        "$$\\begin{equation}b=2\\label{eq:b}\\end{equation}$$\n\n"
        "再引用$\\eqref{eq:a}$。\n"
    )
    body = render(text)
    displays = [t for t in containers(body) if 'display="true"' in t]
    assert len(displays) == 2
    refs = re.findall(r'<a href="#([^"]+)">(.*?)</a>', body)
    assert [(unq, chars(inner)) for unq, inner in refs] == [("mjx-eqn%3Aeq%3Ab", "(2)"), ("mjx-eqn%3Aeq%3Aa", "(1)")]
    # A second post starts again at (1): numbering is per body.
    again = render("$$\\begin{equation}c\\label{eq:b}\\end{equation}$$\n\n见$\\eqref{eq:b}$\n")
    assert chars(re.findall(r"<a href.*?</a>", again)[0]) == "(1)"


def test_require_loads_the_package_as_on_the_page(render):
    body = render("$$\\require{AMScd}\\begin{CD} A @>f>> B \\end{CD}$$\n")
    assert "mjx-merror" not in body
    assert 'data-tex="\\require{AMScd}\\begin{CD} A @&gt;f&gt;&gt; B \\end{CD}"' in body
    assert "AfB" in chars(body).replace("\u2192", "")
    unknown = render("$\\require{nosuchpackage} x$\n")
    assert "mjx-merror" in unknown


def test_an_error_is_shown_in_the_formula(render):
    body = render("错误：$x^1^2$，之后 $y$ 照常。\n")
    first, second = re.findall(r"<mjx-container .*?</mjx-container>", body)
    assert "<mjx-merror" in first and 'data-mjx-error="Double exponent: use braces to clarify"' in first
    assert "mjx-merror" not in second and chars(second).startswith("y")


def test_inline_memo_gives_what_typesetting_gives():
    renderer = BodyRenderer(math="build")
    mathbuild.clear_memo()
    first = renderer.render("$\\alpha+1$ 与 $\\beta$\n").html
    again = renderer.render("$\\alpha+1$ 与 $\\beta$\n").html
    assert first == again and "$\\alpha+1$" not in mathbuild._memo
    assert len(mathbuild._memo) == 2
    # A formula met twice in one post, the first time not yet memoised: each
    # element still gets its own formula's output.
    mathbuild.clear_memo()
    twice = renderer.render("$a$ 与 $a$\n\n$$b$$\n\n$c$\n").html
    assert re.findall(r'data-tex="([^"]*)"', twice) == ["a", "a", "b", "c"]
    found = re.findall(r'<(span|div) class="arithmatex"><mjx-container ([^>]*)>', twice)
    assert [(tag, 'display="true"' in attrs) for tag, attrs in found] == [
        ("span", False), ("span", False), ("div", True), ("span", False)]
    # A post defining a macro is never served from the memo.
    defined = renderer.render("$\\def\\alpha{Z}$ $\\alpha+1$\n").html
    assert chars(defined.split("</mjx-container>")[1]).startswith("Z")


def test_browser_mode_keeps_the_tex():
    body = BodyRenderer(math="browser").render("$x$\n").html
    assert body == '<p><span class="arithmatex">\\(x\\)</span></p>'


def test_math_mode_is_in_the_render_cache_key(tmp_path):
    from kxsj.incremental.bodies import html_key
    from kxsj.render.context import RenderContext

    keys = {}
    for mode in ("browser", "build"):
        (tmp_path / "kxsj.yml").write_text(f"math: {mode}\n", encoding="utf-8")
        config, _ = load_config(tmp_path)
        keys[mode] = html_key(RenderContext.from_config(config))
    assert keys["browser"] != keys["build"]


def test_a_bad_math_value_is_reported(tmp_path):
    (tmp_path / "kxsj.yml").write_text("title: t\nmath: server\n", encoding="utf-8")
    config, diags = load_config(tmp_path)
    assert config.math == "browser"
    assert [(d.line, d.level) for d in diags] == [(2, "error")] and "`math` must be one of" in diags[0].message


def test_build_mode_without_mini_racer_falls_back_to_browser_with_a_warning(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "py_mini_racer", None)  # what an import of a missing package finds
    (tmp_path / "kxsj.yml").write_text("title: t\nmath: build\n", encoding="utf-8")
    config, diags = load_config(tmp_path)
    assert config.math == "browser"
    assert [(d.line, d.level) for d in diags] == [(2, "warning")] and "mini-racer" in diags[0].message


def test_checking_the_math_mode_does_not_load_v8(tmp_path):
    import subprocess
    import sys

    (tmp_path / "kxsj.yml").write_text("title: t\nmath: build\n", encoding="utf-8")
    code = ("import sys; from pathlib import Path; from kxsj.config import load_config; "
            f"c, d = load_config(Path({str(tmp_path)!r})); print(c.math, 'py_mini_racer' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["build", "False"]


def test_committed_stylesheet_is_the_engines():
    committed = (ROOT / "static" / mathengine.STYLESHEET).read_text(encoding="utf-8")
    chars = (ROOT / "src" / "kxsj" / "data" / mathcss.CHARS).read_text(encoding="utf-8")
    assert (committed.split("\n", 1)[1], chars.split("\n", 1)[1]) == mathcss.split(mathengine.stylesheet())
    fonts = set(re.findall(r'url\("([^"]+)"\)', committed))
    assert fonts and all((ROOT / "static" / "mathjax" / f).is_file() for f in fonts)


def test_stylesheet_split_keeps_every_rule_but_the_hidden_mathml():
    full = mathengine.stylesheet()
    site, chars = mathcss.split(full)
    # Every character MathJax can draw (one "content:" each), the braces' own
    # rules among them (content: "{" is no rule's end).
    assert full.count("content:") == (site + chars).count("content:") > 2000
    assert 'mjx-c.mjx-c7B::before{padding: 0.75em 0.5em 0.25em 0;content: "{";}' in chars.splitlines()
    assert "mjx-assistive-mml" in full and "mjx-assistive-mml" not in site + chars
    assert all("mjx-c" in line or line.startswith("@font-face{") for line in chars.splitlines()) and len(site) < 20_000
    assert full.count("@font-face") == site.count("@font-face") == chars.count("@font-face") == 22


def test_a_page_gets_the_rules_of_its_own_characters(render):
    rows = "\\\\".join("abcdefghijkl")  # tall enough for a brace built of pieces
    body = render(f"$x+\\mathbf{{x}}$ 与 $\\left\\{{\\begin{{matrix}}{rows}\\end{{matrix}}\\right.$ 与 $(a)$\n")
    css = str(mathcss.page_css(body))
    rules = css.splitlines()
    assert "mjx-c.mjx-c1D465.TEX-I::before" in css  # x, math italic
    assert "mjx-c.mjx-c1D431.TEX-B::before" in css  # x, bold
    assert "mjx-c.mjx-c2B::before" in css
    assert not any(".mjx-c1D466" in r for r in rules)  # y is not used
    assert not any(".TEX-FR::" in r or ".TEX-SS::" in r for r in rules)  # nor these fonts
    assert "mjx-stretchy-v.mjx-c7B mjx-ext mjx-c::before" in css  # the stretched brace
    assert not any(r.startswith("mjx-stretchy-v.mjx-c28") for r in rules)  # "(" is not stretched
    # Exactly what the full stylesheet has for them.
    everything = set(mathcss.split(mathengine.stylesheet())[1].splitlines())
    assert rules and set(rules) <= everything
    assert mathcss.page_css("<p>no formula</p>") == ""


def test_a_page_preloads_the_fonts_its_formulas_use(render):
    fonts = mathcss.page_fonts(render("$x$ 与 $\\mathbf{y}$\n"))
    assert [f.rsplit("/", 1)[1] for f in fonts] == [
        "MathJax_Zero.woff", "MathJax_Main-Regular.woff", "MathJax_Main-Bold.woff", "MathJax_Math-Italic.woff"]
    assert all((ROOT / "static" / "mathjax" / f).is_file() for f in fonts)
    assert mathcss.page_fonts("<p>x</p>") == []


def test_an_inline_formula_as_wide_as_a_phone_line_carries_its_width(render):
    long = "(a_0,a_1,\\cdots,a_{L-1},a_L,a_{L+1},a_{L+2},a_{L+3})"
    body = render(f"短 $x$，长 ${long}$。\n\n$${long}$$\n")
    short, wide, display = containers(body)  # data-width comes first in the tag
    assert "data-width" not in short and "data-width" not in display
    assert 14 <= int(re.search(r'data-width="(\d+)"', wide).group(1)) <= 30


def test_typeset_formula_is_named_by_its_tex_for_screen_readers(render):
    body = render("设 $x_1 < y$ 成立。\n\n$$\\begin{equation}a\\label{q}\\end{equation}$$\n")
    assert "mjx-assistive-mml" not in body and "<math" not in body
    tags = containers(body)
    assert len(tags) == 2
    for tag in tags:
        assert 'role="math"' in tag and "position: relative" in tag
        assert re.search(r'aria-label="([^"]*)"', tag).group(1) == re.search(r'data-tex="([^"]*)"', tag).group(1)
    assert body.count('<mjx-math ') == body.count('aria-hidden="true"') == 2
    assert 'aria-label="x_1 &lt; y"' in tags[0]


def test_engine_is_the_vendored_mathjax_release_with_the_pages_configuration():
    assert mathengine.mathjax_version() == "3.2.2"
    # scripts/build_mathjax_bundle.sh puts the pages' configuration in as it
    # is; an edit to it needs the bundle made again.
    page_config = (ROOT / "static" / "js" / "mathjax-config.js").read_text(encoding="utf-8")
    assert page_config in mathengine._bundle_text()


# --- the bundled archive ----------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("archive-math") / "public"
    config = (ROOT / "kxsj.yml").read_text(encoding="utf-8")
    assert re.search(r"^math: build$", config, re.M)
    (out.parent / "kxsj.yml").write_text(config + "\nsearch: false\nbase_url: https://example.org/\n", encoding="utf-8")
    report = build_site(BuildOptions(root=out.parent, posts_dir=ROOT / "posts", out_dir=out))
    assert report.ok
    return out


def test_archive_pages_carry_typeset_math_and_no_mathjax(archive):
    pages = list((archive / "archives").glob("*/index.html"))
    texts = [p.read_text(encoding="utf-8") for p in pages]
    assert sum(t.count("<mjx-container") for t in texts) >= 50
    assert not any("tex-chtml-full.js" in t for t in texts)
    # Pages with a formula link the stylesheet of the typeset output; pages without one load nothing of MathJax.
    assert all(("static/mathjax/kxsj-chtml.css" in t) == ("<mjx-container" in t) for t in texts)
    assert not any(re.search(r'class="arithmatex">[^<]', t) for t in texts)  # nothing left untypeset
    assert (archive / "static" / "mathjax" / "kxsj-chtml.css").is_file()


def test_archive_feed_is_atom_with_mathml(archive):
    root = ET.parse(archive / "feed.xml").getroot()
    assert root.tag == ATOM + "feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(ATOM + name) is not None, name
    entries = root.findall(ATOM + "entry")
    assert entries
    formulas = 0
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert (entry.find(ATOM + name).text or "").strip(), name
        assert entry.find(ATOM + "link").get("href").startswith("https://example.org/")
        content = entry.find(ATOM + "content")
        assert content.get("type") == "html"
        body = content.text
        assert "mjx-container" not in body and 'class="arithmatex"' not in body
        # The escaped HTML's MathML is well-formed XML, TeX kept as annotation.
        for mml in re.findall(r"<math .*?</math>", body, re.S):
            math = ET.fromstring(mml)
            annotation = math.find(".//{http://www.w3.org/1998/Math/MathML}annotation")
            assert annotation.get("encoding") == "application/x-tex" and annotation.text
            formulas += 1
    assert formulas > 0


def test_feed_mathml_is_the_same_in_both_modes():
    text = "由$x<y$得\n\n$$\\begin{equation}a\\label{q}\\end{equation}$$\n\n见\\eqref{q}\n"
    feeds = {m: mathbuild.feed_body(BodyRenderer(math=m).render(text).html) for m in ("browser", "build")}
    assert feeds["browser"] == feeds["build"]
    assert "<annotation encoding=\"application/x-tex\">x&lt;y</annotation>" in feeds["build"]
    assert html.unescape(feeds["build"]).count("<math") == 3


FORK_SCRIPT = """
import os, sys
from kxsj.render import mathengine
mathengine.typeset([("span", "\\\\(x\\\\)")])
pid = os.fork()
if pid == 0:
    ok = "data-tex" in mathengine.typeset([("span", "\\\\(y\\\\)")])[0]
    sys.exit(0 if ok else 3)  # a normal exit: finalizers run
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status))
"""


def test_a_forked_process_exits_after_the_parent_used_the_engine():
    # The parent's V8 context is not copied into a fork with its threads: the
    # child must neither wait on it at exit nor use it (it makes its own).
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", FORK_SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["child", "0"], done.stderr


def test_measuring_inline_widths_leaves_every_formula_typeset(shared_dir):
    # 6280's last formula, a display, came out empty when the inline formulas
    # before it were measured before the HTML was taken.
    text = (shared_dir / "corpus" / "md" / "6280.md").read_text(encoding="utf-8").split("---", 2)[2]
    frags = mathbuild.fragments(BodyRenderer(math="browser").render(text).html)
    out = mathengine.typeset(frags)
    assert len(out) == len(frags) > 150
    assert [i for i, inner in enumerate(out) if not inner.startswith("<mjx-container ")] == []
    assert any("data-width=" in inner for inner in out)
