"""Cache files sealed with a keyed MAC: the key, and the one file format every cache uses.

The output folder, and the ``.kxsj-cache/`` inside it, is untrusted input:
CI restores it from a cache anyone with write access to that cache could
have filled, and anyone who can write the folder could plant a file there.
So nothing kxsj reads back from it may run code or change what a page says:

* **A data format only.**  Every cache file is plain bytes: a magic line,
  a MAC, and a payload that is either JSON or *records* (a key and a value,
  each behind its length).  Nothing is unpickled, unmarshalled or executed;
  the worst a damaged file can do is be ignored, and its entries made again.
* **Bound to a key that is not in the output.**  The MAC is HMAC-SHA256 of
  the file's *label* (which cache, which key folder, which shard: a file
  moved to another place does not verify) and its payload, under a secret
  key kept outside the output: ``$KXSJ_CACHE_KEY`` when set (CI can keep it
  as a secret), else 32 random bytes in ``$XDG_CACHE_HOME/kxsj/key`` (or
  ``~/.cache/kxsj/key``), created on first use, mode 0600.  Without the key
  no one can write a file that verifies, so a forged or edited entry is
  never used.  When there is no key to be had (a read-only home), each
  process makes a random one: every cache is then rebuilt, never trusted.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import struct
import tempfile
from pathlib import Path
from typing import Mapping, Optional

KEY_ENV = "KXSJ_CACHE_KEY"
"""Environment variable holding the cache key (any text) instead of the key file."""
MAGIC = b"kxsj-sealed 1\n"
_MAC = 32
_LENGTHS = struct.Struct("<BI")  # a record: key length (< 256), value length, then key and value


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/kxsj``, or ``~/.cache/kxsj``: the user's, never the site's or the output's."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    home = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return home / "kxsj"


def cache_key() -> bytes:
    """The secret the MACs are made with (see the module docstring)."""
    given = os.environ.get(KEY_ENV, "")
    if given:
        return _derived(given)
    return _key_from_file(str(user_cache_dir() / "key"))


@functools.lru_cache(maxsize=8)
def _derived(given: str) -> bytes:
    return hashlib.sha256(b"kxsj cache key\0" + given.encode("utf-8", "surrogateescape")).digest()


@functools.lru_cache(maxsize=8)
def _key_from_file(path: str) -> bytes:
    """The key in ``path``, made there first if missing; a random one for this process if that fails."""
    for _ in range(2):
        key = _read_key(path)
        if key is not None:
            return key
        try:
            _create_key(path)
        except FileExistsError:  # another build made it meanwhile: read that one
            continue
        except OSError:
            break
    return os.urandom(_MAC)


def _read_key(path: str) -> Optional[bytes]:
    """The key file's key, if it is a regular file of this user that no one else can write."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        getuid = getattr(os, "getuid", None)
        if not (st.st_mode & 0o170000 == 0o100000) or st.st_mode & 0o022 or (getuid and st.st_uid != getuid()):
            return None
        text = os.read(fd, 200).decode("ascii", "replace").strip()
    finally:
        os.close(fd)
    try:
        key = bytes.fromhex(text)
    except ValueError:
        return None
    return key if len(key) == _MAC else None


def _create_key(path: str) -> None:
    """Write a new random key to ``path`` (0600), whole or not at all; FileExistsError if one is there."""
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".key.", dir=folder)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(os.urandom(_MAC).hex() + "\n")
        os.link(tmp, path)  # fails if a key is there already: two builds never use two keys
    finally:
        os.unlink(tmp)


def _mac(label: str, payload) -> bytes:
    mac = hmac.new(cache_key(), label.encode("utf-8", "surrogateescape") + b"\0", hashlib.sha256)
    mac.update(payload)  # not joined to the label: shards are megabytes
    return mac.digest()


def seal(label: str, payload: bytes) -> bytes:
    """The file for ``payload`` stored as ``label`` (what and where it is: ``html/<key>/0a``)."""
    return MAGIC + _mac(label, payload) + payload


def unseal(label: str, data: bytes) -> Optional[memoryview]:
    """The payload of a file ``seal(label, …)`` wrote with this key (a view into ``data``); None for anything else."""
    head = len(MAGIC)
    if len(data) < head + _MAC or not data.startswith(MAGIC):
        return None
    payload = memoryview(data)[head + _MAC :]
    if not hmac.compare_digest(data[head : head + _MAC], _mac(label, payload)):
        return None
    return payload


def read_sealed(path: Path, label: str) -> Optional[memoryview]:
    """``unseal`` of the file at ``path``; None when it is missing, unreadable or does not verify."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return unseal(label, data)


def pack_records(records: Mapping[bytes, bytes]) -> bytes:
    """Key/value pairs as one payload: per record its key's and value's lengths, the key, the value."""
    parts = []
    for key, value in records.items():
        parts.append(_LENGTHS.pack(len(key), len(value)))
        parts.append(key)
        parts.append(value)
    return b"".join(parts)


def unpack_records(payload: memoryview) -> Optional[dict[bytes, memoryview]]:
    """``pack_records``' pairs back, the values as views into ``payload`` (not copied: most are never used);
    None unless the payload is exactly a run of whole records."""
    payload = memoryview(payload)
    records: dict[bytes, memoryview] = {}
    at, end, size = 0, len(payload), _LENGTHS.size
    while at < end:
        if at + size > end:
            return None
        klen, vlen = _LENGTHS.unpack_from(payload, at)
        at += size
        if at + klen + vlen > end:
            return None
        records[bytes(payload[at : at + klen])] = payload[at + klen : at + klen + vlen]
        at += klen + vlen
    return records
