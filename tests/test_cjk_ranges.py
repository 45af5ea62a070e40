"""``kxsj.cjk_ranges``, the one definition of CJK character ranges, and what it fixed.

Before, four copies disagreed about the ideographs of planes 2 and 3: the
reading time stopped at Extension F (U+2EBEF), the search terms and the line
join at Extension G (U+3134F), the dump reader at the Unified block, so a
character of Extension H (U+31350…) was searched as a Latin word and a dump
line of kana looked like code.
"""

from __future__ import annotations

import re
from pathlib import Path

from kxsj.cjk_ranges import HAN
from kxsj.enrich.reading import text_counts
from kxsj.load.dumptext import CJK
from kxsj.render.markdown import BodyRenderer
from kxsj.write.search_terms import han_terms

REPO = Path(__file__).resolve().parent.parent
EXT_G = "\U00030000"
EXT_H = "\U00031350"


def _js_class(source: str) -> str:
    """The characters a JS regex class text stands for (``\\uXXXX``, ``\\u{X}``, ranges)."""
    return re.sub(r"\\u\{([0-9a-fA-F]+)\}|\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1) or m.group(2), 16)), source)


def test_search_query_js_reads_han_as_the_index_does():
    js = (REPO / "static" / "js" / "search-query.js").read_text(encoding="utf-8")
    m = re.search(r"const HAN_RUN = /\[(.*?)\]\+/gu;", js)
    assert m, "HAN_RUN not found in search-query.js"
    assert _js_class(m.group(1)) == HAN


def test_every_extension_is_han_for_search_and_reading():
    for char in ("中", "\u3400", "\U00020000", EXT_G, EXT_H):
        assert han_terms(char + char, "kx")[:1], hex(ord(char))
        assert text_counts(char * 3)[0] == 3, hex(ord(char))


def test_a_wrapped_line_after_an_extension_h_character_is_joined():
    html = BodyRenderer().render(f"甲{EXT_H}\n乙").html
    assert f"甲{EXT_H}乙" in html


def test_a_dump_line_of_kana_or_rare_han_is_prose():
    assert CJK.search("カタカナ = 1;")
    assert CJK.search(f"x = {EXT_G}")
