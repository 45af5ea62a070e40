"""Parse results as JSON, for the parse cache: plain data in, the same plain data out.

A parse result is a ``Post``, a dump's ``DumpEntry`` list, the metadata
file's ``MetaEntry`` list or None, with the ``Diagnostic`` list it gave.
``encode`` spells each dataclass as ``{"$": name, "v": [its fields]}``
(tuples and dates likewise) and ``decode`` builds them back, naming only
the classes listed here: what is read back is data, whatever the file
holds, and anything else is refused (``ValueError``), never run.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import fields, is_dataclass
from typing import Any

from kxsj.load.dumps import DumpEntry, Line
from kxsj.load.metadata import MetaEntry
from kxsj.model import Diagnostic, Post, PostDate, PostRef, Series, SourceRef

_CLASSES: dict[str, type] = {
    cls.__name__: cls for cls in (Post, PostDate, SourceRef, Series, PostRef, Diagnostic, DumpEntry, Line, MetaEntry)
}
_FIELDS = {name: tuple(f.name for f in fields(cls)) for name, cls in _CLASSES.items()}


def _plain(value: Any) -> Any:
    """``value`` as JSON data; TypeError for anything that is not plain data of the classes above."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [_plain(v) for v in value]}
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return {"$": "date", "v": value.isoformat()}
    name = type(value).__name__
    if is_dataclass(value) and _CLASSES.get(name) is type(value):
        return {"$": name, "v": [_plain(getattr(value, f)) for f in _FIELDS[name]]}
    raise TypeError(f"not cacheable: {type(value)!r}")


def _revive(obj: dict) -> Any:
    if obj.keys() != {"$", "v"} or not isinstance(obj["v"], (list, str)):
        raise ValueError("not a cached value")
    name, value = obj["$"], obj["v"]
    if name == "tuple" and isinstance(value, list):
        return tuple(value)
    if name == "date" and isinstance(value, str):
        return _dt.date.fromisoformat(value)
    cls = _CLASSES.get(name)
    if cls is None or not isinstance(value, list) or len(value) != len(_FIELDS[name]):
        raise ValueError(f"not a cached value: {name!r}")
    return cls(*value)


def encode(value: Any) -> bytes:
    """UTF-8 JSON of ``value``; TypeError when it holds anything but the plain data above."""
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def decode(data: bytes) -> Any:
    """``encode``'s value back, as new objects; ValueError for anything ``encode`` did not write."""
    try:
        return json.loads(data.decode("utf-8", "surrogatepass"), object_hook=_revive)
    except (TypeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from exc
