"""Display math inside a block another extension claims (``<dd>``, a footnote).

The display-math processor runs before the processors that claim a block by
its first lines, and leaves such a block to them (they parse their content
again, and the formula is found there).  Which processors those are comes
from the Markdown instance's registry, so an extension switched on later
(``def_list`` here, not in the site's own set) is deferred to as well.
"""

from __future__ import annotations

from html.parser import HTMLParser

import markdown

from kxsj.render.markdown import _extensions


def _render(text: str, *more: str) -> str:
    extensions, configs = _extensions()
    md = markdown.Markdown(extensions=[*extensions, *more], extension_configs=configs, output_format="html")
    return md.convert(text)


class _Where(HTMLParser):
    """The open elements around each math ``<div>``."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.math_in: list[tuple[str, ...]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "div" and ("class", "arithmatex") in attrs:
            self.math_in.append(tuple(self.stack))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass


def _math_in(html: str) -> list[tuple[str, ...]]:
    where = _Where()
    where.feed(html)
    return where.math_in


def test_display_math_in_a_definition_stays_in_its_dd():
    html = _render("术语\n:   定义为 $$x^2 + 1$$ 之后的话\n", "def_list")
    assert "<dt>术语</dt>" in html, html
    assert [w[-1] for w in _math_in(html)] == ["dd"], html
    assert ":" not in html.replace("</", "<"), html  # no ":" left as paragraph text


def test_display_math_in_a_footnote_stays_in_the_footnote():
    html = _render("正文[^1]\n\n[^1]: 见 $$\\int_0^1 f$$ 一式\n")
    assert "[^1]" not in html, html
    where = _math_in(html)
    assert len(where) == 1 and "li" in where[0], html


def test_display_math_in_a_list_item_and_a_quote_as_before():
    html = _render("- 项 $$a$$ 尾\n\n> 引 $$b$$ 尾\n")
    assert [w[-1] for w in _math_in(html)] == ["li", "blockquote"], html
