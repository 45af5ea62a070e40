"""The Atom 1.0 feed (``/feed.xml``) of the newest posts.

Atom wants absolute IRIs: with ``base_url`` set every link and id is
absolute.  Without it the links are root-relative (all ``kxsj serve`` can
offer) and the ids are ``tag:`` URIs, which are valid without a host; the
feed says so in a comment.  Posts whose year is unknown have no date Atom
could carry, so they are left out of the feed (they are on the site).
Entry content is the rendered body as escaped HTML, with ``xml:base`` so
readers resolve the body's relative links against the post's address.
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

import jinja2

from kxsj.config import Config
from kxsj.model import PostDate
from kxsj.render.mathbuild import feed_body
from kxsj.render.mathengine import release
from kxsj.render.templates import absolute, quote_path

if TYPE_CHECKING:  # pages imports this module; avoid the cycle at run time
    from kxsj.render.pages import RenderedPost

EPOCH = "1970-01-01T00:00:00Z"


def atom_date(date: PostDate) -> str:
    """RFC 3339 midnight UTC: the posts only know their day."""
    return f"{date.iso()}T00:00:00Z"


def atom_id(config: Config, path: str) -> str:
    """A permanent id for a site path: its absolute URL, or a ``tag:`` URI without a base URL."""
    if config.base_url:
        return absolute(config, path)
    return "tag:kxsj,2024:" + quote_path(path)


# XML 1.0 forbids these characters outright (even escaped); a scraped post
# can hold one (the corpus has a stray backspace), and one would make the
# whole feed unreadable to every feed reader.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text)


def feed_entries(config: Config, posts: list["RenderedPost"]) -> list["RenderedPost"]:
    """Of ``posts`` (newest first), the ``config.feed_size`` newest dated ones: all the feed shows."""
    return [rp for rp in posts if rp.post.date.known][: config.feed_size]


def render_feed(env: jinja2.Environment, config: Config, entries: list["RenderedPost"]) -> bytes:
    """The feed of ``entries`` (``feed_entries``)."""
    updated = atom_date(entries[0].post.date) if entries else EPOCH
    xml = env.get_template("feed.xml").render(
        entries=entries,
        updated=updated,
        atom_date=atom_date,
        atom_id=lambda path: atom_id(config, path),
        feed_body=feed_body,  # formulas as MathML (kxsj.render.mathbuild)
    )
    release()  # no V8 thread left in this process: it may fork workers again
    return xml_safe(xml).encode("utf-8")
