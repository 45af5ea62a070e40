"""The store: results kept between builds, in namespaces.

Every cache of kxsj keeps text results by a hash of their input under a
key (``kxsj.incremental.keys``): rendered HTML, each HTML's facts, reading
counts, parse results.  A namespace is a folder of the output's cache,
``OUT/.kxsj-cache/<namespace>/<key>/``, read from the current output and
written into the new one before it is committed (``save_into``), so the
caches travel with the output; ``kxsj serve`` uses the same namespaces held
in memory (``folder=None``).

Why a stale or planted entry can never be served:

* The lookup key is the SHA-256 of the namespace key and the input's
  digest; another key is another folder, whose entries are never found and
  not carried into the next output.
* Entries live in shard files (by the first byte of their key), each
  written whole to a temporary file and renamed into place, so a crash
  leaves the old shard or the new one, never half of one.  A shard is
  plain records sealed with a keyed MAC (``kxsj.incremental.sealed``; the
  key is not in the output): a truncated, edited, forged or moved shard
  fails the check and is ignored (its entries are made again), never
  half-read, and nothing in it is ever run.
* Drafts are never kept (``leave_out``): a cache holds no text the site
  does not publish.

The store only ever saves work; deleting ``.kxsj-cache/`` is always safe.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union

from kxsj.incremental.sealed import pack_records, seal, unpack_records, unseal
from kxsj.write.output import try_link

CACHE_DIR = ".kxsj-cache"
"""The cache folder inside the output."""

def _decode_shard(data: bytes, label: str, lazy: bool = False) -> Optional[dict[bytes, Union[str, memoryview]]]:
    """The entries of one shard file, or None unless ``_encode_shard`` wrote it, as ``label``, with this cache key.

    ``lazy`` leaves each value as a view of its UTF-8 (``_text`` decodes
    it): a build reads whole shards but uses few of their entries.
    """
    payload = unseal(label, data)
    records = unpack_records(payload) if payload is not None else None
    if records is None or lazy:
        return records
    try:
        return {k: _text(v) for k, v in records.items()}
    except UnicodeDecodeError:
        return None


def _text(value: Union[str, memoryview]) -> str:
    return value if isinstance(value, str) else str(value, "utf-8", "surrogatepass")


def _encode_shard(entries: Mapping[bytes, Union[str, memoryview]], label: str) -> bytes:
    return seal(label, pack_records({k: v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v for k, v in entries.items()}))


class TextDigests:
    """Each text's SHA-256 (of its UTF-8), computed once however many times a build asks.

    The build hands the same body string to the reading counts, the facts
    and HTML caches and the page keys; each used to hash every body again.
    Kept by the text object,
    which is held so its ``id`` cannot be reused, for one build's life.
    """

    def __init__(self) -> None:
        self._kept: dict[int, tuple[str, bytes]] = {}

    def __call__(self, text: str) -> bytes:
        kept = self._kept.get(id(text))
        if kept is not None and kept[0] is text:
            return kept[1]
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        self._kept[id(text)] = (text, digest)
        return digest

    def seed(self, text: str, digest: bytes) -> None:
        """``text``'s digest as computed earlier, in a build that stored it with the text (the parse cache)."""
        self._kept[id(text)] = (text, digest)


