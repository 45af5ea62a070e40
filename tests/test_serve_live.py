"""``kxsj serve`` as a user runs it: the real command in a subprocess, real HTTP, real files.

Every test starts ``python -m kxsj serve --root <copy of the bundled site>``
on a free port, changes files the way an editor does, and watches what the
server answers.  Timings here are generous upper bounds for "eventually";
the latency figures live in ``benchmarks/serve_latency.py``.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import kxsj

DRAFT = """---
title: "草稿里的文章"
date: 2024-05-01
tags: [草稿标签]
slug: draft-post
draft: true
---
还没写完的草稿正文。
"""

TAGGED = """---
title: "将被删除的文章"
date: 2024-06-01
tags: [独一无二的标签]
slug: doomed-post
---
这篇文章很快就会被删除。
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running ``kxsj serve``: its base URL and everything it printed."""

    def __init__(self, root: Path, *args: str, port: int | None = None):
        self.port = port or free_port()
        env = dict(os.environ)
        package_parent = str(Path(kxsj.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kxsj", "serve", "--root", str(root), "--port", str(self.port), *args],
            cwd=str(root),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self.wait_for_line(r"serving (http://\S+/)", 120).group(1)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = 10) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                m = re.search(pattern, line)
                if m:
                    return m
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r}; output:\n{self.output}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url.rstrip("/") + urllib.parse.quote(path), timeout=10) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def status(self) -> dict:
        return json.loads(self.get("/_kxsj/status")[1])

    def wait_until(self, check, timeout: float = 10, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; output:\n{self.output}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        return self.proc.returncode


@pytest.fixture
def start_server():
    servers: list[Server] = []

    def start(root: Path, *args: str, port: int | None = None) -> Server:
        server = Server(root, *args, port=port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """A GET with the target sent exactly as given (no client-side normalising)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", target, skip_accept_encoding=True)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


# --------------------------------------------------------------------------


def test_drafts_are_served_only_with_drafts_flag(tmp_site, start_server):
    (tmp_site / "posts" / "draft.md").write_text(DRAFT, encoding="utf-8")
    server = start_server(tmp_site)
    assert server.get("/posts/draft-post/")[0] == 404
    assert "草稿里的文章" not in server.get("/")[1]
    server.stop()

    with_drafts = start_server(tmp_site, "--drafts")
    status, html = with_drafts.get("/posts/draft-post/")
    assert status == 200 and "还没写完的草稿正文" in html
    assert "草稿里的文章" in with_drafts.get("/")[1]


def test_deleted_post_disappears_from_every_page(tmp_site, start_server):
    post = tmp_site / "posts" / "doomed.md"
    post.write_text(TAGGED, encoding="utf-8")
    server = start_server(tmp_site)
    assert "将被删除的文章" in server.get("/")[1]
    assert "将被删除的文章" in server.get("/tag/独一无二的标签/")[1]
    assert server.get("/posts/doomed-post/")[0] == 200

    post.unlink()
    server.wait_until(lambda: server.get("/posts/doomed-post/")[0] == 404, what="the post page to go")
    assert "将被删除的文章" not in server.get("/")[1]
    assert server.get("/tag/独一无二的标签/")[0] == 404
    assert "将被删除的文章" not in server.get("/feed.xml")[1]


def test_renamed_post_moves(tmp_site, start_server):
    post = tmp_site / "posts" / "doomed.md"
    post.write_text(TAGGED, encoding="utf-8")
    server = start_server(tmp_site)
    post.rename(tmp_site / "posts" / "renamed.md")
    (tmp_site / "posts" / "renamed.md").write_text(TAGGED.replace("doomed-post", "kept-post"), encoding="utf-8")
    server.wait_until(lambda: server.get("/posts/kept-post/")[0] == 200, what="the renamed post")
    assert server.get("/posts/doomed-post/")[0] == 404


def test_a_tag_added_while_serving_gets_its_page(tmp_site, start_server):
    """Every page links tags through functions Jinja keeps with the macros: they must see the new tag."""
    post = tmp_site / "posts" / "tagged.md"
    post.write_text(TAGGED, encoding="utf-8")
    server = start_server(tmp_site)
    post.write_text(TAGGED.replace("tags: [独一无二的标签]", "tags: [独一无二的标签, 新加的标签]"), encoding="utf-8")
    server.wait_until(lambda: server.get("/tag/新加的标签/")[0] == 200, what="the new tag's page")
    assert "将被删除的文章" in server.get("/tag/新加的标签/")[1]
    assert urllib.parse.quote("/tag/新加的标签/") in server.get("/posts/doomed-post/")[1]
    assert "internal error" not in server.output


