"""The feed's bodies with their formulas as MathML, answered from the store's ``feed`` namespace.

``feed.xml`` carries each of the newest posts' bodies with its formulas as
MathML (``kxsj.render.mathbuild.feed_body``: MathJax in V8).  Starting V8
and converting the feed's bodies costs more than the rest of a build after
one of those posts is edited, and ``kxsj serve`` paid it at every save of a
recent post.  ``FeedBodies`` keeps each result by the body's HTML (the
namespace hashes it) under a key of kxsj's code, which includes the
engine's bundle (``kxsj.incremental.keys``): a body converted before is
not converted again, and V8 is started only for a body that is new.

A body ``feed_body`` gives back unchanged (no formula, or the engine could
not start) is not kept: it is cheap, or worth trying again.  The namespace
is opened on the first body asked for; a build whose feed is not
rendered again carries the last build's entries over unread
(``keep_unasked``), so the next edit of a recent post finds them.
"""

from __future__ import annotations

from typing import Optional

from kxsj.incremental.keys import make_key
from kxsj.incremental.store import Namespace, Store

SHARDS = 16
"""The feed holds a few dozen bodies: a few files are plenty."""


class FeedBodies:
    """``kxsj.render.mathbuild.feed_body`` through the store (on disk for ``kxsj build``, in memory for ``kxsj serve``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._space: Optional[Namespace] = None
        self._closed = False

    def _open(self) -> Namespace:
        if self._space is None:
            self._space = self.store.namespace("feed", make_key("feed"), shards=SHARDS)
        return self._space

    def __call__(self, body: str) -> str:
        from kxsj.render.mathbuild import feed_body

        self._open()
        kept = self._space.get(body)
        if kept is not None:
            return kept
        made = feed_body(body)
        if made is not body:
            self._space.put(body, made)
        return made

    def keep_unasked(self) -> None:
        """Before saving: a build that did not render the feed again keeps the last one's bodies."""
        if self._space is None and not self._closed:
            self._open().keep_all()

    def keep_none(self) -> None:
        """Save nothing of this build's (a ``--drafts`` build, whose feed may show a draft)."""
        self._closed = True
        self.store.close("feed")
