"""The build stamp: nothing changed since the last build -> nothing to do.

``OUT/.kxsj-cache/build.json`` records the digest of a build's inputs, the
output as that build left it, and the build's report.  It is sealed with the
cache key (``kxsj.incremental.sealed``, the key is not in the output): a stamp
someone planted or edited in the output does not verify, and the build
then runs in full instead of keeping what it found there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Optional

from kxsj.incremental.keys import make_key
from kxsj.incremental.store import CACHE_DIR, _write_atomic
from kxsj.incremental.sealed import read_sealed, seal
from kxsj.regular_files import MAX_BYTES, read_regular
from kxsj.write.files import FOLDER_KEYS

STAMP_FILE = "build.json"
LABEL = "build"


STAMP_VERSION = 5
_STAMP_LIBRARIES = ("jinja2", "markdown", "pymdown-extensions", "pygments", "pyyaml")


RACY_NS = 2_000_000_000
"""A file changed this close to when it was looked at is hashed again next time, however its stat reads.

Two writes within one tick of the kernel's clock can leave the same size
and times; a file last changed at least this long before the look cannot
be written again with the times it had then.
"""


class SourceFiles:
    """The source files' SHA-256 digests, each read again only when its stat changed.

    ``known`` is the previous build's table (from its sealed stamp, so nobody
    but kxsj wrote it): absolute path -> ``[size, mtime_ns, ctime_ns, inode,
    device, digest]``.
    A file whose stat (symlinks followed) reads the same is not read again:
    any write changes its change time, a file swapped in by a rename has
    another inode.  ``seen`` is this build's table, for the next build;
    ``digests`` maps absolute paths to digests for the parse cache.
    """

    def __init__(self, known: Optional[Mapping[str, list]] = None):
        self.known = known if isinstance(known, Mapping) else {}
        self.seen: dict[str, list] = {}
        self.digests: dict[str, str] = {}
        self.now = time.time_ns()

    def line(self, path: str) -> str:
        where = os.path.abspath(path)
        try:
            st = os.stat(path)
            stat = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
            stable = max(st.st_mtime_ns, st.st_ctime_ns) < self.now - RACY_NS
            old = self.known.get(where)
            if stable and isinstance(old, list) and old[:5] == stat and len(old) == 6 and isinstance(old[5], str):
                digest = old[5]
            else:  # only regular files are read: a FIFO or /dev/zero in posts/ must not hang the build
                digest = hashlib.sha256(read_regular(path, MAX_BYTES)).hexdigest()
        except OSError as exc:
            return f"{path} unreadable {exc.errno}"
        if stable:  # the stat was taken before the read: a write during it changes the stat
            self.seen[where] = [*stat, digest]
        self.digests[where] = digest
        return f"{path} {digest}"


def _tree_entries(folder: Path, content: bool, files: Optional[SourceFiles] = None) -> Iterable[str]:
    """One line per file below ``folder``: its path and its content hash (or size and mtime)."""
    files = files if files is not None else SourceFiles()
    if folder.is_file():
        yield files.line(str(folder))
        return
    if not folder.is_dir():
        yield f"{folder}: none"
        return
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not (d == CACHE_DIR and dirpath == str(folder)))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if content:
                yield files.line(path)
            else:
                try:
                    st = os.stat(path)
                except OSError as exc:  # a broken symlink among the static files
                    yield f"{path} unreadable {exc.errno}"
                    continue
                yield f"{path} {st.st_size} {st.st_mtime_ns}"


def inputs_digest(
    sources: Iterable[Path], assets: Iterable[Path], settings: Mapping[str, object], files: Optional[SourceFiles] = None
) -> str:
    """What a build's output depends on: ``sources`` by content, ``assets`` (static files) by size and mtime.

    ``settings`` are the build's options (``--base-url``, drafts, strict,
    output folder); kxsj's code and library versions are always in.  Each
    source file's SHA-256 goes into ``files`` (the parse cache then need
    not read unchanged files again).
    """
    h = hashlib.sha256()
    options = [f"setting:{k}={v!r}" for k, v in sorted(settings.items())]
    h.update(make_key("stamp", f"version={STAMP_VERSION}", *options, libraries=_STAMP_LIBRARIES, length=64).encode() + b"\n")
    files = files if files is not None else SourceFiles()
    for folder in sources:
        for line in _tree_entries(Path(folder), content=True, files=files):
            h.update(line.encode("utf-8", "surrogateescape") + b"\n")
    for folder in assets:
        for line in _tree_entries(Path(folder), content=False):
            h.update(line.encode("utf-8", "surrogateescape") + b"\n")
    return h.hexdigest()


def output_manifest(out_dir: Path, listing: Optional[dict[str, list[int]]] = None) -> dict[str, list[int]]:
    """The output as it is on disk, caches aside: every file's size, times and inode, every folder's times and inode.

    ``listing`` is ``files_below(out, stats, folders=True)`` of the output
    when the caller has it (``write_output`` gives it after an in-place
    update); the folders' times are read now, as they are once the build
    wrote its last file.  A file added anywhere, even to an empty folder,
    changes its folder's times.
    """
    from kxsj.write.files import files_below

    if listing is None:
        listing = {}
        files_below(str(out_dir), listing, folders=True)
    skip = CACHE_DIR + "/"
    manifest = {rel: st for rel, st in listing.items() if not rel.startswith(skip)}
    with _looking_in(out_dir) as look:
        for rel in [rel for rel in manifest if rel.endswith(FOLDER_KEYS)]:
            found = look(rel)
            st = _folder_stat(found) if found is not None else None
            if st is None:
                del manifest[rel]  # a folder the build emptied and removed
            else:
                manifest[rel] = st
    return manifest


def _folder_stat(st: os.stat_result) -> Optional[list[int]]:
    """A folder's ``[mtime_ns, ctime_ns, inode]``; None when it is no folder."""
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_ino] if stat.S_ISDIR(st.st_mode) else None


