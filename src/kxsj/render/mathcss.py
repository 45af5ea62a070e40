"""The CSS a ``math: build`` page needs: one stylesheet for the site, and the page's own characters.

MathJax's CHTML output draws each character with a CSS rule of its own
(``mjx-c.mjx-c1D45E.TEX-I::before{padding:…;content:"\\1D45E"}``).  Its full
stylesheet (``kxsj.render.mathengine.stylesheet``) holds such a rule for
every character of every TeX font, 2,296 rules and about 200 KB, while the
heaviest corpus post uses about 150.  So the stylesheet is cut in two when
the engine is built (``scripts/build_mathjax_bundle.sh``, ``split``):

* ``static/mathjax/kxsj-chtml.css``: every other rule (layout of the
  elements, fonts), the same for every page, fetched once for the site;
* ``kxsj/data/mathjax-chars.css``: the character rules, one a line, of
  which each page's head gets the ones its formulas use (``page_css``),
  and the fonts' ``@font-face`` rules again, from which a page's head
  preloads the fonts its formulas use (``page_fonts``).

Rules for MathJax's hidden MathML copy (``mjx-assistive-mml``) are left
out: build-time pages do not carry it (``scripts/mathjax_bundle/kxsj.js``).
Nothing here reads the output folder: the rules come from kxsj's own data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from markupsafe import Markup

CHARS = "mathjax-chars.css"
"""The character rules' file in ``kxsj/data``."""

# A rule: its body may hold braces in strings (the rule drawing "{" has content: "{").
_RULE = re.compile(r'([^{}]+)\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}')
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CODE = re.compile(r"\bmjx-c([0-9A-F]+)\b")
_VARIANT = re.compile(r"\.(TEX-[A-Z0-9]+)\b")
# What a rule needs besides its character: a font variant (``.TEX-I``) or a
# stretched delimiter's element (``mjx-stretchy-v.mjx-c28 …``).
_NEEDS = re.compile(r"\.(TEX-[A-Z0-9]+)\b|^(mjx-stretchy-[hv])\.")
# An element of the typeset output whose classes name a character (CHTML
# writes attributes with double quotes, "<" and ">" escaped in them, and
# not always the class first: <mjx-stretchy-v style="…" class="mjx-c7B">).
# Every element of it is an ``mjx-`` one: other tags are not looked into.
_CLASSES = re.compile(r'<(mjx-[a-z-]+)\b[^>]*?\sclass="([^"]*\bmjx-c[0-9A-F]+\b[^"]*)"')


def _compact(selector: str, body: str) -> str:
    # Each declaration is on a line of its own in MathJax's text; strings
    # (content: " ") never span lines, so only the lines' ends are trimmed.
    lines = (line.strip() for line in body.splitlines())
    return selector.strip() + "{" + "".join(line for line in lines if line) + "}"


def split(css: str) -> tuple[str, str]:
    """MathJax's full CHTML stylesheet as (the site's stylesheet, the character rules one a line)."""
    site, chars = [], []
    for m in _RULE.finditer(_COMMENT.sub("", css)):
        selector, body = m.group(1), m.group(2)
        if "mjx-assistive-mml" in selector:
            continue
        rule = _compact(selector, body)
        (chars if _CODE.search(selector) else site).append(rule)
        if selector.strip() == "@font-face":  # also where page_fonts looks them up
            chars.append(rule)
    return "\n".join(site) + "\n", "\n".join(chars) + "\n"


_FONT_FACE = re.compile(r'^@font-face\{font-family: ([\w-]+);src: url\("([^"]+)"\)', re.M)


@lru_cache(maxsize=1)
def _chars_text() -> str:
    """``kxsj/data/mathjax-chars.css``, read once."""
    return resources.files("kxsj").joinpath("data", CHARS).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _fonts() -> dict[str, str]:
    """Font family -> its file, relative to the stylesheet's folder."""
    return dict(_FONT_FACE.findall(_chars_text()))


def page_fonts(html: str) -> list[str]:
    """The font files the typeset formulas in ``html`` draw with, for ``<link rel="preload">``.

    Found by the page's markup, not by layout: MathJax's zero-width font
    and its main font for every formula, and one font for each variant
    class used (``TEX-I`` -> ``MJXTEX-I``).  Without preloading, a font is
    requested only once the page is laid out, and its arrival lays the
    whole page out again.  Stretched delimiters' fonts are left to load as
    needed (their font list is long, and most pages have none).
    """
    if "<mjx-container" not in html:
        return []
    families = ["MJXZERO", "MJXTEX"] + sorted({"MJX" + v for v in re.findall(r'class="[^"]*\b(TEX-[A-Z0-9]+)\b', html)})
    fonts = _fonts()
    return [fonts[f] for f in families if f in fonts]


@lru_cache(maxsize=1)
def _char_rules() -> tuple[tuple[str, str | None, str], ...]:
    """(code point, what else it needs or None, rule) of every character rule, in the stylesheet's order."""
    text = _chars_text()
    rules = []
    for line in text.splitlines():
        code = _CODE.search(line)
        if code:
            need = _NEEDS.search(line.split("{", 1)[0])
            rules.append((code.group(1), need and (need.group(1) or need.group(2)), line))
    return tuple(rules)


def page_css(html: str) -> Markup:
    """The character rules the typeset formulas in ``html`` use (for a ``<style>`` in its head).

    A rule is kept when its character is used; one for a font variant
    (``.TEX-I``) only when that character is used in that variant, one for
    a stretched delimiter (``mjx-stretchy-v``) only when that character is
    stretched so.  Over-keeping costs bytes only; under-keeping would draw
    nothing, so every rule that can apply to the page is kept.
    """
    codes: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for tag, classes in set(_CLASSES.findall(html)):  # a page repeats few of them many times
        names = classes.split()
        used = [n[5:] for n in names if _CODE.fullmatch(n)]
        codes.update(used)
        needs = [n for n in names if n.startswith("TEX-")] + [tag]
        pairs.update((c, n) for c in used for n in needs)
    kept = [rule for code, need, rule in _char_rules() if code in codes and (need is None or (code, need) in pairs)]
    return Markup("\n".join(kept))

