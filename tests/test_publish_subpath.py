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
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.test_site_pages import Links

BASE = "https://example.github.io/kxsj/"
REPO = Path(__file__).resolve().parents[1]


def add_image_post(site: Path) -> None:
    """A post folder with an image, and an image in the site's static/, both shown from the post's excerpt."""
    from tests.test_post_assets import png

    (site / "posts" / "subpath-images").mkdir(parents=True)
    (site / "posts" / "subpath-images" / "fig.png").write_bytes(png(30, 20))
    (site / "static" / "img").mkdir(parents=True)
    (site / "static" / "img" / "subpath-logo.png").write_bytes(png(12, 8))
    (site / "posts" / "subpath-images" / "index.md").write_text(
        "---\ntitle: 图片在子路径下\ndate: 2030-01-01\nslug: subpath-images\n---\n"
        "![示意图](fig.png) ![标志](/static/img/subpath-logo.png)\n\n<!--more-->\n\n正文。\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def subpath_site(tmp_path_factory):
    import shutil
    import subprocess
    import sys

    site = tmp_path_factory.mktemp("subpath") / "site"
    site.mkdir()
    shutil.copytree(REPO / "posts", site / "posts")
    shutil.copy2(REPO / "kxsj.yml", site / "kxsj.yml")
    add_image_post(site)
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


class ImageSources(Links):
    """Every ``src`` of an ``<img>``, besides every href/src (``Links``)."""

    def __init__(self):
        super().__init__()
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        if tag == "img":
            self.images += [value for name, value in attrs if name == "src" and value]


@dataclass
class Crawl:
    seen: set[str] = field(default_factory=set)
    broken: list[str] = field(default_factory=list)
    pages: int = 0
    images: dict[str, list[str]] = field(default_factory=dict)
    """Each page's images, as local URLs the crawl fetched."""


def crawl(local: str, base: str) -> Crawl:
    """Follow every internal href/src from ``local`` (the site served at its sub-path), once each."""

    def to_local(url: str) -> str | None:
        """Map a site URL (absolute under ``base``, or served-relative) to the test server."""
        if url.startswith(base):
            return local + url[len(base):]
        if url.startswith(local):
            return url
        return None

    done = Crawl()
    queue = [local]
    while queue:
        url = queue.pop()
        if url in done.seen:
            continue
        done.seen.add(url)
        status, body, ctype = _get(url)
        if status != 200:
            done.broken.append(url)
            continue
        if "html" not in ctype:
            continue
        done.pages += 1
        parser = ImageSources()  # every href/src of the page
        parser.feed(body.decode("utf-8"))
        targets = {}
        for ref in parser.links:
            if ref.startswith(("mailto:", "javascript:", "data:")):
                continue
            absolute = urllib.parse.urljoin(url, ref)
            absolute = absolute.split("#", 1)[0]
            target = to_local(absolute)
            targets[ref] = target
            if target is None:
                host = urllib.parse.urlsplit(absolute).netloc
                assert host != "127.0.0.1" and not host.startswith("localhost"), f"{url} links outside the sub-path: {ref}"
                continue
            if target not in done.seen:
                queue.append(target)
        done.images[url] = [targets.get(src) or src for src in parser.images]
    return done


def test_every_internal_link_and_asset_answers_under_the_subpath(subpath_site, serve_dir):
    local = serve_dir(subpath_site, "/kxsj/")
    assert local.endswith("/kxsj/")
    done = crawl(local, BASE)
    assert not done.broken, f"broken internal links: {done.broken[:10]}"
    html_files = [p for p in subpath_site.rglob("*.html") if p.name != "404.html"]
    assert done.pages >= len(html_files) * 0.9, f"crawl reached {done.pages} of {len(html_files)} pages"
    assert done.pages > 100
    # Images in bodies, the post's own and the site's static ones, on the post page and in its excerpt
    post = local + "posts/subpath-images/"
    images = {local + "posts/subpath-images/fig.png", local + "static/img/subpath-logo.png"}
    assert images <= set(done.images[post]), done.images[post]
    assert images <= set(done.images[local]), done.images[local]
    assert images <= done.seen and not images & set(done.broken)


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
    if page.locator("#MathJax-script").count():  # math: browser: MathJax typesets here
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
    else:  # math: build: typeset in the page, its stylesheet and fonts loaded from under the sub-path
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready")
        assert page.evaluate("[...document.styleSheets].some(s => (s.href || '').includes('/kxsj/static/mathjax/kxsj-chtml.css'))")
    assert page.locator(".arithmatex mjx-container").count() >= 5
    assert page.locator("mjx-merror").count() == 0
    assert not failed, failed
