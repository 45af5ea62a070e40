"""The filtered inline stage (``kxsj.render.fast_inline``) changes no output.

It skips an inline pattern only when the text lacks what the pattern's regex
needs, so a body must render to the same bytes with and without it.  The
same holds for the ``[TOC]`` marker search that looks only where the marker
can be (``kxsj.render.toc``): the plain renderer here uses the stock
``toc`` marker search.  Checked
here on the real posts of the shared corpus, the repository's sample posts,
hand-written inline Markdown meant to reach every pattern and the places
where they interact, and seeded random mixes of Markdown punctuation.  The
``required_text`` analysis is also checked directly: whenever a regex
matches a text, the text must hold what the analysis says it needs.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import markdown
import pytest

from kxsj.load.markdown_posts import split_front_matter
from kxsj.render import fast_inline
from kxsj.render.fast_inline import FastInlineExtension, may_match, pattern_condition, required_text
from markdown.extensions.toc import TocTreeprocessor

from kxsj.render.markdown import BodyRenderer, _extensions, _flatten_toc
from kxsj.render.toc import ReaderTocExtension, ReaderTocTreeprocessor

REPO = Path(__file__).resolve().parents[1]

# Inline Markdown where patterns meet: emphasis, links, references,
# autolinks, HTML, entities, escapes, code spans, math beside ``*``/``_``,
# hard line breaks, placeholder-like text, headings (toc), tables, captions.
STRESS = [
    "*a* **b** ***c*** _d_ __e__ ___f___ *a **b** c* **a *b* c** _a __b__ c_",
    "***a* b** ***a** b* *a **b*** **a *b*** _a_b_c_ a_b_c snake_case_name __init__",
    "* not a list *but em* \\*escaped\\* \\_x\\_ * spaced * 2*3*4 a * b * c",
    "**粗体**中文*斜体*文字 中文_下划线_中文 **中文**，*中文*。",
    "[link](http://example.com) [link with title](http://example.com \"title\") [a [nested] b](/x)",
    "[ref][1] [ref] [Ref][] ![img](/a.png) ![img ref][1] ![short] [missing][nope]\n\n[1]: http://e.com/1\n[ref]: /r \"T\"\n[short]: /s.png",
    "<http://example.com/a?b=c&d=e> <https://例子.com/路径> <mailto:a@b.c> <a@b.com> <not a link> a@b.com",
    "<span class=\"x\">inline *html*</span> <b>bold</b> <!-- comment --> <br/> <?php x ?> <![CDATA[ y ]]> a < b > c",
    "&amp; &copy; &#169; &#xA9; &notanentity; & ; AT&T a&b;c &lt;tag&gt;",
    "\\\\ \\` \\* \\_ \\{ \\} \\[ \\] \\( \\) \\# \\+ \\- \\. \\! \\$ \\| \\> \\a \\中",
    "`code` ``co`de`` ```a``b``` `` ` `` `*not em*` `$not math$` `\\` \\`not code\\` `unclosed",
    "$a*b*c$ *$x$* _$y_1$_ $a_1$ and $b_2$ **$c^*$** $x$*y* \\$5 $$x$$ $\\$$ \\(a*b\\) \\[c_d\\]",
    "花了$5，又花了$10 $$中文$ $a$$b$ $ a $ $a\n b$ `$` $`$",
    "line one  \nline two   \nline three\\\nline four\t\n中文  \n中文",
    "*[HTML]: Hyper Text Markup Language\nThe HTML spec. *[W3C]: World Wide Web Consortium",
    "\x02klzzwxh:0000\x03 \x02wzxhzdk:0\x03 klzzwxh:0001 \x02 \x03 text\x02",
    "# Heading *em* `code` $x$ {#custom-id}\n\n## 中文标题 [link](/l)\n\n### &amp; <b>h</b>",
    "| a | *b* |\n|---|---|\n| `c|d` | $e|f$ |\n| [g](/h) | **i** |",
    "<div markdown=\"1\">\n*inside* [html](/x) $y$\n</div>\n\n<figure markdown>\n![cap](/i.png)\n<figcaption markdown>图 *1*</figcaption>\n</figure>",
    "paragraph with attrs {: .cls #ident }\n\n![image](/i.png){: width=\"50%\" }",
    "```python\nx = '*a*' # $b$\n```\n\n    indented `code`\n\n~~~\n[not](/link)\n~~~",
    "> quote *em* [l](/x)\n> $q$ `c`\n\n- item **b**\n- item _i_ <a@b.c>\n\n1. one&amp;\n2. two\\*",
    "a**b**c a*b*c a__b__c [a](<b c>) [a](b(c)) [a]( b ) [](empty) [a]\n\n[a]: <x y>",
    "https://bare.url/x_y_z*w* www.example.com :// <> <<a>> <a<b>> @@ <@> <:@> &&;; ![[",
    "**unclosed *mixed __delims_ `and` [brackets( $math *",
]


@pytest.fixture(scope="module")
def post_bodies(shared_dir) -> list[str]:
    """Bodies of the shared corpus's real posts and the repository's sample dumps."""
    bodies = [
        split_front_matter(path.read_text(encoding="utf-8"))[1]
        for path in sorted((shared_dir / "corpus" / "md").glob("*.md"))
    ]
    bodies += [path.read_text(encoding="utf-8") for path in sorted((REPO / "posts").glob("*.txt"))]
    assert len(bodies) > 100
    return bodies


_TOKENS = [
    "*", "**", "_", "__", "`", "``", "$", "$$", "\\", "\\\\", "[", "]", "(", ")", "![",
    "<", ">", "&", ";", "#", "@", "://", "http", "  \n", "\n", "\n\n", " ", "a", "b",
    "中文", "{", "}", ":", "!", "|", "-", "=", "\"", "'", "/", "\x02", "\x03", "amp",
    "klzzwxh:0000", "mailto:", "x@y.z", "<b>", "</b>", "&amp;", "[1]", "[1]: /u\n",
    "\\(", "\\)", "\\[", "\\]", "\\begin{equation}", "\\end{equation}", "{: .c }",
]


def random_bodies(count: int, seed: int) -> list[str]:
    """Seeded mixes of the characters the inline patterns care about."""
    rng = random.Random(seed)
    return ["".join(rng.choice(_TOKENS) for _ in range(rng.randint(1, 40))) for _ in range(count)]


class _StockMarkerTreeprocessor(ReaderTocTreeprocessor):
    """kxsj's headings and contents, with the stock search for the ``[TOC]`` marker."""

    def replace_marker(self, root, elem) -> None:
        TocTreeprocessor.replace_marker(self, root, elem)
        self._placed = any(el is elem for el in root.iter())