def _file_stat(st: os.stat_result) -> Optional[list[int]]:
    """A file's ``[size, mtime_ns, ctime_ns, inode]`` as ``files_below`` gives it; None for a folder."""
    return None if stat.S_ISDIR(st.st_mode) else [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


@contextlib.contextmanager
def _looking_in(out_dir: Path) -> Iterator[Callable[[str], Optional[os.stat_result]]]:
    """``look(rel)``: the status of ``rel`` below ``out_dir`` (``FOLDER_KEYS`` names allowed), symlinks not followed; None if there is none."""
    fd = None
    if os.stat in os.supports_dir_fd:
        try:
            fd = os.open(out_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            pass

    def look(rel: str) -> Optional[os.stat_result]:
        rel = rel[:-1] if rel.endswith(FOLDER_KEYS) else rel
        try:
            if fd is not None:
                return os.stat(rel or ".", dir_fd=fd, follow_symlinks=False)
            return os.lstat(os.path.join(out_dir, rel))
        except (OSError, ValueError):
            return None

    try:
        yield look
    finally:
        if fd is not None:
            os.close(fd)


def output_unchanged(out_dir: Path, manifest: object) -> bool:
    """Whether the output is file for file and folder for folder as ``manifest`` (``output_manifest``) recorded it.

    Every folder's and file's status is read, no folder listed: a file
    added, removed or renamed changes its folder's times, one written
    changes its own, one put back from an archive has another inode.
    """
    if not isinstance(manifest, dict) or FOLDER_KEYS not in manifest:  # the output folder itself: a manifest that names folders
        return False
    with _looking_in(out_dir) as look:
        for rel, old in manifest.items():
            st = look(rel)
            if st is None or (_folder_stat(st) if rel.endswith(FOLDER_KEYS) else _file_stat(st)) != old:
                return False
    return True


class BuildStamp:
    """``OUT/.kxsj-cache/build.json``: the inputs digest, the output manifest and the report of the last build.

    A build whose inputs digest matches, into an output folder that is
    file for file as that build left it, would write the same bytes again;
    it replays the saved report (diagnostics included) instead.  "As that
    build left it" is each file's size, modification and change times and
    inode, and each folder's times and inode (``output_manifest``): a file
    written since, even to its old size and modification time, one added
    anywhere, or the whole output put back from an archive (CI's cache) is
    not, and the build runs.
    """

    def __init__(self, root: Path, out_dir: Path):
        self.path = Path(out_dir) / CACHE_DIR / STAMP_FILE
        self.saved: dict = {}
        payload = read_sealed(self.path, LABEL)
        if payload is not None:
            try:
                saved = json.loads(bytes(payload))
            except ValueError:
                saved = None
            self.saved = saved if isinstance(saved, dict) else {}
        self.files = SourceFiles(self.saved.get("files"))
        """The source files as hashed for the digest (each read again only when its stat changed)."""

    @property
    def file_digests(self) -> dict[str, str]:
        """Absolute path -> SHA-256 hex of every source file, as hashed for the digest."""
        return self.files.digests

    def load(self, digest: str, out_dir: Path) -> Optional[dict]:
        """The saved report when nothing changed since it was made, else None (also when it does not verify)."""
        saved, self.saved = self.saved, {}  # not kept for the rest of a build that runs
        try:
            if not saved or saved.get("digest") != digest or not output_unchanged(out_dir, saved.get("manifest")):
                return None
            if saved.get("pagefind") is not None:  # the site has search: its pages say whether Pagefind was found
                from kxsj.write.search import find_pagefind

                if saved["pagefind"] != str(find_pagefind()):
                    return None
            return saved["report"]
        except (KeyError, TypeError, AttributeError):
            return None

    def save(
        self, digest: str, out_dir: Path, report: dict, listing: Optional[dict[str, list[int]]] = None, pagefind: Optional[str] = None,
    ) -> None:
        """Record the build; ``listing`` is the output's ``files_below`` with stats, when known (else walked).

        ``pagefind`` is the search tool the build looked for (``str`` of
        ``find_pagefind()``), for a site with search; None without.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # before the folders' times are read
            data = {"digest": digest, "manifest": output_manifest(out_dir, listing), "report": report, "files": self.files.seen,
                    "pagefind": pagefind}
            _write_atomic(self.path, seal(LABEL, json.dumps(data, ensure_ascii=False).encode("utf-8")))
        except OSError:
            pass

    def forget(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass


def build_stamp(
    root: Path, posts_dir: Path, out_dir: Path, base_url: Optional[str], drafts: bool, strict: bool,
) -> tuple[BuildStamp, str]:
    """The stamp for a build of ``root`` into ``out_dir`` and the digest of its inputs now.

    ``base_url`` is ``--base-url`` (None: kxsj.yml's, which is one of the
    inputs).  Whether Pagefind is found is checked by ``BuildStamp.load``,
    and only for a site with search.
    """
    from kxsj.assets import asset_dirs
    from kxsj.config import CONFIG_NAME

    settings = {"base_url": base_url, "drafts": drafts, "strict": strict, "out": str(Path(out_dir).resolve())}
    sources = [Path(posts_dir), Path(root) / CONFIG_NAME, *asset_dirs("templates", root)]
    stamp = BuildStamp(root, out_dir)
    digest = inputs_digest(sources, asset_dirs("static", root), settings, stamp.files)
    return stamp, digest


def record_output(out_dir: Path, listing, store, stamp, digest: str, saved: dict, drafts: bool, pagefind: Optional[str] = None) -> None:
    """The page manifest and the build stamp (``saved``: the report to replay), made from the committed output as it now is on disk.

    They bind each file by its size, times and inode (``files_below``):
    ``listing`` is the in-place update's, taken after its commit (the
    render spool was removed before it), else the output is walked now.
    """
    from kxsj.write.output import files_below

    if not listing:
        files_below(str(out_dir), listing, folders=True)
    if store is not None:
        store.save(out_dir, listing)
    if stamp is not None and drafts:
        stamp.forget()  # its report may quote drafts
    elif stamp is not None:
        stamp.save(digest, out_dir, saved, listing, pagefind)
