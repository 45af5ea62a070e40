"""Pages of the previous build reused when nothing they show has changed.

After one post is edited, the next build must still produce all of the
archive's pages, but only a handful differ: the post itself, its
neighbours, the list pages showing it, the feed.  ``PageStore`` is
``render_site``'s page memo for ``kxsj build``: it gives every page a *key*,
a digest of everything its HTML is made from, and when the previous output
holds a page made under the same key, that file is reused (hard-linked into
the new output by the writer) instead of going through Jinja again.

What a key covers, so that a reused page is always the page Jinja would make:

* the page's site path, template name and context (``render_site`` passes
  the context; posts and rendered posts in it count by a digest of all
  their fields, bodies and excerpts included; a rendered post whose HTML
  has not been made counts by its ``key``, the digest of that HTML's facts,
  see ``kxsj.enrich.links.LinkedHtml``);
* the *site key*: kxsj's code (every module), the versions of Python,
  Jinja and MarkupSafe, every template file of the site and of kxsj, the
  configuration, and the names of all tags, categories and series (every
  page links them, and they decide their URLs).  Any change there changes
  every key: a full re-render.

The keys of the last build are kept in ``OUT/.kxsj-cache/pages.json`` with
each file's size, modification and change times and inode as the committed
output holds them, sealed with the cache key (``kxsj.incremental.sealed``, the
key is not in the output).  A file written since (edited by hand, even
keeping its size and modification time: the change time cannot be set
back), or put back from an archive (a new inode), no longer matches and is
rendered again; a missing, unreadable, edited or forged manifest just means
every page is rendered.  Pickle and marshal serve here only to *hash* a context into
bytes; nothing is ever loaded with them.
"""

from __future__ import annotations

import hashlib
import io
import json
import marshal
import os
import pickle
import struct
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Union

from kxsj.assets import asset_dirs
from kxsj.config import Config
from kxsj.model import Post
from kxsj.incremental.keys import TEMPLATE_LIBRARIES, make_key
from kxsj.incremental.store import CACHE_DIR, TextDigests, _write_atomic
from kxsj.render.pages import RenderedPost, Reused
from kxsj.incremental.sealed import read_sealed, seal
from kxsj.write.output import page_rel

MANIFEST = "pages.json"
LABEL = "pages"
VERSION = 5


def _digest(*parts: bytes) -> bytes:
    """SHA-256 of ``parts``, told apart by their count and lengths (one hash call: 2,600 pages ask)."""
    head = struct.pack(f"<Q{len(parts)}Q", len(parts), *map(len, parts))
    # SHA-256 rather than BLAKE2b: faster where the CPU has SHA extensions (benchmarks/README.md, "Measured costs").
    return hashlib.sha256(head + b"".join(parts)).digest()