class _StockMarkerToc(ReaderTocExtension):
    TreeProcessorClass = _StockMarkerTreeprocessor


def _plain_markdown() -> markdown.Markdown:
    extensions, configs = _extensions()
    extensions = [e for e in extensions if not isinstance(e, FastInlineExtension)]
    toc = next(e for e in extensions if isinstance(e, ReaderTocExtension))
    extensions[extensions.index(toc)] = _StockMarkerToc(**toc.getConfigs())  # the same settings
    return markdown.Markdown(extensions=extensions, extension_configs=configs, output_format="html")


def _render(md: markdown.Markdown, text: str) -> tuple[str, list]:
    md.reset()
    html = md.convert(text)
    return html, _flatten_toc(getattr(md, "toc_tokens", []))


@pytest.fixture(scope="module")
def both():
    """(filtered renderer, plain renderer): the plain one is Python-Markdown's own stage."""
    fast = BodyRenderer()
    assert isinstance(fast._md.treeprocessors["inline"], fast_inline.FilteredInlineProcessor)
    plain = _plain_markdown()
    assert type(plain.treeprocessors["inline"]) is markdown.treeprocessors.InlineProcessor
    assert type(plain.treeprocessors["toc"]) is _StockMarkerTreeprocessor
    return fast, plain


def _assert_same(both, texts: list[str]) -> None:
    fast, plain = both
    differing = []
    for text in texts:
        got = fast.render(text)
        if (got.html, got.toc) != _render(plain, text):
            differing.append(text)
    assert differing == [], f"{len(differing)} of {len(texts)} differ, first: {differing[0]!r}"


def test_stress_strings_render_the_same(both):
    _assert_same(both, STRESS)
    # and every pair, so each string's patterns meet each other's
    _assert_same(both, [a + b for a in STRESS for b in STRESS[::3]])


def test_random_inline_markdown_renders_the_same(both):
    _assert_same(both, random_bodies(3000, seed=20240601))


def test_real_posts_render_the_same(both, post_bodies):
    _assert_same(both, post_bodies)


def test_skips_are_right_and_most_tries_are_skipped(both, post_bodies, monkeypatch):
    """Whenever the filter skips a pattern, its regex would have found nothing.

    Checked on the very strings the inline stage holds at that moment
    (placeholders of earlier matches included).  And the point of the
    filter: most (pattern, text) pairs on real posts are never searched.
    """
    fast, _plain = both
    regexes: dict = {}
    for pattern in fast._md.inlinePatterns:
        regexes.setdefault(pattern_condition(pattern), []).append(pattern.getCompiledRegExp())
    real_may_match = fast_inline.may_match
    tries = {True: 0, False: 0}
    wrong = []

    def checking(condition, text):
        result = real_may_match(condition, text)
        tries[result] += 1
        if not result:
            wrong.extend((rx.pattern, text) for rx in regexes[condition] if rx.search(text))
        return result

    monkeypatch.setattr(fast_inline, "may_match", checking)
    for body in post_bodies + STRESS + random_bodies(1000, seed=5):
        fast.render(body)
    assert wrong == []
    assert tries[False] > 2 * tries[True]


