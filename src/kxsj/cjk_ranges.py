"""CJK character ranges: the one definition, as regex character-class text.

Each is a string to put inside ``[…]``; the users combine them for what they
ask:

* Han ideographs (``HAN``): the search terms (and ``static/js/search-query.js``,
  which must read queries the same way; a test compares them), slugs;
* characters read one at a time (``HAN + KANA + HANGUL``): reading time;
* text written without spaces between words (``HAN + KANA + PUNCTUATION``):
  a line break between two such characters is a wrap, not a space
  (``kxsj.render.cjk``), and a dump line holding one is prose, not code.
  Hangul is not in it: Korean puts spaces between words.
"""

from __future__ import annotations

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
"""Extension A, the Unified Ideographs, the Compatibility Ideographs, and all
of planes 2 and 3, which Unicode gives to ideographs only (Extensions B to J
and the compatibility supplement), so a new extension needs no edit here."""

KANA = "\u3040-\u30ff"
"""Hiragana and Katakana."""

HANGUL = "\uac00-\ud7af"
"""Hangul syllables."""

SYMBOLS = "\u3000-\u303f"
"""CJK Symbols and Punctuation: the ideographic space, 、。「」《》 and the like."""

FULLWIDTH_PUNCTUATION = "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
"""The punctuation of Halfwidth and Fullwidth Forms (，：？（）…), not its letters and digits."""

PUNCTUATION = SYMBOLS + "\ufe30-\ufe4f\uff00-\uffef"
"""What goes with CJK text besides its letters: CJK symbols, the vertical
compatibility forms and the whole Halfwidth and Fullwidth Forms block
(fullwidth letters and digits included)."""
