"""The preview's HTTP side: pages from memory, static files from disk, live reload over SSE.

Only what the site holds is served: a page the build made, or a file inside
one of the static folders.  Request paths are decoded once and refused
(400) when they hold ``..``, ``.``, empty segments, backslashes or control
characters, decoded or not, so ``/%2e%2e/`` cannot climb out; very long
URLs are refused too, and a folder is never listed.

``/_kxsj/events`` is an event stream (Server-Sent Events): ``reload`` with
the pages a rebuild changed, ``problems`` with the errors to show.  The
script that listens to it is added to HTML responses here, at response
time, so ``kxsj build`` output never contains it.
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import mimetypes
import os
import queue
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import unquote, urlsplit

MAX_URL = 2048
REQUEST_TIMEOUT = 30.0
"""Seconds a connection may sit without sending its request (the event stream writes keep-alives well within it)."""
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
EVENTS = "/_kxsj/events"
STATUS = "/_kxsj/status"
KEEPALIVE_SECONDS = 15.0

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}

GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


def livereload_script() -> bytes:
    js = resources.files("kxsj.serve").joinpath("livereload.js").read_bytes()
    return b"<script>\n" + js + b"</script>\n"


def inject(html: bytes, script: bytes) -> bytes:
    """``html`` with ``script`` before its last ``</body>`` (or at the end)."""
    at = html.rfind(b"</body>")
    return html + script if at < 0 else html[:at] + script + html[at:]


def content_type(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return CONTENT_TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def host_names(bound: str) -> frozenset[str]:
    """Host names the preview answers to: the loopback names and the address it is bound to.

    A page on another site can make the browser send requests to
    ``127.0.0.1:8000`` under its own name (DNS rebinding) and read the
    answers, drafts included; such requests carry that other name in
    ``Host:`` and are refused.
    """
    names = set(LOCAL_NAMES)
    if bound and bound not in ("0.0.0.0", "::"):
        names.add(bound.strip("[]").lower())
    return frozenset(names)


def host_allowed(header: Optional[str], allowed: frozenset[str]) -> bool:
    """Whether a request's ``Host:`` header names this server (with or without a port).

    An IP address is always let through (a rebinding page must use a name it
    controls, and ``--host 0.0.0.0`` is reached by address); so is a request
    without ``Host:`` (no browser sends one).
    """
    if header is None:
        return True
    host = header.strip().lower()
    if host.startswith("["):  # [::1]:8000
        end = host.find("]")
        rest = host[end + 1 :] if end > 0 else "x"
        if rest and not (rest[0] == ":" and rest[1:].isdigit()):
            return False
        name = host[1:end]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.rstrip(".")
    if name in allowed:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def safe_path(raw: str) -> Optional[str]:
    """The decoded site path of a request target, or None when it must be refused."""
    if len(raw) > MAX_URL:
        return None
    path = urlsplit(raw).path
    if not path.startswith("/") or path.startswith("//"):
        return None
    decoded = unquote(path, errors="strict") if "%" in path else path
    if "\\" in decoded or any(ord(ch) < 32 or ord(ch) == 127 for ch in decoded):
        return None
    segments = decoded.split("/")[1:]
    inner = segments[:-1]  # the last one may be empty: a trailing slash
    if any(seg in ("", ".", "..") for seg in inner) or segments[-1] in (".", ".."):
        return None
    return decoded


class LiveHub:
    """Every open event stream; a message published goes to all of them.

    The latest ``problems`` message is kept and sent first to a stream that
    opens later, so a page reloaded while a post is broken shows the overlay.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: set[queue.Queue] = set()
        self._sticky: dict[str, bytes] = {}
        self.closed = threading.Event()

    @staticmethod
    def _frame(event: str, data) -> bytes:
        return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode("utf-8")

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        with self._lock:
            for frame in self._sticky.values():
                q.put(frame)
            self._streams.add(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            self._streams.discard(q)

    def publish(self, event: str, data, sticky: bool = False) -> None:
        frame = self._frame(event, data)
        with self._lock:
            if sticky:
                self._sticky[event] = frame
            for q in self._streams:
                q.put(frame)

    @property
    def streams(self) -> int:
        with self._lock:
            return len(self._streams)

    def close(self) -> None:
        self.closed.set()
        with self._lock:
            for q in self._streams:
                q.put(None)


class PreviewServer(http.server.ThreadingHTTPServer):
    """``ThreadingHTTPServer`` whose clients may hang up at any moment without a traceback."""

    daemon_threads = True
    allow_reuse_address = True
    allowed_hosts: frozenset[str] = frozenset(LOCAL_NAMES)
    """Names in ``Host:`` that are answered (``host_names``); set by ``kxsj.serve.bind``."""

    def handle_error(self, request, client_address) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, GONE) or isinstance(exc, OSError) and exc.errno in (32, 104):
            return
        super().handle_error(request, client_address)


