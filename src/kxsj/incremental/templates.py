"""Compiled templates kept between builds, in the user's cache folder, never in the output.

Jinja compiles each template to Python code the first time it is loaded: a
large share of a build after one edit, which renders only a dozen pages.
``TemplateCodeCache`` keeps that code in
``$XDG_CACHE_HOME/kxsj/templates/<key>/`` (``~/.cache/kxsj/…``).

Compiled code is code: it is never read from the output folder, which is
untrusted input (``kxsj.incremental.sealed``), only from the user's own cache
folder, and each file is sealed with the cache key there too, so a damaged
or foreign file is compiled again instead of run.

A stale entry is never used.  The folder's ``<key>`` is a digest of Jinja's
and Python's versions, all of kxsj's code and the whole configuration:
Jinja folds constant filter calls (``'/x' | href``) into the compiled code,
so code compiled under another ``base_url`` prints other links.  Inside,
Jinja stores the SHA-1 of the template's source and compiles the template
again when it differs; its bucket key names the template's file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from kxsj.config import Config
from kxsj.incremental.keys import TEMPLATE_LIBRARIES, make_key
from kxsj.incremental.store import _write_atomic
from kxsj.incremental.sealed import read_sealed, seal, user_cache_dir

FOLDER = "templates"
KEEP = 8
"""Folders (configurations) kept; older ones are removed when a new one is made."""


def code_key(config: Config) -> str:
    """What compiled code depends on besides the template's source (see the module docstring)."""
    return make_key("templates", f"config={config!r}", libraries=TEMPLATE_LIBRARIES, length=32)


class TemplateCodeCache(jinja2.BytecodeCache):
    """Jinja's bytecode cache in the user's cache folder, keyed on the configuration (``code_key``)."""

    def __init__(self, config: Config, home: Path | None = None):
        self.home = Path(home) if home is not None else user_cache_dir() / FOLDER
        self.folder = self.home / code_key(config)
        self.loaded = 0
        self.compiled = 0

    def _label(self, key: str) -> str:
        return f"{FOLDER}/{self.folder.name}/{key}"

    def load_bytecode(self, bucket: Bucket) -> None:
        data = read_sealed(self.folder / f"{bucket.key}.bin", self._label(bucket.key))
        if data is None:
            return
        try:
            bucket.bytecode_from_string(bytes(data))  # resets the bucket on another source, Python or format
        except Exception:  # written by this key but unreadable (another Jinja release): compile again
            bucket.reset()
        if bucket.code is not None:
            self.loaded += 1

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled += 1
        try:
            fresh = not self.folder.is_dir()
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.folder / f"{bucket.key}.bin", seal(self._label(bucket.key), bucket.bytecode_to_string()))
            if fresh:
                self._forget_old()
        except OSError:  # only time is lost
            pass

    def _forget_old(self) -> None:
        """Remove all but the ``KEEP`` most recently made folders."""
        folders = sorted((p for p in self.home.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in folders[KEEP:]:
            if old != self.folder:
                shutil.rmtree(old, ignore_errors=True)
