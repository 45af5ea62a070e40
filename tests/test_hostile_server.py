"""The dev server against hostile clients (issue 22): only its own host names, no idle client held forever.

A page on another site can point its own name at 127.0.0.1 (DNS rebinding)
and read what the preview serves, drafts included; such requests carry the
other site's name in ``Host:`` and must be refused.  The server runs here
in-process on a free port, with a page in memory.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kxsj.serve import bind
from kxsj.serve import http as serve_http
from kxsj.serve.http import LiveHub, host_allowed, host_names, make_handler


@pytest.fixture
def server(monkeypatch, tmp_path):
    monkeypatch.setattr(serve_http, "REQUEST_TIMEOUT", 0.5)
    static = tmp_path / "static"
    static.mkdir()
    (static / ".env").write_text("SECRET=1")
    (static / "ok.txt").write_text("ok")
    hub = LiveHub()
    handler = make_handler(lambda: {"/": b"<html><body>draft text</body></html>"}, lambda: [static], hub, lambda: {})
    srv, problem = bind("127.0.0.1", 0, handler)
    assert srv is not None, problem
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    hub.close()
    srv.shutdown()
    srv.server_close()


def get(port: int, host: str | None, path: str = "/") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", path, skip_host=True)
    if host is not None:
        conn.putheader("Host", host)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io:80", "[::1].evil"])
def test_other_host_names_are_refused(server, host):
    status, body = get(server.server_address[1], host)
    assert status == 421 and b"draft text" not in body


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:{port}", "127.0.0.1:{port}", "[::1]:{port}", "192.168.1.5:{port}", None])
def test_own_names_and_addresses_are_answered(server, host):
    port = server.server_address[1]
    status, body = get(port, host.format(port=port) if host else None)
    assert status == 200 and b"draft text" in body


def test_static_dotfiles_are_not_served(server):
    port = server.server_address[1]
    assert get(port, "localhost", "/static/ok.txt") == (200, b"ok")
    status, body = get(port, "localhost", "/static/.env")
    assert status == 404 and b"SECRET" not in body


def test_host_names_include_the_bound_name():
    assert host_allowed("myhost:8000", host_names("myhost"))
    assert not host_allowed("myhost:8000", host_names("0.0.0.0"))


def test_an_idle_client_is_disconnected(server):
    sock = socket.create_connection(("127.0.0.1", server.server_address[1]))
    sock.settimeout(10)
    start = time.monotonic()
    try:
        assert sock.recv(100) == b""  # closed by the server, not by this test's own timeout
    finally:
        sock.close()
    assert time.monotonic() - start < 9


def test_serving_beyond_loopback_warns(tmp_path):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "kxsj.yml").write_text("title: t\nsearch: false\n")
    (root / "posts" / "a.md").write_text("---\ntitle: a\ndate: 2021-01-01\n---\nx\n")
    proc = subprocess.Popen([sys.executable, "-m", "kxsj", "serve", "--host", "0.0.0.0", "--port", "0"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        deadline = time.monotonic() + 60
        while "warning" not in line and time.monotonic() < deadline and line:
            line = proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "warning: listening on 0.0.0.0" in line
