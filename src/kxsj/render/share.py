"""What a shared link, a search engine or a reference manager reads from a post's head.

``post_share(rp, config)`` gives a post's description (its ``summary``, or
the first sentences of its excerpt as plain text), its canonical address
and the JSON-LD ``BlogPosting`` that ``templates/_head_meta.html`` prints
next to the Open Graph and Twitter card tags.

The description is plain text: markup dropped, inline math kept as the TeX
the author wrote (``$\\alpha$``), display math left out (a block of TeX in a
link preview helps nobody).  JSON-LD sits in a ``<script>`` element, so the
JSON is written with ``<``, ``>`` and ``&`` escaped: a title holding
``</script>`` stays a string.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any, Optional

from markupsafe import Markup

from kxsj.config import Config

DESCRIPTION_CHARS = 120
"""About how long a description is (CJK characters count one each)."""
SUMMARY_CHARS = 300
"""A ``summary`` the author wrote is kept whole up to this length."""

_SENTENCE_END = "。！？!?；"
_SKIP = {"script", "style", "template"}
_VOID = {"br", "img", "hr", "input", "meta", "link", "wbr", "source", "col", "area"}
_BLOCKS = {"p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "tr", "br", "table", "ul", "ol"}


class _Text(HTMLParser):
    """The reading text of a piece of rendered HTML, math as ``$TeX$``, display math dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[str] = []  # open elements whose text is skipped or is math
        self.math: Optional[list[str]] = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        footnote = (tag == "sup" and (attrs.get("id") or "").startswith("fnref")) or "footnote" in classes
        if self.stack or tag in _SKIP or footnote or (tag == "div" and "arithmatex" in classes):
            if tag not in _VOID:
                self.stack.append(tag)
            return
        if tag == "span" and "arithmatex" in classes:
            self.stack.append(tag)
            self.math = []
            return
        if tag in _BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            if tag in self.stack:  # an end tag that skips open ones closes them too
                del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]
            if not self.stack and self.math is not None:
                tex = "".join(self.math).strip()
                tex = re.sub(r"^\\\((.*)\\\)$", r"\1", tex, flags=re.S).strip()
                if tex:
                    self.out.append(f"${tex}$")
                self.math = None
            return
        if tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.math is not None:
            self.math.append(data)
        elif not self.stack:
            self.out.append(data)


_CHUNK = 4096
"""Characters of HTML read at a time by ``plain_text`` when it needs only the start of the text."""


def plain_text(html: str, enough: Optional[int] = None) -> str:
    """``html`` as one line of text: paragraphs joined, runs of white space made one space.

    With ``enough``, reading may stop once the text is longer than that: the
    result then starts with the first ``enough`` characters of the whole
    text (``shorten`` needs no more), without parsing all of a long post.
    """
    parser = _Text()
    step = _CHUNK if enough else max(len(html), 1)
    for start in range(0, len(html), step):
        parser.feed(html[start : start + step])
        if enough and sum(map(len, parser.out)) > enough:
            text = _one_line(parser.out)
            if len(text) > enough:  # the text of the rest can only follow this
                return text
    parser.close()
    return _one_line(parser.out)


def _one_line(pieces: list[str]) -> str:
    paragraphs = [" ".join(part.split()) for part in "".join(pieces).split("\n")]
    return " ".join(p for p in paragraphs if p)


def shorten(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """``text`` cut to about ``limit`` characters: at a sentence end past half of it when
    there is one, else at ``limit`` with ``…``; never inside a ``$…$`` formula."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = [i for i, ch in enumerate(head) if ch in _SENTENCE_END and head[: i + 1].count("$") % 2 == 0]
    if ends and ends[-1] + 1 >= limit // 2:
        return head[: ends[-1] + 1]
    if head.count("$") % 2:  # the cut falls inside a formula: stop before it
        head = head[: head.rfind("$")]
    return head.rstrip(" ，,、：:") + "…"


def post_description(rp) -> str:
    """The post's ``summary``, else the first sentences of its excerpt (or body)."""
    post = rp.post
    limit = SUMMARY_CHARS if post.summary and post.summary.strip() else DESCRIPTION_CHARS
    text = plain_text(rp.excerpt if post.excerpt else rp.body, enough=limit + 1)  # the excerpt is the summary, when there is one
    return shorten(text, limit)


def json_ld(data: dict) -> Markup:
    """``data`` as JSON safe inside ``<script type="application/ld+json">``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)


def blog_posting(rp, config: Config, url: str, description: str) -> dict[str, Any]:
    """schema.org ``BlogPosting`` for the post at absolute (or root-relative) ``url``.

    Posts carry no modification date (front matter's ``updated`` is not
    read), so there is no ``dateModified``; ``datePublished`` only when the
    year is known.  The original post (``Post.original_url``, kexue.fm's
    address) is both ``isBasedOn`` and ``sameAs``."""
    post = rp.post
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "inLanguage": config.language,
    }
    if description:
        data["description"] = description
    author = post.author or config.author
    if author:
        data["author"] = {"@type": "Person", "name": author}
    if post.date.known:
        data["datePublished"] = post.date.iso()
    if post.tags:
        data["keywords"] = ", ".join(post.tags)
    if post.categories:
        data["articleSection"] = post.categories[0]
    if post.original_url:
        data["isBasedOn"] = post.original_url
        data["sameAs"] = post.original_url
    data["publisher"] = {"@type": "Organization", "name": config.title}
    return data


def post_share(rp, config: Config, absolute, description: Optional[str] = None) -> dict[str, Any]:
    """Everything ``_head_meta.html`` prints for a post: ``description``, ``url``
    (absolute under ``base_url``, else root-relative) and ``json_ld``.

    ``description``, when given, is the page's (its ``description`` block,
    rendered: a ``Markup`` is unescaped to its text), so a template that
    overrides the block changes the JSON-LD too, and it is not made twice."""
    url = absolute(rp.post.url)
    if description is None:
        description = post_description(rp)
    elif isinstance(description, Markup):
        description = description.unescape()
    return {"description": description, "url": url, "json_ld": json_ld(blog_posting(rp, config, url, description))}
