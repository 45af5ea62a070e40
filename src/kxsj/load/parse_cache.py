"""The parse cache: each post file's parse result kept between builds.

Parsing 1,400 Markdown posts (YAML front matter, checks, dump conversion)
costs about 0.4 s, the largest part of a build after a one-post edit.
``ParseCache`` is ``load_posts``' ``parse`` hook for ``kxsj build``: a file
whose bytes were parsed by the previous build gets that result back (with
the diagnostics it gave) instead of being parsed again.

Why a stale result can never be used: the key is a digest of the file's
*bytes* (not its size or time, which can stay the same across an edit),
the path as given and as shown in messages, the parser's name, and all of
kxsj's code.  A result is stored only if the file still holds the bytes it
was keyed by once parsed.  Results are kept pickled, so each build gets
fresh objects that later stages may change freely.

It lives in the output folder like the other caches
(``OUT/.kxsj-cache/parse/<code key>.pickle``) and is written into the new
output before it is committed; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from kxsj.load import ParseFile
from kxsj.load.files import MAX_BYTES, display_path
from kxsj.model import Diagnostic

FOLDER = "parse"


def _code_key() -> str:
    from kxsj.render.cache import _package_digest

    return hashlib.sha256(f"parse-cache 1 {_package_digest()}".encode()).hexdigest()[:32]


class ParseCache:
    """``load_posts``' ``parse`` hook reusing the previous build's results (see the module docstring)."""

    def __init__(self, cache_dir: Path):
        self.key = _code_key()
        self._old: dict[bytes, bytes] = {}
        self._new: dict[bytes, bytes] = {}
        self.hits = 0
        try:
            with open(Path(cache_dir) / FOLDER / f"{self.key}.pickle", "rb") as f:
                old = pickle.load(f)
            if isinstance(old, dict):
                self._old = old
        except Exception:  # missing, truncated or foreign: parse everything
            self._old = {}

    def __call__(self, path: Path, parse_file: ParseFile, diags: list[Diagnostic]) -> Any:
        try:
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_size > MAX_BYTES:
                    return parse_file(path, diags)  # refused by the parser, unread
                data = f.read()
        except OSError:
            return parse_file(path, diags)  # the parser reports it
        h = hashlib.blake2b(digest_size=24)
        for part in (parse_file.__module__, parse_file.__qualname__, str(path), display_path(path)):
            h.update(part.encode("utf-8", "surrogateescape") + b"\0")
        h.update(data)
        key = h.digest()
        kept = self._old.get(key)
        if kept is not None:
            try:
                result, found = pickle.loads(kept)
            except Exception:
                pass
            else:
                self.hits += 1
                self._new[key] = kept
                diags.extend(found)
                return result
        found: list[Diagnostic] = []
        result = parse_file(path, found)
        diags.extend(found)
        try:
            with open(path, "rb") as f:
                unchanged = f.read() == data
            if unchanged:
                self._new[key] = pickle.dumps((result, found), protocol=pickle.HIGHEST_PROTOCOL)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass
        return result

    def save_into(self, cache_dir: Path) -> None:
        """Write this build's results into ``cache_dir/parse/`` (the new output's cache); others are dropped."""
        from kxsj.render.cache import _write_atomic

        folder = Path(cache_dir) / FOLDER
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(folder / f"{self.key}.pickle", pickle.dumps(self._new, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass
