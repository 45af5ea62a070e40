"""``kxsj serve``: the build, served over HTTP, rebuilt on every save.

Three threads around one ``PreviewSite`` (the site in memory, see
``preview``): the watchdog observer feeds changed paths to a
``ChangeBatcher``; the builder thread takes one burst at a time, rebuilds
what it touched and tells every open tab over the event stream; the HTTP
server (one daemon thread per request) answers from whatever pages the last
good build made.  Ctrl-C (or SIGTERM) stops all three and exits 0.
"""

from __future__ import annotations

import collections
import errno
import gc
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

from kxsj.model import Diagnostic
from kxsj.serve.http import LiveHub, PreviewServer, host_names, make_handler
from kxsj.serve.preview import PreviewSite, Rebuild
from kxsj.serve.search import BackgroundSearch
from kxsj.serve.watch import ChangeBatcher, is_temp_file, watch_site

__all__ = ["serve", "PreviewSite", "Rebuild"]

PORT_TRIES = 20
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def _say(text: str) -> None:
    print(text, flush=True)


def bind(host: str, port: int, handler) -> tuple[Optional[PreviewServer], str]:
    """A server bound to ``port`` or the next free one (None and the reason when none is)."""
    last = ""
    for candidate in [port] if port == 0 else range(port, min(port + PORT_TRIES, 65536)):
        try:
            server = PreviewServer((host, candidate), handler)
            server.allowed_hosts = host_names(host)
            return server, ""
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return None, f"cannot listen on {host}:{candidate}: {exc.strerror or exc}"
            last = f"ports {port}-{candidate} are all in use; pass --port with a free one"
    return None, last


def _diag_dict(d: Diagnostic) -> dict:
    return {"path": d.path, "line": d.line, "level": d.level, "message": d.message}


class _Preview:
    """Wires the site, the watcher, the builder thread and the server."""

    def __init__(self, site: PreviewSite):
        self.site = site
        self.hub = LiveHub()
        self.batcher = ChangeBatcher()
        self.stop = threading.Event()
        self.rebuilds = 0
        self.last: Optional[Rebuild] = None
        self.search: Optional[BackgroundSearch] = None

    def files(self):
        """What the server answers from: the pages, then the search index."""
        extra = self.search.files if self.search else {}
        return collections.ChainMap(self.site.pages, extra)

    def status(self) -> dict:
        last = self.last
        return {
            "builds": self.site.builds,
            "rebuilds": self.rebuilds,
            "posts": last.posts if last else 0,
            "pages": last.pages if last else 0,
            "streams": self.hub.streams,
            "search_indexes": self.search.runs if self.search else 0,
            "problems": [_diag_dict(d) for d in self.site.overlay()],
        }

    def relevant(self, path: Path) -> bool:
        return not is_temp_file(str(path)) and self.site.kind_of(path) is not None

    def report(self, result: Rebuild, changed: set[Path]) -> None:
        shown = [d for d in result.diagnostics if d.level != "info" and (not changed or self._about(d, changed))]
        for d in shown:
            print(d, file=sys.stderr, flush=True)
        if changed:
            names = ", ".join(sorted(p.name for p in changed))
            _say(
                f"rebuilt in {result.seconds * 1000:.0f} ms: {len(result.changed_pages)} pages changed "
                f"({result.rendered_pages} rendered, {result.parsed_files} files read) after {names}"
            )
        else:
            _say(f"built {result.posts} posts, {result.pages} pages in {result.seconds:.2f} s")

    @staticmethod
    def _about(d: Diagnostic, changed: set[Path]) -> bool:
        return Path(d.path).resolve() in changed or not d.path.endswith((".md", ".txt", ".markdown", ".yml"))

    def announce(self, result: Rebuild) -> None:
        if self.search is not None and (result.full or result.changed_pages):
            self.search.update(self.site.pages)
        self.hub.publish("problems", [_diag_dict(d) for d in result.problems], sticky=True)
        if result.full or result.changed_pages:
            self.hub.publish("reload", {"all": result.full, "pages": result.changed_pages})

    def run_builder(self) -> None:
        while not self.stop.is_set():
            changed = self.batcher.take(self.stop)
            if not changed or self.stop.is_set():
                continue
            changed = {p.resolve() for p in changed}
            try:
                result = self.site.build(changed)
            except Exception as exc:  # a bug in kxsj must not stop the preview
                print(f"kxsj serve: internal error while rebuilding: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                continue
            self.rebuilds += 1
            self.last = result
            self.report(result, changed)
            self.announce(result)


def serve(
    root: Path,
    posts_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    drafts: bool = False,
    out_dir: Optional[Path] = None,
) -> int:
    """Build, serve and rebuild on every save until Ctrl-C; returns the exit code.

    ``out_dir`` is accepted for the CLI's sake and ignored: the preview is
    served from memory and never writes into the site.
    """
    site = PreviewSite(Path(root), Path(posts_dir), drafts=drafts)
    preview = _Preview(site)
    # Watch before the first build: a save during it is rebuilt right after.
    watcher = watch_site(site.root, site.posts_dir, preview.relevant, preview.batcher)
    try:
        first = site.build()
    except KeyboardInterrupt:
        watcher.stop()
        _say("stopped")
        return 0
    # The archive in memory is hundreds of thousands of long-lived objects;
    # without this every full garbage collection walks them all, mid-rebuild.
    gc.freeze()
    preview.last = first
    preview.report(first, set())
    if site.config is not None and site.config.search:
        preview.search = BackgroundSearch(site.config)
    preview.announce(first)

    handler = make_handler(preview.files, site.static_dirs, preview.hub, preview.status,
                           lambda: bool(site.config and site.config.include_dotfiles))
    server, problem = bind(host, port, handler)
    if server is None:
        watcher.stop()
        print(f"kxsj serve: {problem}", file=sys.stderr, flush=True)
        return 1
    bound = server.server_address[1]
    if port and bound != port:
        _say(f"port {port} is in use; serving on port {bound} instead")

    builder = threading.Thread(target=preview.run_builder, name="kxsj-builder", daemon=True)
    http_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="kxsj-http", daemon=True)
    builder.start()
    http_thread.start()
    shown_host = f"[{host}]" if ":" in host else host
    _say(f"serving http://{shown_host}:{bound}/ (drafts {'shown' if drafts else 'hidden'}; Ctrl-C to stop)")
    if host not in LOOPBACK:
        print(f"kxsj serve: warning: listening on {host}: anyone who can reach this machine can read the site"
              f"{', drafts included' if drafts else ''}; the dev server is for previewing, not for publishing", file=sys.stderr, flush=True)

    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: preview.stop.set())
    try:
        while not preview.stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        preview.stop.set()
        preview.hub.close()
        watcher.stop()
        server.shutdown()
        server.server_close()
        builder.join(timeout=5)
        http_thread.join(timeout=5)
        if preview.search is not None:
            preview.search.join(timeout=5)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)
    _say("stopped")
    return 0