@dataclass(frozen=True)
class _Preview:
    """What a preview's handler serves: the callables are read per request."""

    pages: Callable[[], dict[str, bytes]]
    static_dirs: Callable[[], list[Path]]
    hub: LiveHub
    status: Callable[[], dict]
    dotfiles: Callable[[], bool]
    script: bytes


def make_handler(
    pages: Callable[[], dict[str, bytes]],
    static_dirs: Callable[[], list[Path]],
    hub: LiveHub,
    status: Callable[[], dict],
    dotfiles: Callable[[], bool] = lambda: False,
):
    """The request handler class for one preview (``pages()`` is read per request).

    ``dotfiles()`` says whether static files named ``.…`` are served, as
    ``include_dotfiles`` says whether a build publishes them.
    """
    preview = _Preview(pages, static_dirs, hub, status, dotfiles, livereload_script())
    # A client that connects and says nothing does not hold a thread forever.
    return type("PreviewHandler", (PreviewHandler,), {"preview": preview, "timeout": REQUEST_TIMEOUT})


class PreviewHandler(http.server.BaseHTTPRequestHandler):
    """Answers for one preview; ``make_handler`` makes the subclass that knows which."""

    preview: _Preview
    server_version = "kxsj-serve"

    def log_message(self, format, *args) -> None:
        """Quiet: the terminal is for build messages."""

    def handle(self) -> None:
        try:
            super().handle()
        except GONE:
            pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    # -- answers -----------------------------------------------------------

    def _send(self, code: int, body: bytes, ctype: str, head: bool, extra: dict | None = None) -> None:
        if ctype.startswith("text/html"):
            body = inject(body, self.preview.script)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _plain(self, code: int, text: str, head: bool) -> None:
        self.close_connection = True
        self._send(code, (text + "\n").encode("utf-8"), "text/plain; charset=utf-8", head)

    def _answer(self, head: bool) -> None:
        try:
            self._route(head)
        except GONE:
            self.close_connection = True

    def _route(self, head: bool) -> None:
        if not host_allowed(self.headers.get("Host"), self.server.allowed_hosts):
            return self._plain(421, "this server answers only for its own host names (localhost, 127.0.0.1)", head)
        try:
            path = safe_path(self.path)
        except UnicodeDecodeError:
            path = None
        if path is None:
            return self._plain(400, "bad request path", head)
        if path == EVENTS:
            return self._events()
        if path == STATUS:
            body = json.dumps(self.preview.status(), ensure_ascii=False).encode("utf-8")
            return self._send(200, body, "application/json", head)
        site = self.preview.pages()
        if path.endswith("/index.html"):
            path = path[: -len("index.html")]
        if path in site:
            return self._send(200, site[path], content_type(path if not path.endswith("/") else "index.html"), head)
        if not path.endswith("/") and path + "/" in site:
            location = urlsplit(self.path).path + "/"
            return self._send(301, b"", "text/plain", head, {"Location": location})
        if path.startswith("/static/"):
            found = self._static(path[len("/static/"):])
            if found is not None:
                return self._send(200, found.read_bytes(), content_type(found.name), head)
        body = site.get("/404.html", b"<!doctype html><title>404</title><h1>404 Not Found</h1></body>")
        return self._send(404, body, "text/html; charset=utf-8", head)

    def _static(self, rel: str) -> Optional[Path]:
        """A file inside one of the static folders (never a folder, never outside)."""
        if not rel or rel.endswith("/"):
            return None
        if not self.preview.dotfiles() and any(part.startswith(".") for part in rel.split("/")):
            return None  # not published by a build either (``kxsj.write.static``)
        for folder in self.preview.static_dirs():
            base = Path(os.path.realpath(folder))
            candidate = Path(os.path.realpath(base / rel))
            if base in candidate.parents and candidate.is_file():
                return candidate
        return None

    def _events(self) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        stream = self.preview.hub.subscribe()
        try:
            self.wfile.write(b"retry: 500\n\n")
            self.wfile.flush()
            while not self.preview.hub.closed.is_set():
                try:
                    frame = stream.get(timeout=KEEPALIVE_SECONDS)
                except queue.Empty:
                    frame = b": keepalive\n\n"
                if frame is None:
                    break
                self.wfile.write(frame)
                self.wfile.flush()
        finally:
            self.preview.hub.unsubscribe(stream)
