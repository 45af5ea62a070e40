"""Prove the shared fixtures in conftest.py do what other tests rely on.

If ``serve_dir`` served files outside its prefix, a sub-path link check
would pass on broken links; if the ``page`` fixture lost JavaScript errors,
browser tests would pass on broken pages. These tests make sure neither
happens.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.parse
import urllib.request

import pytest

FILES = {
    "index.html": (
        "<!doctype html><html><head><meta charset='utf-8'><title>科学空间</title>"
        "<script type='module' src='app.js'></script></head><body></body></html>",
        "text/html",
    ),
    "app.js": ("document.body.dataset.ran = 'yes';", "text/javascript"),
    "style.css": ("body { color: black; }", "text/css"),
    "font.woff2": ("wOF2", "font/woff2"),
    "feed.xml": ("<?xml version='1.0'?><feed/>", "application/xml"),
    "search.json": ("[]", "application/json"),
    "logo.svg": ("<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
}


@pytest.fixture
def site(tmp_path):
    """A tiny site in ``tmp_path/site`` and a secret file beside it."""
    root = tmp_path / "site"
    (root / "archives" / "1").mkdir(parents=True)
    (root / "empty").mkdir()
    for name, (text, _) in FILES.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "archives" / "1" / "index.html").write_text("<title>post</title>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("do not serve", encoding="utf-8")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    return root


def fetch(url: str):
    """(status, content type, body) of a GET, without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def raw_status(base_url: str, raw_path: str) -> int:
    """Status of a GET whose path is sent byte for byte (no client-side ``..`` cleanup)."""
    parts = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", raw_path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_serves_files_under_prefix_with_content_types(serve_dir, site):
    base = serve_dir(site, "/kxsj/")
    assert base.startswith("http://127.0.0.1:") and base.endswith("/kxsj/")
    for name, (text, content_type) in FILES.items():
        status, got_type, body = fetch(base + name)
        assert status == 200, name
        assert got_type.split(";")[0] == content_type, name
        assert body.decode("utf-8") == text
    assert fetch(base)[2].decode("utf-8") == FILES["index.html"][0]
    assert fetch(base + "archives/1/")[0] == 200


def test_outside_prefix_is_404(serve_dir, site):
    base = serve_dir(site, "kxsj")  # prefix written loosely still means /kxsj/
    root_url = base[: -len("kxsj/")]
    assert fetch(base + "app.js")[0] == 200
    assert fetch(root_url + "app.js")[0] == 404
    assert fetch(root_url + "index.html")[0] == 404
    assert fetch(root_url + "other/app.js")[0] == 404
    assert fetch(base + "missing.html")[0] == 404


def test_redirects_and_folders_behave_like_pages(serve_dir, site):
    base = serve_dir(site, "/kxsj/")
    status, _, _ = fetch(base.rstrip("/"))
    assert status == 301
    assert fetch(base + "archives/1")[0] == 301
    assert fetch(base + "empty/")[0] == 404  # no index.html, no listing


@pytest.mark.parametrize(
    "raw_path",
    [
        "/kxsj/../secret.txt",
        "/kxsj/%2e%2e/secret.txt",
        "/kxsj/archives/../../secret.txt",
        "/kxsj/..%2fsecret.txt",
        "/kxsj/escape.txt",
        "/kxsj/%00",
    ],
)
def test_traversal_is_refused(serve_dir, site, raw_path):
    base = serve_dir(site, "/kxsj/")
    assert raw_status(base, "/kxsj/app.js") == 200
    assert raw_status(base, raw_path) == 404


def test_root_prefix_serves_and_refuses_traversal(serve_dir, site):
    base = serve_dir(site)
    assert base.endswith("/") and base.count("/") == 3
    assert fetch(base + "feed.xml")[0] == 200
    assert raw_status(base, "/../secret.txt") == 404
    assert raw_status(base, "/%2e%2e/secret.txt") == 404


def test_browser_reads_title_and_runs_module_script(serve_dir, site, page):
    """A module script runs only if served with a JavaScript content type."""
    base = serve_dir(site, "/kxsj/")
    page.goto(base)
    assert page.title() == "科学空间"
    page.wait_for_function("document.body.dataset.ran === 'yes'", timeout=5000)
    assert page.kxsj_errors == []
    assert page.kxsj_external == []


def test_page_collects_errors_and_blocks_external_requests(serve_dir, tmp_path, page):
    root = tmp_path / "broken"
    root.mkdir()
    (root / "index.html").write_text(
        "<!doctype html><title>broken</title>"
        "<img src='http://kxsj-test.invalid/x.png'>"
        "<script>console.error('logged'); throw new Error('boom');</script>",
        encoding="utf-8",
    )
    page.goto(serve_dir(root, "/p/"))
    assert any("boom" in error for error in page.kxsj_errors)
    assert any("logged" in error for error in page.kxsj_errors)
    assert page.kxsj_external == ["http://kxsj-test.invalid/x.png"]


def test_tmp_site_is_a_writable_copy(tmp_site):
    posts = sorted(p.name for p in (tmp_site / "posts").iterdir())
    assert "meta.yml" in posts and any(name.endswith(".txt") for name in posts)
    assert not (tmp_site / "templates").exists()
    (tmp_site / "posts" / "new.md").write_text("---\ntitle: t\n---\n", encoding="utf-8")


def test_shared_dir_has_the_corpus(shared_dir):
    assert (shared_dir / "corpus" / "index.json").is_file()
    assert any((shared_dir / "corpus" / "md").glob("*.md"))
