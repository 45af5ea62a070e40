"""The parse cache: each post file's parse result kept between builds.

Parsing every post file (YAML front matter, checks, dump conversion) is
the largest part of a build after a one-post edit (``benchmarks/README.md``).
``ParseCache`` is ``load_posts``' ``parse`` hook for ``kxsj build``: a file
whose bytes were parsed by the previous build gets that result back (with
the diagnostics it gave) instead of being parsed again.

Why a stale result can never be used: the key is a digest of the file's
*bytes* (SHA-256; not its size or time, which can stay the same across an
edit), the path as given and as shown in messages, the parser's name, and
all of kxsj's code.  A result is stored only if the file held the bytes it
is keyed by both before it was parsed (hashed by the build's stamp earlier
in the same build, which passes those digests in as ``known``, or here
just before) and after.
Results are kept as JSON (``kxsj.incremental.parse_codec``), so each build gets
fresh objects that later stages may change freely, and nothing read back
can run code.  Drafts are never kept: a draft is parsed again every build.

It lives in the output folder like the other caches, in 16 shard files
(``OUT/.kxsj-cache/parse/<code key>/<n>.bin``, by the first byte of the
key), each sealed with the cache key (``kxsj.incremental.sealed``): a shard that
was edited, forged, truncated or moved does not verify and is ignored, and
its files are parsed again.  It is written into the new output before it is
committed: a shard whose entries did not change is linked from the current
output instead of written again, so an edit rewrites one sixteenth of it.
Deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from kxsj.load import ParseFile
from kxsj.load.files import MAX_BYTES, display_path
from kxsj.incremental.keys import make_key
from kxsj.incremental.parse_codec import decode, encode
from kxsj.model import Diagnostic, Post
from kxsj.incremental.sealed import pack_records, read_sealed, seal, unpack_records

if TYPE_CHECKING:
    from kxsj.incremental.store import TextDigests

FOLDER = "parse"
SHARDS = 16


def _file_digest(path: Path) -> Optional[str]:
    """SHA-256 hex of the file, or None if it cannot be read or is over the size limit."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size > MAX_BYTES:
                return None
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def _texts(result: Any) -> list[str]:
    """The texts of a parse result whose digests are kept with it: a Markdown post's body and excerpt.

    Every cache of the build names a body by its SHA-256 (``TextDigests``);
    an unchanged file's post comes back with the digests its texts had, so
    the bodies need not be hashed again.
    """
    return [result.body, result.excerpt] if isinstance(result, Post) else []


def _code_key() -> str:
    return make_key("parse", "version=3", length=32)


def _shard_name(n: int) -> str:
    return f"{n:x}.bin"


def _label(key: str, n: int) -> str:
    """What shard ``n`` is sealed as: a shard verifies only where it was written."""
    return f"{FOLDER}/{key}/{n:x}"


def _entry(data: bytes) -> tuple[Any, list[Diagnostic], Optional[list[bytes]]]:
    """A stored ``(result, diagnostics, text digests)``; ValueError or TypeError if it is not one."""
    result, found, digests = decode(data)
    if not isinstance(found, list) or not all(isinstance(d, Diagnostic) for d in found):
        raise ValueError("not a list of diagnostics")
    return result, found, [bytes.fromhex(d) for d in digests] if digests is not None else None


class ParseCache:
    """``load_posts``' ``parse`` hook reusing the previous build's results (see the module docstring)."""

    def __init__(self, cache_dir: Path, known: Optional[dict[str, str]] = None, digests: Optional["TextDigests"] = None):
        self.key = _code_key()
        self.known = known or {}
        """Absolute path -> SHA-256 hex of files hashed earlier in this build (``BuildStamp.file_digests``)."""
        self.digests = digests
        """The build's text digests: given those of a kept result's texts (``_texts``), and asked for a new one's."""
        self.folder = Path(cache_dir) / FOLDER / self.key
        self._old: dict[bytes, bytes] = {}
        self._old_keys: dict[int, set[bytes]] = {}
        """Each shard's keys as read, to tell the shards a build leaves unchanged."""
        self._new: dict[bytes, bytes] = {}
        self.hits = 0
        for n in range(SHARDS):
            payload = read_sealed(self.folder / _shard_name(n), _label(self.key, n))
            old = unpack_records(payload) if payload is not None else None
            if old is not None and all(k and k[0] % SHARDS == n for k in old):
                self._old.update(old)
                self._old_keys[n] = set(old)

    def __call__(self, path: Path, parse_file: ParseFile, diags: list[Diagnostic]) -> Any:
        content = self.known.get(os.path.abspath(path))
        if content is None:
            content = _file_digest(path)
            if content is None:
                return parse_file(path, diags)  # unreadable or too big: the parser reports it
        h = hashlib.blake2b(digest_size=24)
        for part in (parse_file.__module__, parse_file.__qualname__, str(path), display_path(path), content):
            h.update(part.encode("utf-8", "surrogateescape") + b"\0")
        key = h.digest()
        kept = self._old.get(key)
        if kept is not None:
            try:
                result, found, digests = _entry(kept)
            except (ValueError, TypeError):  # not what this code writes: parsed again
                pass
            else:
                self.hits += 1
                self._new[key] = kept
                diags.extend(found)
                if self.digests is not None and digests is not None:
                    for text, digest in zip(_texts(result), digests):
                        self.digests.seed(text, digest)
                return result
        found: list[Diagnostic] = []
        result = parse_file(path, found)
        diags.extend(found)
        # Kept only if the file held the keyed bytes before and after parsing.
        # A draft is never kept: the cache holds nothing the site does not publish.
        if _file_digest(path) == content and not (isinstance(result, Post) and result.draft):
            digests = [self.digests(text).hex() for text in _texts(result)] if self.digests is not None else None
            try:
                self._new[key] = encode([result, found, digests])
            except (TypeError, ValueError):
                pass
            else:
                self._old_keys.pop(key[0] % SHARDS, None)  # a new result: its shard is written again
        return result

    def save_into(self, cache_dir: Path) -> None:
        """Write this build's results into ``cache_dir/parse/`` (the new output's cache); others are dropped."""
        from kxsj.incremental.store import _write_atomic
        from kxsj.write.output import try_link

        folder = Path(cache_dir) / FOLDER / self.key
        shards: dict[int, dict[bytes, bytes]] = {}
        for key, value in self._new.items():
            shards.setdefault(key[0] % SHARDS, {})[key] = value
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for n, entries in sorted(shards.items()):
                name = _shard_name(n)
                if entries.keys() == self._old_keys.get(n) and try_link(self.folder / name, folder / name):
                    continue  # the same entries: the same results for the same keys
                _write_atomic(folder / name, seal(_label(self.key, n), pack_records(entries)))
        except OSError:
            pass
