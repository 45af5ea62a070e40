"""Compiled templates kept in the output between builds.

Jinja compiles each template to Python code the first time it is loaded:
about 40 ms for kxsj's templates, a large share of a build after one edit,
which renders only a dozen pages.  ``TemplateCodeCache`` keeps that code in
``OUT/.kxsj-cache/templates/<jinja version>/`` like the other caches: read
from the current output, written into the new one (``save_into``).

A stale entry is never used: Jinja stores the SHA-1 of the template's
source and the Python and bytecode versions with the code, and compiles the
template again when any of them differs; the folder name carries Jinja's
version, since its code generator may change between releases.  A file
that cannot be read back is ignored and the template compiled again.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from kxsj.render.cache import CACHE_DIR, _library_versions, _write_atomic
from kxsj.write.output import try_link

FOLDER = "templates"


def _version_dir() -> str:
    return _library_versions(("jinja2",))[0].replace("=", "-")


class TemplateCodeCache(jinja2.BytecodeCache):
    """Jinja's bytecode cache over the output's ``.kxsj-cache``; new code is written by ``save_into`` only."""

    def __init__(self, out_dir: Path):
        self.folder = Path(out_dir) / CACHE_DIR / FOLDER / _version_dir()
        self._used: dict[str, bytes] = {}
        """Bucket key -> the bytes this build loaded or compiled, for ``save_into``."""
        self._read: set[str] = set()
        """Keys whose file in ``folder`` was used as it is: linked, not written, by ``save_into``."""
        self.loaded = 0
        self.compiled = 0

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._used.get(bucket.key)
        if data is None:
            try:
                data = (self.folder / f"{bucket.key}.bin").read_bytes()
            except OSError:
                return
        try:
            bucket.bytecode_from_string(data)  # resets the bucket on another source, Python or format
        except Exception:  # a damaged file (Jinja reads its checksum with pickle): compile again
            bucket.reset()
        if bucket.code is not None:
            self._used[bucket.key] = data
            self._read.add(bucket.key)
            self.loaded += 1

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._used[bucket.key] = bucket.bytecode_to_string()
        self._read.discard(bucket.key)
        self.compiled += 1

    def save_into(self, out_dir: Path) -> None:
        """Write the code of every template this build used into ``out_dir``'s cache (errors ignored)."""
        target = Path(out_dir) / CACHE_DIR / FOLDER / _version_dir()
        try:
            target.mkdir(parents=True, exist_ok=True)
            for key, data in self._used.items():
                name = f"{key}.bin"
                if key in self._read and try_link(self.folder / name, target / name):
                    continue
                _write_atomic(target / name, data)
        except OSError:
            pass

