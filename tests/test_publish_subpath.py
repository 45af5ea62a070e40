"""The bundled archive published under a sub-path, as GitHub Pages serves a project site.

Builds with ``--base-url https://example.github.io/kxsj/``, serves the output
at ``/kxsj/`` with a real HTTP server, and crawls every page: every internal
link and asset must answer 200, and the feed and sitemap must hold absolute
URLs under the base.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.test_site_pages import Links

BASE = "https://example.github.io/kxsj/"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def subpath_site(tmp_path_factory):
    import shutil
    import subprocess
    import sys

    site = tmp_path_factory.mktemp("subpath") / "site"
    site.mkdir()
    shutil.copytree(REPO / "posts", site / "posts")
    shutil.copy2(REPO / "kxsj.yml", site / "kxsj.yml")
    proc = subprocess.run(
        [sys.executable, "-m", "kxsj", "build", "--strict", "--base-url", BASE, "--root", str(site)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site / "public"


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, b"", ""


def test_every_internal_link_and_asset_answers_under_the_subpath(subpath_site, serve_dir):
    local = serve_dir(subpath_site, "/kxsj/")
    assert local.endswith("/kxsj/")

    def to_local(url: str) -> str | None:
        """Map a site URL (absolute under BASE, or served-relative) to the test server."""
        if url.startswith(BASE):
            return local + url[len(BASE):]
        if url.startswith(local):
            return url
        return None

    seen: set[str] = set()
    queue = [local]
    broken = []
    pages = 0
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        status, body, ctype = _get(url)
        if status != 200:
            broken.append(url)
            continue
        if "html" not in ctype:
            continue
        pages += 1
        parser = Links()  # every href/src of the page
        parser.feed(body.decode("utf-8"))
        for ref in parser.links:
            if ref.startswith(("mailto:", "javascript:", "data:")):
                continue
            absolute = urllib.parse.urljoin(url, ref)
            absolute = absolute.split("#", 1)[0]
            target = to_local(absolute)
            if target is None:
                host = urllib.parse.urlsplit(absolute).netloc
                assert host != "127.0.0.1" and not host.startswith("localhost"), f"{url} links outside the sub-path: {ref}"
                continue
            if target not in seen:
                queue.append(target)
    assert not broken, f"broken internal links: {broken[:10]}"
    html_files = [p for p in subpath_site.rglob("*.html") if p.name != "404.html"]
    assert pages >= len(html_files) * 0.9, f"crawl reached {pages} of {len(html_files)} pages"
    assert pages > 100


def test_feed_and_sitemap_hold_absolute_urls_under_the_base(subpath_site):
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.parse(subpath_site / "feed.xml").getroot()
    links = [el.get("href") for el in feed.iter("{http://www.w3.org/2005/Atom}link")]
    entries = feed.findall("a:entry", ns)
    assert entries and links
    assert all(link.startswith(BASE) or "kexue.fm" in link for link in links), links
    for entry in entries:
        assert entry.find("a:id", ns).text
        assert any(l.get("href", "").startswith(BASE) for l in entry.findall("a:link", ns))

    sm = ET.parse(subpath_site / "sitemap.xml").getroot()
    locs = [el.text for el in sm.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locs and all(loc.startswith(BASE) for loc in locs)
    html_pages = {p.relative_to(subpath_site).as_posix() for p in subpath_site.rglob("index.html")}
    listed = {urllib.parse.unquote(loc[len(BASE):]) + "index.html" for loc in locs if loc.endswith("/")}
    assert html_pages <= listed | {"search/index.html"}, sorted(html_pages - listed)[:5]


def test_no_page_refers_to_the_site_root_instead_of_the_subpath(subpath_site):
    bad = []
    for page in subpath_site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r'(?:href|src)="(/[^"]*)"', text):
            if not m.group(1).startswith("/kxsj/"):
                bad.append(f"{page.relative_to(subpath_site)}: {m.group(1)}")
    assert not bad, bad[:10]


def test_subpath_pages_render_math_in_a_browser(subpath_site, serve_dir, page):
    local = serve_dir(subpath_site, "/kxsj/")
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(r.url))
    page.goto(local + "archives/8796/")
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    assert page.locator(".arithmatex mjx-container").count() >= 5
    assert page.locator("mjx-merror").count() == 0
    assert not failed, failed
