"""The one way kxsj makes cache keys.

A key names everything a kept result was made from besides its own input:
kxsj's version and *all* of its code (any module may change any result, so
a code change empties every cache; only kxsj's developers pay for it), the
Python version, the versions of the libraries that made the result, the
render settings taken from the site's ``kxsj.yml``
(``kxsj.render.context.RenderContext``) and the namespace's own parts.  A
result made under any other value is then never found: keys are made here
and nowhere else, so no cache can forget one of them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
from pathlib import Path
from typing import Callable, Iterable, Optional

PACKAGE_DIR = Path(__file__).resolve().parents[1]

MARKDOWN_LIBRARIES = ("markdown", "pymdown-extensions", "pygments")
"""What turns a body's Markdown into HTML."""
TEMPLATE_LIBRARIES = ("jinja2", "markupsafe")
"""What turns a page's context into its file."""


def _normalised(name: str) -> str:
    """A distribution's name as its ``.dist-info`` folder spells it (PEP 503, with ``_``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.lru_cache(maxsize=None)
def _installed() -> dict[str, Optional[str]]:
    """Distributions on ``sys.path``: normalised name -> version, from their ``NAME-VERSION.dist-info`` folders.

    One pass over ``sys.path`` answers every library a key names, where
    ``importlib.metadata`` is slow to import and to ask.  As there, the
    first entry on the path wins; a name first found as an ``.egg-info``
    maps to None, for ``importlib.metadata`` to answer.
    """
    found: dict[str, Optional[str]] = {}
    for entry in sys.path:
        try:
            with os.scandir(entry or os.curdir) as entries:
                names = [e.name for e in entries if e.name.endswith((".dist-info", ".egg-info"))]
        except OSError:  # a zip file, a missing folder
            continue
        for folder in names:
            stem, _, kind = folder.rpartition(".")
            name, _, version = stem.partition("-")
            found.setdefault(_normalised(name), version if kind == "dist-info" and version else None)
    return found


@functools.lru_cache(maxsize=None)
def library_version(name: str) -> str:
    """``name=version`` of an installed distribution, looked up once per process
    (the libraries a running process has imported cannot change under it)."""
    version = _installed().get(_normalised(name))
    if version is None:  # not installed as a wheel here: the standard, slower way
        from importlib import metadata

        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "?"
    return f"{name}={version}"


def library_versions(names: Iterable[str]) -> list[str]:
    return [library_version(name) for name in names]


_RUNNING_CODE: dict[Path, str] = {}
"""The digest of this process's own kxsj code, computed once.

The code a process runs cannot change under it (a source edited while
``kxsj serve`` runs is not the code that renders).  Digests of another
folder (tests copy the package) are never kept.
"""


def code_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over every ``.py`` of kxsj and its bundled data: any code change may change any result."""
    if package_dir == PACKAGE_DIR and package_dir in _RUNNING_CODE:
        return _RUNNING_CODE[package_dir]
    h = hashlib.sha256()
    for path in sorted(package_dir.rglob("*")):
        if path.suffix in (".py", ".json", ".js") and "__pycache__" not in path.parts and path.is_file():
            h.update(path.relative_to(package_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest = h.hexdigest()
    if package_dir == PACKAGE_DIR:
        _RUNNING_CODE[package_dir] = digest
    return digest


def make_key(
    namespace: str,
    *parts: str,
    libraries: Iterable[str] = (),
    settings: Optional[object] = None,
    length: int = 24,
    code: Callable[[], str] = code_digest,
) -> str:
    """A hex key for ``namespace``'s results: see the module docstring.

    ``settings`` is a ``RenderContext`` (or anything with ``key_parts()``);
    ``parts`` are the namespace's own (a format version, a folder).
    """
    from kxsj import __version__

    lines = [
        f"namespace={namespace}",
        f"kxsj={__version__}",
        f"python={sys.version_info.major}.{sys.version_info.minor}",
        f"code={code()}",
        *library_versions(libraries),
        *(settings.key_parts() if settings is not None else ()),
        *parts,
    ]
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()[:length]
