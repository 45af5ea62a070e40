"""Whether making a page read anything of one post that its text decides.

A page showing a post may read only its title, URL and date (a
neighbour's "next post" link, the year's list of titles).  Such a page
is the same after any save that changes the post's text alone, so the
dev server need not make it again (``kxsj.incremental.serve_pages``).

``watched(post, rendered)`` gives stand-ins for a post and its
``RenderedPost``: equal in every value, but each attribute read on them,
by a template or by any function it calls, is written down.  Everything
a page reads of the post passes through such a read (a value must be
fetched before it can be printed, compared or tested), so a page made
with the stand-ins whose reads are all in ``NOT_TEXT`` did not depend on
the text.  Anything else read, a method, ``__dict__`` or ``__class__``
included, counts as reading the text.
"""

from __future__ import annotations

import dataclasses

from kxsj.model import Post
from kxsj.render.rendered import RenderedPost

_READS: dict[int, set[str]] = {}
"""id of a live stand-in -> the attribute names read on it."""


def not_text(blind_fields: tuple[str, ...]) -> frozenset[str]:
    """What a page may read of a post and its ``RenderedPost`` without reading the text."""
    fields = {f.name for f in dataclasses.fields(Post)} - set(blind_fields)
    return frozenset(fields | {"post", "path"})


class _Watched:
    __slots__ = ()

    def __getattribute__(self, name: str):
        reads = _READS.get(id(self))
        if reads is not None:
            reads.add(name)
        return super().__getattribute__(name)


class _WatchedPost(_Watched, Post):
    pass


class _WatchedRendered(_Watched, RenderedPost):
    __slots__ = ()


class Watch:
    """Stand-ins for one page's making; ``reads`` once it is made, ``close()`` after."""

    def __init__(self, post: Post, rendered: RenderedPost):
        stand_in = object.__new__(_WatchedPost)
        object.__getattribute__(stand_in, "__dict__").update(vars(post))
        self.post = stand_in
        self.rendered = _WatchedRendered(stand_in, rendered.body, rendered.excerpt)
        self._reads: set[str] = set()
        _READS[id(self.post)] = _READS[id(self.rendered)] = self._reads

    @property
    def reads(self) -> frozenset[str]:
        return frozenset(self._reads)

    def close(self) -> None:
        _READS.pop(id(self.post), None)
        _READS.pop(id(self.rendered), None)