class Namespace:
    """Text -> text results under one key, in ``folder/<key>/`` (``folder=None``: in memory only).

    ``get`` and ``put`` work in memory; ``save`` writes the shards that
    changed.  Not shared between processes: the build's main process owns
    it, and workers only render.
    """

    def __init__(
        self, folder: Optional[Path], key: str, name: Optional[str] = None, shards: int = 256,
        digests: Optional[TextDigests] = None,
    ):
        self.folder = Path(folder) if folder is not None else None
        self._key = key.encode() + b"\0"
        """Hashed with each text's digest: entries made under another key are never found."""
        self._digests = digests or TextDigests()
        self.name = name or key
        self.dir = self.folder / self.name if self.folder is not None else None
        self.shards = shards
        """Entries are spread over this many files (at most 256) by their hash's first byte."""
        self._shards: dict[int, dict[bytes, Union[str, memoryview]]] = {}
        self._dirty: set[int] = set()
        self._used: dict[int, set[bytes]] = {}
        self.hits = 0
        self.misses = 0

    def _label(self, n: int) -> str:
        """What a shard file is sealed as: cache, key folder and shard (``html/<key>/0a``), so it verifies nowhere else."""
        return f"{self.folder.name if self.folder else ''}/{self.name}/{n:02x}"

    def _id(self, text: str) -> bytes:
        return hashlib.sha256(self._key + self._digests(text)).digest()

    def _shard(self, n: int) -> dict[bytes, Union[str, memoryview]]:
        shard = self._shards.get(n)
        if shard is None:
            try:
                data = (self.dir / f"{n:02x}.bin").read_bytes() if self.dir is not None else b""
            except OSError:
                data = b""
            shard = _decode_shard(data, self._label(n), lazy=True) if data else None
            if shard is None:
                shard = {}
                if data:  # corrupt: rewrite it at the next save
                    self._dirty.add(n)
            self._shards[n] = shard
        return shard

    def get(self, text: str) -> Optional[str]:
        ident = self._id(text)
        n = ident[0] % self.shards
        kept = self._shard(n).get(ident)
        self._used.setdefault(n, set()).add(ident)
        html = None
        if kept is not None:
            try:
                html = self._shards[n][ident] = _text(kept)
            except UnicodeDecodeError:  # not what this cache writes: made again
                del self._shards[n][ident]
        if html is None:
            self.misses += 1
        else:
            self.hits += 1
        return html

    def digest(self, text: str) -> bytes:
        """``text``'s SHA-256, as this namespace names it (``peek`` finds its entry by it)."""
        return self._digests(text)

    def peek(self, digest: bytes) -> Optional[str]:
        """The entry of the text whose ``digest`` this is, not counted as used: an edited post's old HTML."""
        ident = hashlib.sha256(self._key + digest).digest()
        kept = self._shard(ident[0] % self.shards).get(ident)
        try:
            return _text(kept) if kept is not None else None
        except UnicodeDecodeError:
            return None

    def touch(self, text: str) -> None:
        """Count ``text`` as used by this build (``save_into`` keeps it) without reading its shard."""
        ident = self._id(text)
        self._used.setdefault(ident[0] % self.shards, set()).add(ident)

    def put(self, text: str, html: str) -> None:
        ident = self._id(text)
        n = ident[0] % self.shards
        shard = self._shard(n)
        self._used.setdefault(n, set()).add(ident)
        kept = shard.get(ident)  # a str, or the UTF-8 view of an entry read and not yet used
        if kept is None or kept != (html if isinstance(kept, str) else html.encode("utf-8", "surrogatepass")):
            shard[ident] = html
            self._dirty.add(n)

    def keep_all(self) -> None:
        """Carry every shard of the current output over whole, unread (``save_into`` links a shard it never read)."""
        if self.dir is None or not self.dir.is_dir():
            return
        for n in range(self.shards):
            if n not in self._shards and (self.dir / f"{n:02x}.bin").is_file():
                self._used.setdefault(n, set())

    def leave_out(self, texts: Iterable[str]) -> None:
        """Keep none of ``texts`` (a ``--drafts`` build's drafts): they are not saved, and their shards are rewritten."""
        for text in texts:
            ident = self._id(text)
            n = ident[0] % self.shards
            self._used.get(n, set()).discard(ident)
            if self._shard(n).pop(ident, None) is not None:
                self._dirty.add(n)

    def save(self, drop_unused: bool = True) -> None:
        """Write every changed shard atomically; with ``drop_unused``, entries this build never asked for go.

        Dropping them keeps the cache the size of the site: an edited post's
        old HTML is not kept forever.  Errors writing are ignored: the cache
        only saves time, and the site was already built.
        """
        if self.dir is None:
            return
        todo = set(self._dirty)
        if drop_unused:
            for path in self.dir.glob("*.bin") if self.dir.is_dir() else ():
                if len(path.stem) == 2 and all(c in "0123456789abcdef" for c in path.stem) and int(path.stem, 16) < self.shards:
                    self._shard(int(path.stem, 16))  # a shard this build never read may hold only stale entries
            for n, shard in self._shards.items():
                used = self._used.get(n, set())
                stale = [k for k in shard if k not in used]
                for k in stale:
                    del shard[k]
                if stale:
                    todo.add(n)
        if not todo:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            for n in sorted(todo):
                _write_atomic(self.dir / f"{n:02x}.bin", _encode_shard(self._shards[n], self._label(n)))
        except OSError:
            return
        self._dirty.clear()

    def save_into(self, folder: Path) -> None:
        """Write the entries this build used into ``folder/<key>/`` (the new output's cache).

        The build writes its output into a fresh folder and swaps it in, so
        the cache travels with it: read from the old output, written into the
        new one.
        Entries the build did not use, and other renderer keys, are left behind,
        except in a shard this build never read (its entries were only
        ``touch``-ed): that one is carried over whole, as reading it just to
        drop an edited post's old HTML would cost more than keeping it.
        """
        if self.dir is None:
            return
        target = Path(folder) / self.name
        try:
            target.mkdir(parents=True, exist_ok=True)
            for n, used in sorted(self._used.items()):
                name = f"{n:02x}.bin"
                if n not in self._shards and try_link(self.dir / name, target / name):
                    continue
                whole = self._shard(n)
                if n not in self._dirty and whole and whole.keys() <= used and try_link(self.dir / name, target / name):
                    continue  # every entry of the old shard used, none added: the same bytes
                shard = {k: v for k, v in whole.items() if k in used}
                if shard:
                    _write_atomic(target / name, _encode_shard(shard, self._label(n)))
        except OSError:
            return


    def forget_unused(self) -> None:
        """End of a build held in memory (``kxsj serve``): keep only what it used, for the next one.

        A build that did not ask this namespace at all (a save that changed
        one body reads no reading counts) leaves it as it was.
        """
        if not self._used:
            return
        for n, shard in self._shards.items():
            used = self._used.get(n, set())
            for k in [k for k in shard if k not in used]:
                del shard[k]
        self._used = {}

    def prune(self) -> None:
        """Remove the folders of other renderer keys: their entries can never be used again."""
        if self.folder is None or not self.folder.is_dir():
            return
        for child in self.folder.iterdir():
            if child.is_dir() and child.name != self.dir.name:
                shutil.rmtree(child, ignore_errors=True)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Store:
    """The namespaces of one build, read from the current output (``out_dir``) or held in memory (None).

    ``namespace(name, key)`` is ``OUT/.kxsj-cache/<name>/<key>/``; the
    build writes every namespace it opened into the new output with one
    call (``save_into``), and leaves out a ``--drafts`` build's drafts with
    another (``leave_out``).
    """

    def __init__(self, out_dir: Optional[Path], digests: Optional[TextDigests] = None):
        self.home = Path(out_dir) / CACHE_DIR if out_dir is not None else None
        self.digests = digests or TextDigests()
        self._open: dict[str, Namespace] = {}

    def namespace(self, name: str, key: str, shards: int = 256) -> Namespace:
        kept = self._open.get(name)
        if kept is None or kept._key != key.encode() + b"\0":
            folder = self.home / name if self.home is not None else None
            kept = self._open[name] = Namespace(folder, key, shards=shards, digests=self.digests)
        return kept

    def close(self, name: str) -> None:
        """Save nothing of namespace ``name`` (the current output's entries are not carried over)."""
        self._open.pop(name, None)

    def leave_out(self, texts: list[str]) -> None:
        for space in self._open.values():
            space.leave_out(texts)

    def save_into(self, out_dir: Path) -> None:
        """Every namespace's used entries into the new output's cache."""
        for name, space in self._open.items():
            space.save_into(Path(out_dir) / CACHE_DIR / name)

    def forget_unused(self) -> None:
        for space in self._open.values():
            space.forget_unused()
