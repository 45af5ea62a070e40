"""Which files of the ``static/`` folders are published, and which are not.

A static folder is copied into the output as it is, so it is where a
secret slips out: ``static/env.txt -> /proc/self/environ`` once published
the build's environment, and ``static/.env`` went out with every build.
Only regular files inside their own static folder are published:

* a symlink whose target is outside the folder it sits in is skipped with
  a warning, as a post's is (copy the file in instead);
* FIFOs, sockets and devices are skipped with a warning (reading one could
  block the build forever or never end);
* names starting with ``.`` (``.env``, ``.git/``, ``.DS_Store``) are left
  out unless the site sets ``include_dotfiles: true``; an ``info`` note
  says what was left out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional

from kxsj.load.files import display_path, inside, not_regular
from kxsj.model import Diagnostic


def static_files(
    sources: Iterable[Path],
    skip: Iterable[str] = (),
    dotfiles: bool = False,
    diags: Optional[list[Diagnostic]] = None,
) -> dict[str, Path]:
    """``relative path -> source`` of the static folders in order (a later folder's file wins).

    Top folders named in ``skip`` are left out (``mathjax`` when it is loaded
    from elsewhere).  What is refused is reported in ``diags`` when given.
    """
    skip = set(skip)
    diags = diags if diags is not None else []
    files: dict[str, Path] = {}
    for src in sources:
        src = Path(src)
        for rel, path in _walk(src, dotfiles, diags):
            if rel.split("/", 1)[0] in skip:
                continue
            files[rel] = path
    return dict(sorted(files.items()))


def _walk(src: Path, dotfiles: bool, diags: list[Diagnostic]):
    """``(relative path, path)`` of the publishable files below ``src`` (symlinked folders are not followed)."""
    hidden: list[str] = []
    for folder, dirnames, filenames in os.walk(src, onerror=lambda exc: _unreadable(exc, diags)):
        base = Path(folder)
        rel_folder = base.relative_to(src).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        if not dotfiles:
            hidden += [prefix + n for n in dirnames + filenames if n.startswith(".")]
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            filenames = [n for n in filenames if not n.startswith(".")]
        dirnames.sort()
        for name in dirnames:
            if os.path.islink(base / name):  # os.walk does not go through it
                diags.append(Diagnostic(display_path(base / name), 0, "warning", "symlinked folder not followed; its files were not published — copy them into the folder instead"))
        for name in sorted(filenames):
            path = base / name
            shown = display_path(path)
            if os.path.islink(path) and not inside(path, src):
                diags.append(Diagnostic(shown, 0, "warning", f"symlink to {os.path.realpath(path)}, outside {display_path(src)}, not published; copy the file into the folder instead"))
                continue
            problem = not_regular(path)
            if problem:
                diags.append(Diagnostic(shown, 0, "warning", f"{problem}; not published"))
                continue
            yield prefix + name, path
    if hidden:
        shown = ", ".join(hidden[:5]) + (f" and {len(hidden) - 5} more" if len(hidden) > 5 else "")
        diags.append(Diagnostic(display_path(src), 0, "info", f"hidden files not published: {shown}; set `include_dotfiles: true` in kxsj.yml to publish them"))


def _unreadable(exc: OSError, diags: list[Diagnostic]) -> None:
    where = display_path(Path(exc.filename)) if exc.filename else "static"
    diags.append(Diagnostic(where, 0, "warning", f"cannot read this folder ({exc.strerror or exc}); its files were not published"))
