"""The related-posts memo: ``assign_related``'s last answer and what it was computed from."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from kxsj.model import Post


class RelatedMemo:
    """The last answer of ``assign_related`` and what it was computed from.

    Related posts follow from every post's URL, title, date and tags only;
    after an edit of a body (the common case, in ``kxsj serve`` after every
    save and in a build after one edit) none of those changed, and the last
    answer still holds.  ``kxsj build`` keeps it in the output's cache
    (``load``/``save``) as JSON sealed with the cache key
    (``kxsj.incremental.sealed``): a file that does not verify is ignored and the
    answer computed again.  ``kxsj serve`` keeps one in memory.
    """

    LABEL = "related"

    def __init__(self) -> None:
        self.key: Optional[str] = None
        self.related: list[list[tuple[str, str]]] = []
        self.drafts = False
        """Whether the answer is about drafts too: then it is not saved (caches hold no drafts)."""

    @staticmethod
    def key_of(posts: list["Post"], limit: int) -> str:
        """A digest of everything the answer follows from."""
        data = [limit, [(p.url, p.title, p.date.iso(), p.tags, p.series.name if p.series else None) for p in posts]]
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def load(cls, path: Path) -> "RelatedMemo":
        from kxsj.incremental.sealed import read_sealed

        memo = cls()
        payload = read_sealed(path, cls.LABEL)
        try:
            key, related = json.loads(bytes(payload).decode("utf-8", "surrogatepass")) if payload is not None else (None, [])
            if isinstance(key, str) and isinstance(related, list):
                memo.key = key
                memo.related = [[(str(url), str(title)) for url, title in refs] for refs in related]
        except (ValueError, TypeError):  # damaged: computed again
            memo.key, memo.related = None, []
        return memo

    def save(self, path: Path) -> None:
        from kxsj.incremental.store import _write_atomic
        from kxsj.incremental.sealed import seal

        if self.drafts or self.key is None:
            return
        data = json.dumps([self.key, self.related], ensure_ascii=False).encode("utf-8", "surrogatepass")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(path, seal(self.LABEL, data))
        except OSError:
            pass