def _plain_pickle(value: Any) -> bytes:
    """``value`` pickled without the memo, so equal data always gives equal bytes."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    pickler.fast = True  # no back-references: identity of equal strings cannot change the bytes
    pickler.dump(value)
    return buf.getvalue()


def site_key(config: Config, root: Optional[Path], names: Iterable[Iterable[str]]) -> bytes:
    """The digest of what every page depends on besides its own context."""
    parts = [
        make_key("pages", f"version={VERSION}", libraries=TEMPLATE_LIBRARIES, length=64).encode(),
        _plain_pickle(config),
        _plain_pickle([sorted(set(group)) for group in names]),
    ]
    for folder in asset_dirs("templates", root):
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            parts.append(path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape"))
            parts.append(path.read_bytes())
    return _digest(*parts)


class _ContextPickler(pickle.Pickler):
    """Pickles a page context, writing each post or rendered post as its (cached) digest."""

    def __init__(self, file, store: "PageStore"):
        super().__init__(file, protocol=5)
        self.fast = True
        self.store = store

    def persistent_id(self, obj: Any) -> Optional[bytes]:
        if isinstance(obj, (Post, RenderedPost)):
            return self.store.object_digest(obj)
        return None


class PageStore:
    """``render_site``'s ``memo`` for ``kxsj build``: see the module docstring."""

    def __init__(self, out_dir: Path, key: bytes, digests: Optional[TextDigests] = None):
        self.out_dir = Path(out_dir)
        self._texts = digests or TextDigests()
        self._out = os.path.abspath(out_dir)
        self.key = key.hex()
        self._old: dict[str, list] = {}
        self._new: dict[str, str] = {}
        self._digests: dict[int, tuple[Any, bytes]] = {}
        self._lists: dict[tuple[int, ...], bytes] = {}
        """A list of posts (their ids, in order) -> its posts' digests, joined."""
        self.reused = 0
        self.rendered = 0
        payload = read_sealed(self.out_dir / CACHE_DIR / MANIFEST, LABEL)
        try:
            saved = json.loads(bytes(payload)) if payload is not None else {}
            if saved.get("version") == VERSION and saved.get("site") == self.key:
                self._old = dict(saved["pages"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self._old = {}

    def object_digest(self, obj: Any) -> bytes:
        """A post's digest (all fields), or a rendered post's (its post's, body and excerpt)."""
        kept = self._digests.get(id(obj))
        if kept is not None and kept[0] is obj:
            return kept[1]
        if isinstance(obj, Post):
            # Body and excerpt by their digests, which the render caches have made already.
            state = dict(vars(obj), body=self._texts(obj.body), excerpt=self._texts(obj.excerpt))
            digest = _digest(b"post", _plain_pickle(state))
        elif obj.key is not None:  # its HTML not made yet: the renderer's digest of it (``RenderedPost.later``)
            digest = _digest(b"rendered-later", self.object_digest(obj.post), obj.key)
        else:
            digest = _digest(
                b"rendered", self.object_digest(obj.post), obj.body.encode("utf-8", "surrogatepass"),
                obj.excerpt.encode("utf-8", "surrogatepass"),
            )
        self._digests[id(obj)] = (obj, digest)  # the object is held, so its id is not reused
        return digest

    def page_key(self, path: str, template: str, context: dict) -> str:
        parts = [self.key.encode(), path.encode("utf-8", "surrogateescape"), template.encode()]
        for name, value in sorted(context.items()):
            parts.append(name.encode())
            parts.append(self._value_bytes(value))
        return _digest(*parts).hex()

    def _value_bytes(self, value: Any) -> bytes:
        """One context value as bytes that differ whenever the value does.

        The usual values (a post, a list of posts, None, a string) are spelled
        out directly; anything else is pickled with posts as their digests.
        The first byte names the spelling, so two spellings never meet.
        """
        kind = type(value)
        if kind is RenderedPost or kind is Post:
            return b"o" + self.object_digest(value)
        if value is None:
            return b"n"
        if kind is str:
            return b"s" + value.encode("utf-8", "surrogatepass")
        if kind is list and all(type(item) is RenderedPost for item in value):  # a list page's posts: fixed-size digests
            # The same posts in the same order (a series' list, on each of its
            # posts' pages) are joined once: ``object_digest`` holds every
            # post it saw, so their ids name them for the whole build.
            ids = tuple(map(id, value))
            joined = self._lists.get(ids)
            if joined is None:
                joined = self._lists[ids] = b"".join([self.object_digest(item) for item in value])
            return b"l" + joined
        try:  # plain data (a pager): marshal's version 2 has no back-references, so the same data is the same bytes
            return b"m" + marshal.dumps(value, 2)
        except ValueError:  # holds posts, or objects marshal does not know
            pass
        buf = io.BytesIO()
        _ContextPickler(buf, self).dump(value)
        return b"p" + buf.getvalue()

    def __call__(self, path: str, template: str, context: dict, make: Callable[[], bytes]) -> Union[bytes, Reused]:
        key = self.page_key(path, template, context)
        self._new[path] = key
        old = self._old.get(path)
        if old is not None and old[0] == key:
            file = os.path.join(self._out, page_rel(path))
            try:
                st = os.lstat(file)
            except OSError:
                st = None
            if st is not None and [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino] == old[1:]:
                self.reused += 1
                return Reused(file)
        self.rendered += 1
        return make()

    def save(self, out_dir: Path, listing: dict[str, list[int]]) -> None:
        """Record this build's keys with the files as the committed output holds them.

        ``listing`` is ``files_below`` of the output with each file's
        ``[size, mtime_ns, ctime_ns, inode]``: a file written since, or one
        put back from an archive (a new inode and change time, whatever
        its size and modification time), no longer matches.
        """
        pages = {}
        for path, key in self._new.items():
            st = listing.get(page_rel(path))
            if st is not None:
                pages[path] = [key, *st]
        data = {"version": VERSION, "site": self.key, "pages": pages}
        try:
            (Path(out_dir) / CACHE_DIR).mkdir(parents=True, exist_ok=True)
            _write_atomic(Path(out_dir) / CACHE_DIR / MANIFEST, seal(LABEL, json.dumps(data, ensure_ascii=False).encode("utf-8")))
        except OSError:
            pass
