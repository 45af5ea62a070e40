"""The write stage: the rendered pages and the static files into the output folder."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from kxsj.assets import asset_dirs
from kxsj.config import Config
from kxsj.model import Diagnostic


def write_site(
    options, config: Config, pages: list, diags: list[Diagnostic], before_commit: list[Callable[[Path], None]],
    in_place: bool,
) -> Optional[tuple[bool, dict[str, list[int]]]]:
    """Write ``pages`` and ``static/`` into ``options.out_dir``; None if the output could not be written.

    ``before_commit`` run inside the new output before it is committed (the
    caches are saved into it, the search index is made over it).  Under
    ``--strict`` with a warning the new output is not committed.  Returns
    whether it was, and the listing of the committed output's files.
    """
    from kxsj.render.site_loader import outside_templates
    from kxsj.write.foreign import foreign_files
    from kxsj.write.lock import describe_os_error
    from kxsj.write.output import OutputError, files_below, kept_files, write_output
    from kxsj.write.static import static_files

    skip = () if config.mathjax == "local" or config.math == "build" else ("mathjax",)  # build: its fonts
    static = static_files(reversed(asset_dirs("static", options.root)), skip, config.include_dotfiles, diags)
    diags += outside_templates(asset_dirs("templates", options.root))
    previous: dict[str, list[int]] = {}
    try:  # one walk of the previous output: its kept files, its foreign ones, and what an in-place update replaces
        # (names only: the update reads each file's status once the pages it reuses are linked)
        names: Optional[list[str]] = files_below(str(options.out_dir), previous, folders=True, file_stats=False)
    except OSError:
        names = None  # each looks for itself, and reports as it does
    kept = kept_files(options.out_dir, config.keep, static, names)
    diags += foreign_files(options.out_dir, kept, names)
    failing = options.strict and any(d.level in ("warning", "error") for d in diags)
    listing: dict[str, list[int]] = {}

    def finish(folder: Path) -> None:
        for step in before_commit:
            step(folder)

    try:
        write_output(
            pages, options.out_dir, static=static, keep=config.keep, protected=[options.root, options.posts_dir],
            inputs=[options.posts_dir], commit=not failing, finish=finish, in_place=in_place, listing=listing,
            kept=kept if names is not None else None, previous=previous if names is not None else None,
        )
    except (OutputError, OSError) as exc:
        message = describe_os_error(exc, options.out_dir) if not isinstance(exc, OutputError) else str(exc)
        diags.append(Diagnostic(str(options.out_dir), 0, "error", message))
        return None
    return not failing, listing


def claim_output(out: Path, protected: list[Path], inputs: list[Path], cleanup) -> "str | None":
    """Make ``out`` this build's: checked, locked (until ``cleanup`` closes) and settled; or why it cannot be.

    A build killed mid-write left a journal or a temporary tree: that is
    settled before anything reads the output's caches.
    """
    from kxsj.write.lock import OutputError, describe_os_error, output_lock
    from kxsj.write.output import check_out_dir, clean_stale

    problem = check_out_dir(out, protected, inputs)
    if problem:  # before any work: a wrong --out is the commonest mistake
        return problem
    try:  # one build at a time per output folder
        cleanup.enter_context(output_lock(out))
    except (OutputError, OSError) as exc:
        return str(exc) if isinstance(exc, OutputError) else describe_os_error(exc, out)
    clean_stale(Path(out).resolve())
    return None