def test_burst_of_saves_is_one_rebuild(tmp_site, start_server):
    post = tmp_site / "posts" / "burst.md"
    post.write_text(TAGGED, encoding="utf-8")
    server = start_server(tmp_site)
    assert server.status()["rebuilds"] == 0
    folder = tmp_site / "posts"
    # What editors do on one save: probe file, backup, swap file, write, write again.
    (folder / "4913").write_text("x")
    (folder / "4913").unlink()
    (folder / ".burst.md.swp").write_text("swap")
    (folder / ".#burst.md").write_text("lock")
    post.rename(folder / "burst.md~")
    for i in range(10):
        (folder / "burst.md").write_text(TAGGED.replace("很快", f"第{i}次保存后很快"), encoding="utf-8")
    (folder / "burst.md~").unlink()
    (folder / ".burst.md.swp").unlink()
    (folder / ".#burst.md").unlink()
    server.wait_until(lambda: "第9次保存后" in server.get("/posts/doomed-post/")[1], what="the last save")
    time.sleep(1.0)  # any late second rebuild would show up by now
    assert server.status()["rebuilds"] == 1, server.output
    assert len([l for l in server.lines if l.startswith("rebuilt in")]) == 1


def test_temp_files_alone_cause_no_rebuild(tmp_site, start_server):
    server = start_server(tmp_site)
    folder = tmp_site / "posts"
    for name in ("4913", ".#a.md", "a.md~", ".a.md.swp", "#a.md#"):
        (folder / name).write_text("junk")
    time.sleep(0.8)
    assert server.status()["rebuilds"] == 0


OUTSIDE = [
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2E%2E%5C%2E%2E%5Cetc%5Cpasswd",
    "/static//etc/passwd",
    "/static/css/../../../../etc/passwd",
    "/%00",
    "/" + "a" * 5000,
    "/static/" + "%2e%2e/" * 600 + "etc/passwd",
]


def test_paths_outside_the_site_are_refused(tmp_site, start_server):
    server = start_server(tmp_site)
    for target in OUTSIDE:
        status, body = raw_get(server.port, target)
        assert status in (400, 404, 414), (target[:60], status)
        assert b"root:" not in body, target[:60]
    assert server.get("/")[0] == 200


def test_no_directory_listing_and_static_files_served(tmp_site, start_server):
    server = start_server(tmp_site)
    assert raw_get(server.port, "/static/")[0] == 404
    assert raw_get(server.port, "/static/css")[0] == 404
    status, body = raw_get(server.port, "/static/css/site.css")
    assert status == 200 and body
    assert raw_get(server.port, "/archives/")[0] == 200


def test_port_in_use_moves_to_the_next_free_port_and_says_so(tmp_site, start_server):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    try:
        server = start_server(tmp_site, port=taken)
        assert re.search(rf"port {taken} is in use; serving on port \d+ instead", server.output)
        assert f":{taken}/" not in server.url
        assert server.get("/")[0] == 200
    finally:
        blocker.close()


def test_sigint_stops_cleanly_with_exit_0(tmp_site, start_server):
    server = start_server(tmp_site)
    urllib.request.urlopen(server.url + "_kxsj/events", timeout=5).close()  # an open stream must not block exit
    code = server.stop()
    assert code == 0, server.output
    assert "Traceback" not in server.output
    assert server.lines[-1] == "stopped"
    assert not (tmp_site / "public").exists()  # the preview never writes the site's output


def test_fifty_concurrent_clients_are_answered(tmp_site, start_server):
    server = start_server(tmp_site)
    streams = [urllib.request.urlopen(server.url + "_kxsj/events", timeout=10) for _ in range(10)]
    try:
        paths = ["/", "/archives/", "/static/css/site.css", "/tags/", "/feed.xml"] * 10
        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(lambda p: server.get(p)[0], paths))
        assert results == [200] * 50
        assert server.status()["streams"] == 10
    finally:
        for s in streams:
            s.close()


