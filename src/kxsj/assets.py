"""Where the shipped templates and static files are, wherever kxsj is installed.

Three places can hold them, and a site may use more than one at once:

1. the site root's own ``templates/`` and ``static/`` — a site overrides a
   single template or adds a file without copying the rest;
2. ``kxsj/_site/templates|static`` inside the installed package (a wheel
   install: ``pyproject.toml`` force-includes the repo-root folders there);
3. the repo root of a source checkout (an editable install, where the package
   is ``src/kxsj`` and the folders sit two levels above it).

Template lookup goes site first, then shipped; static files are copied shipped
first, then site, so the site's file wins.
"""

from __future__ import annotations

from pathlib import Path

KINDS = ("templates", "static")

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(kind: str) -> Path:
    """The ``templates`` or ``static`` folder that comes with kxsj itself."""
    if kind not in KINDS:
        raise ValueError(f"unknown asset kind {kind!r}; expected one of {KINDS}")
    installed = _PACKAGE_DIR / "_site" / kind
    if installed.is_dir():
        return installed
    checkout = _PACKAGE_DIR.parents[1] / kind
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"kxsj's own {kind}/ folder is missing (looked in {installed} and {checkout}); reinstall kxsj"
    )


def asset_dirs(kind: str, root: Path | None) -> list[Path]:
    """Folders of ``kind``, most specific first: the site's own, then the shipped one."""
    shipped = shipped_dir(kind)
    dirs = []
    if root is not None:
        own = Path(root) / kind
        if own.is_dir() and own.resolve() != shipped.resolve():
            dirs.append(own)
    dirs.append(shipped)
    return dirs
