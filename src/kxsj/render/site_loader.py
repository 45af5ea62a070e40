"""Loading templates only from inside their own folders.

``jinja2.FileSystemLoader`` follows symlinks wherever they point, so
``templates/post.html -> /etc/passwd`` (or a ``{% include %}`` of such a
link) put a file from outside the site into every page.  This loader skips
a template whose real path leaves its folder, and one that is not a
regular file (a FIFO would block the build), exactly as if it were not
there: the shipped template of that name is used instead, and
``outside_templates`` lists the skipped ones for a warning.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
from jinja2.loaders import split_template_path

from kxsj.load.files import display_path, inside, not_regular, read_regular
from kxsj.model import Diagnostic

MAX_TEMPLATE_BYTES = 1024 * 1024


def _usable(path: str, folder: str) -> bool:
    return inside(Path(path), Path(folder)) and not_regular(path) is None


class SiteTemplateLoader(jinja2.FileSystemLoader):
    """``FileSystemLoader`` that reads only regular files inside its search folders."""

    def get_source(self, environment, template):
        pieces = split_template_path(template)
        for folder in self.searchpath:
            path = os.path.join(folder, *pieces)
            if not os.path.lexists(path) or not _usable(path, folder):
                continue
            try:
                source = read_regular(path, MAX_TEMPLATE_BYTES).decode(self.encoding)
                mtime = os.path.getmtime(path)
            except (OSError, UnicodeDecodeError):
                continue

            def uptodate(path=path, mtime=mtime) -> bool:
                try:
                    return os.path.getmtime(path) == mtime
                except OSError:
                    return False

            return source, os.path.normpath(path), uptodate
        raise jinja2.TemplateNotFound(template)


def outside_templates(folders: list[Path]) -> list[Diagnostic]:
    """A warning for each template file that ``SiteTemplateLoader`` skips."""
    diags = []
    for folder in folders:
        for dirpath, _dirs, files in os.walk(folder):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                if not _usable(path, str(folder)):
                    why = not_regular(path) or f"symlink to {os.path.realpath(path)}, outside {display_path(Path(folder))}"
                    diags.append(Diagnostic(display_path(Path(path)), 0, "warning", f"template skipped: {why}; copy the file into the folder instead"))
    return diags