def test_client_hanging_up_mid_response_does_not_hurt_the_server(tmp_site, start_server):
    server = start_server(tmp_site)
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET /static/mathjax/tex-chtml-full.js HTTP/1.1\r\nHost: localhost\r\n\r\n")
        sock.recv(100)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not a polite close
        sock.close()
    for _ in range(5):  # streams dropped without a word
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET /_kxsj/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        sock.recv(10)
        sock.close()
    assert server.get("/")[0] == 200
    time.sleep(0.3)
    assert "Traceback" not in server.output
    assert server.proc.poll() is None


def test_broken_front_matter_keeps_last_good_page_and_reports(tmp_site, start_server):
    post = tmp_site / "posts" / "doomed.md"
    post.write_text(TAGGED, encoding="utf-8")
    server = start_server(tmp_site)
    post.write_text(TAGGED.replace('title: "将被删除的文章"', 'title: "没闭合的引号\ntags: [a'), encoding="utf-8")
    server.wait_until(lambda: server.status()["problems"], what="the error to be reported")
    problem = server.status()["problems"][0]
    assert problem["path"].endswith("doomed.md") and problem["line"] >= 1 and problem["level"] == "error"
    assert server.get("/posts/doomed-post/")[0] == 200  # the last good version stays
    assert re.search(r"doomed\.md:\d+: error:", server.output)
    post.write_text(TAGGED.replace("很快", "修好以后很快"), encoding="utf-8")
    server.wait_until(lambda: "修好以后" in server.get("/posts/doomed-post/")[1], what="the fixed post")
    assert server.status()["problems"] == []


def test_unbalanced_math_is_reported_and_last_good_page_stays(tmp_site, start_server):
    pytest.importorskip("kxsj.lint", reason="the lint (kxsj check) finds unbalanced math")
    post = tmp_site / "posts" / "doomed.md"
    post.write_text(TAGGED.replace("很快", "公式 $x^{2}$ 之后很快"), encoding="utf-8")
    server = start_server(tmp_site)
    post.write_text(TAGGED.replace("很快", "公式 $\\frac{1}{2$ 之后很快"), encoding="utf-8")
    server.wait_until(lambda: server.status()["problems"], what="the math problem to be reported")
    problem = server.status()["problems"][0]
    assert problem["path"].endswith("doomed.md") and problem["line"] >= 1
    assert "x^{2}" in server.get("/posts/doomed-post/")[1]  # the last good version stays
    post.write_text(TAGGED.replace("很快", "公式 $\\frac{1}{2}$ 之后很快"), encoding="utf-8")
    server.wait_until(lambda: "\\frac{1}{2}" in server.get("/posts/doomed-post/")[1], what="the fixed formula")
    assert server.status()["problems"] == []


def test_template_change_rebuilds_pages_and_a_broken_template_keeps_the_last_good(tmp_site, start_server):
    own = tmp_site / "templates"
    own.mkdir()
    (own / "404.html").write_text("<!doctype html><html><body><p>旧的找不到页</p></body></html>\n", encoding="utf-8")
    server = start_server(tmp_site)
    assert "旧的找不到页" in server.get("/no-such-page/")[1]
    (own / "404.html").write_text("<!doctype html><html><body><p>{% if %}</p></body></html>\n", encoding="utf-8")
    server.wait_until(lambda: server.status()["problems"], what="the template error")
    assert "template error" in server.status()["problems"][0]["message"]
    assert "旧的找不到页" in server.get("/no-such-page/")[1]
    (own / "404.html").write_text("<!doctype html><html><body><p>新的找不到页</p></body></html>\n", encoding="utf-8")
    server.wait_until(lambda: "新的找不到页" in server.get("/no-such-page/")[1], what="the new template")
    assert server.status()["problems"] == []


def test_build_output_has_no_live_reload_script(tmp_site, run_kxsj, start_server):
    result = run_kxsj("build", "--root", tmp_site, "--out", tmp_site / "public")
    assert result.returncode == 0, result.stderr
    pages = list((tmp_site / "public").rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "_kxsj/events" not in text and "EventSource" not in text, page
    server = start_server(tmp_site)
    status, html = server.get("/")
    assert "_kxsj/events" in html  # the preview adds it at response time
    built = (tmp_site / "public" / "index.html").read_text(encoding="utf-8")
    assert html.replace(html[html.index("<script>\n// kxsj serve"):html.index("</script>\n", html.index("<script>\n// kxsj serve")) + 10], "") == built