def test_conditions_of_the_registered_patterns(both):
    """Every pattern of the pipeline gets a filter, and the expected one."""
    fast, _plain = both
    patterns = fast._md.inlinePatterns
    got = {item.name: pattern_condition(patterns[item.name]) for item in patterns._priority}
    assert got["backtick"] == (("`",),)
    assert got["arithmatex-inline"] == (("$", "\\"),)
    assert got["link"] == got["reference"] == (("[",),)
    assert got["image_link"] == (("![",),)
    assert got["linebreak"] == (("  \n",),)
    assert got["entity"] == (("&",), (";",))
    # Emphasis is one pattern for `*` and `_` in some Python-Markdown
    # releases and two (em_strong, em_strong2) in others: together they
    # must ask for both characters and nothing more.
    emphasis = {c for name in ("em_strong", "em_strong2") for group in got.get(name, ()) for c in group}
    assert emphasis == {"*", "_"}, got
    assert all(got.values()), [n for n, c in got.items() if not c]


@pytest.mark.parametrize(
    "regex, condition",
    [
        (r"abc", (("abc",),)),
        (r"a(?=b)", (("a",), ("b",))),
        (r"(?<=x)y", (("x",), ("y",))),
        (r"(?<!x)y", (("y",),)),
        (r"a|b", (("a", "b"),)),
        (r"ab|x", (("ab", "x"),)),
        (r"(?:ab|x)y", (("y",), ("ab", "x"))),
        (r"ab|a", (("a",),)),
        (r"a?b*c+", (("c",),)),
        (r"[abc]+", (("a", "b", "c"),)),
        (r"[a-c]", (("a", "b", "c"),)),
        (r"[^abc]", ()),
        (r"[a-z]", ()),
        (r"\w+", ()),
        (r"(?i)abc", ()),
        (r"x(?i:abc)", (("x",),)),
        (r"a|.", ()),
        (r"(a)\1", (("a",),)),
        (r"a{0,3}", ()),
        (r"(?:ab){2}", (("ab",),)),
        (r"a*+b(?>cd)", (("cd",), ("b",))),
    ],
)
def test_required_text(regex, condition):
    assert required_text(re.compile(regex)) == condition


def test_required_text_holds_for_random_texts():
    """Random regexes over a small alphabet: a match implies the condition."""
    rng = random.Random(11)
    atoms = ["a", "b", "x", "ab", "bx", "xa", "[ab]", "[a-b]", ".", "[^a]", "\\b", "(?=a)", "(?<=b)", "(?!a)"]

    def regex(depth: int) -> str:
        parts = []
        for _ in range(rng.randint(1, 4)):
            if depth and rng.random() < 0.3:
                inner = "|".join(regex(depth - 1) for _ in range(rng.randint(1, 3)))
                part = rng.choice(["(%s)", "(?:%s)", "(?=%s)", "(?<!x)(?:%s)"]) % inner
            else:
                part = rng.choice(atoms)
            parts.append(part + rng.choice(["", "", "", "", "*", "+", "?", "{2}", "{0,2}", "+?"]))
        return "".join(parts)

    texts = ["".join(rng.choice("abx ") for _ in range(rng.randint(0, 8))) for _ in range(300)]
    for _ in range(300):
        try:
            compiled = re.compile(regex(2))
        except re.error:
            continue
        condition = required_text(compiled)
        for text in texts:
            if compiled.search(text):
                assert may_match(condition, text), (compiled.pattern, condition, text)


TOC_MARKERS = [
    "[TOC]", "  [TOC]  ", "# 一\n\n[TOC]\n\n## 二\n", "[TOC]\n\n# 一\n\n[TOC]\n", "a [TOC]", "[TOC] a", "*[TOC]*",
    "> [TOC]", "- [TOC]", "1. [TOC]\n2. x", "# [TOC]", "`[TOC]`", "    [TOC]", "```\n[TOC]\n```", "[TOC]\nx",
    "x\n[TOC]", "\\[TOC]", "[toc]", "[TOC]]", "<div>[TOC]</div>", "| a |\n|---|\n| [TOC] |", "[TOC]  \nx",
    "## 标题 [TOC]\n\n[TOC]", "$[TOC]$", "[TOC](x)", "[TOC][]", "\\([TOC]\\)", "- a\n\n    [TOC]\n",
]


def test_the_toc_marker_is_replaced_as_the_stock_extension_does(both):
    _assert_same(both, TOC_MARKERS + [a + "\n\n" + b for a in TOC_MARKERS for b in TOC_MARKERS[::4]])
