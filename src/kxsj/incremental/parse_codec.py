"""Parse results as JSON, for the parse cache: plain data in, the same plain data out.

A parse result is a ``Post``, a dump's ``DumpEntry`` list, the metadata
file's ``MetaEntry`` list or None, with the ``Diagnostic`` list it gave.
``encode`` spells each dataclass as ``{"$": name, "v": [its fields]}``
(tuples and dates likewise) and ``decode`` builds them back, naming only
the classes listed here: what is read back is data, whatever the file
holds, and anything else is refused (``ValueError``), never run.

Long strings (a post's body and excerpt: 13 KB a post, most of the bytes)
are not written inside the JSON but before it, each behind its length, and
the JSON names them by number (``{"$": "s", "v": 0}``): decoding them is
then one UTF-8 decode each, not a scan for escapes, and a cached load stays
as fast as unpickling was.
"""

from __future__ import annotations

import datetime as _dt
import json
import struct
import threading
from dataclasses import fields, is_dataclass
from typing import Any, Union

from kxsj.load.dumps import DumpEntry, Line
from kxsj.load.metadata import MetaEntry
from kxsj.model import Diagnostic, Post, PostDate, PostRef, Series, SourceRef

_CLASSES: dict[str, type] = {
    cls.__name__: cls for cls in (Post, PostDate, SourceRef, Series, PostRef, Diagnostic, DumpEntry, Line, MetaEntry)
}
_FIELDS = {name: tuple(f.name for f in fields(cls)) for name, cls in _CLASSES.items()}


LONG = 256
"""Strings of at least this many characters are kept beside the JSON."""
_COUNT = struct.Struct("<I")


def _plain(value: Any, side: list[str]) -> Any:
    """``value`` as JSON data, long strings moved to ``side``; TypeError for anything that is not plain data of the classes above."""
    if isinstance(value, str):
        if len(value) < LONG:
            return value
        side.append(value)
        return {"$": "s", "v": len(side) - 1}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, list):
        return [_plain(v, side) for v in value]
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [_plain(v, side) for v in value]}
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return {"$": "date", "v": value.isoformat()}
    name = type(value).__name__
    if is_dataclass(value) and _CLASSES.get(name) is type(value):
        return {"$": name, "v": [_plain(getattr(value, f), side) for f in _FIELDS[name]]}
    raise TypeError(f"not cacheable: {type(value)!r}")


_side = threading.local()
"""The long strings of the value being decoded, for ``_revive`` (one JSON decoder serves every call)."""


def _revive(obj: dict) -> Any:
    if obj.keys() != {"$", "v"}:
        raise ValueError("not a cached value")
    name, value = obj["$"], obj["v"]
    if name == "s" and type(value) is int and 0 <= value < len(_side.texts):
        return _side.texts[value]
    if name == "tuple" and isinstance(value, list):
        return tuple(value)
    if name == "date" and isinstance(value, str):
        return _dt.date.fromisoformat(value)
    cls = _CLASSES.get(name)
    if cls is None or not isinstance(value, list) or len(value) != len(_FIELDS[name]):
        raise ValueError(f"not a cached value: {name!r}")
    return cls(*value)


_DECODER = json.JSONDecoder(object_hook=_revive)


def encode(value: Any) -> bytes:
    """The long strings (count, lengths, UTF-8) then the UTF-8 JSON of ``value``; TypeError when it holds anything but the plain data above."""
    side: list[str] = []
    data = json.dumps(_plain(value, side), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    texts = [text.encode("utf-8", "surrogatepass") for text in side]
    head = struct.pack(f"<I{len(texts)}I", len(texts), *map(len, texts))
    return b"".join([head, *texts, data])


def decode(data: Union[bytes, memoryview]) -> Any:
    """``encode``'s value back, as new objects; ValueError for anything ``encode`` did not write."""
    try:
        (count,) = _COUNT.unpack_from(data, 0)
        at = _COUNT.size * (count + 1)
        if at > len(data):
            raise ValueError("cut short")
        side = []
        for length in struct.unpack_from(f"<{count}I", data, _COUNT.size):
            side.append(str(data[at : at + length], "utf-8", "surrogatepass"))
            at += length
        if at > len(data):
            raise ValueError("cut short")
        _side.texts = side
        return _DECODER.decode(str(data[at:], "utf-8", "surrogatepass"))
    except (TypeError, UnicodeDecodeError, RecursionError, struct.error) as exc:
        raise ValueError(str(exc)) from exc
    finally:
        _side.texts = []
