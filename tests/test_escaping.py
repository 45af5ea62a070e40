"""Hostile text in titles, tags, URLs and dumps is escaped in every output (issue 8).

A listing dump is plain text, so ``<script>alert(1)</script>`` in it is shown
as those characters.  Titles, tags, categories and URLs are escaped in HTML,
in XML (feed, sitemap) and in JSON (``kxsj list --json``, the search index);
a ``javascript:`` URL is refused.  Raw HTML in a Markdown post is the
author's own choice and stays HTML.  The site is built by the real command
and its outputs are parsed, not grepped; a browser checks no script runs.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from test_atomic_output import kxsj_command, kxsj_env

DUMP_TITLE = "<script>alert(1)</script> & \"引号\" 'q'"
MD_TITLE = "</title><script>alert(2)</script>"
TAGS = ["<b>标签</b>", "a&b", "\"><svg onload=alert(3)>"]
CATEGORY = "</category><x>"
DUMP_BODY = "正文里的 <script>alert(4)</script> 和 <img src=x onerror=alert(5)> 以及 &amp; 实体。"

FILES = {
    "posts/x.txt": f"15 Nov\n\n{DUMP_TITLE}\n\n{DUMP_BODY}\n\n点击阅读全文...\n",
    "posts/meta.yml": (
        "- id: 1\n  date: 2021-11-15\n"
        f"  title: {json.dumps(DUMP_TITLE, ensure_ascii=False)}\n"
        "  url: \"javascript:alert(6)\"\n"
        f"  tags: {json.dumps(TAGS, ensure_ascii=False)}\n"
        f"  categories: {json.dumps([CATEGORY], ensure_ascii=False)}\n"
    ),
    "posts/m.md": (
        "---\n"
        f"title: {json.dumps(MD_TITLE)}\n"
        "date: 2024-01-01\n"
        "tags: [\"<i>t</i>\", \"x\\\"y\"]\n"
        "slug: \"<x>\"\n"
        "url: \"https://example.org/?a=1&b=<2>\"\n"
        "---\n"
        "作者的 <b class=\"mine\">HTML</b> 保留。 $a<b$\n"
    ),
    "kxsj.yml": "title: 站<名>&\n",
}


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "site"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    done = subprocess.run(kxsj_command("build"), cwd=root, env=kxsj_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    root.joinpath("build.log").write_text(done.stderr, encoding="utf-8")
    return root


class Page(HTMLParser):
    """What a browser would make of an HTML page: scripts, handlers, links, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.data_scripts: list[str] = []
        """``<script type="application/ld+json">``: data a browser never runs."""
        self.handlers: list[tuple[str, str]] = []
        self.hrefs: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.title = ""
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.handlers += [(tag, k) for k, _v in attrs if k.startswith("on")]
        self.hrefs += [v or "" for k, v in attrs if k in ("href", "src")]
        self._in.append(tag)
        if tag == "script":
            data = dict(attrs).get("type") == "application/ld+json"
            (self.data_scripts if data else self.scripts).append("")
            self._data = data

    def handle_endtag(self, tag):
        if tag in self._in:
            while self._in and self._in.pop() != tag:
                pass

    def handle_data(self, data):
        if "script" in self._in:
            (self.data_scripts if self._data else self.scripts)[-1] += data
        elif "title" in self._in:
            self.title += data
        else:
            self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def html_pages(root: Path) -> list[Path]:
    return [p for p in (root / "public").rglob("*.html") if "static" not in p.parts and "pagefind" not in p.parts]


def test_no_page_gets_a_script_handler_or_javascript_link_from_the_input(hostile_site):
    pages = html_pages(hostile_site)
    assert len(pages) > 10
    for path in pages:
        page = parse(path)
        assert not any("alert" in s for s in page.scripts), path
        for data in page.data_scripts:  # the titles are in the JSON-LD, as JSON strings that cannot end the script
            assert "<" not in data and isinstance(json.loads(data), dict), path
        assert page.handlers == [], (path, page.handlers)
        assert "svg" not in page.tags and "img" not in page.tags and "x" not in page.tags, path
        assert not any(h.strip().lower().startswith("javascript:") for h in page.hrefs), path


def test_dump_text_and_titles_are_shown_as_written(hostile_site):
    public = hostile_site / "public"
    post = parse(public / "archives/1/index.html")
    text = "".join(post.text)
    assert DUMP_TITLE in post.title and DUMP_TITLE in text
    assert DUMP_BODY in text  # the dump's tags and entity are characters on the page
    for tag in TAGS + [CATEGORY]:
        assert tag in text
    md = parse(public / "posts/x/index.html")
    assert MD_TITLE in md.title
    assert "站<名>&" in md.title


def test_raw_html_in_a_markdown_post_stays_html(hostile_site):
    html = (hostile_site / "public/posts/x/index.html").read_text(encoding="utf-8")
    assert '<b class="mine">HTML</b>' in html


def test_javascript_url_in_metadata_is_refused_with_a_message(hostile_site):
    log = (hostile_site / "build.log").read_text(encoding="utf-8")
    assert "posts/meta.yml:1: warning: `url` must be an http(s) address" in log
    assert "javascript" not in (hostile_site / "public/archives/1/index.html").read_text(encoding="utf-8")


def test_feed_and_sitemap_are_well_formed_and_hold_the_text_as_written(hostile_site):
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.parse(hostile_site / "public/feed.xml").getroot()
    entries = {e.findtext(f"{atom}title"): e for e in feed.iter(f"{atom}entry")}
    assert set(entries) == {DUMP_TITLE, MD_TITLE}
    terms = {c.get("term") for c in entries[DUMP_TITLE].iter(f"{atom}category")}
    assert terms == {CATEGORY, *TAGS}, terms
    assert feed.findtext(f"{atom}title") == "站<名>&"
    sitemap = ET.parse(hostile_site / "public/sitemap.xml").getroot()
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locs and all(loc and " " not in loc and "<" not in loc and '"' not in loc for loc in locs), locs


def test_list_json_holds_the_text_as_written(hostile_site):
    done = subprocess.run(kxsj_command("list", "--json"), cwd=hostile_site, env=kxsj_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    posts = {p["title"]: p for p in json.loads(done.stdout)}
    assert set(posts) == {DUMP_TITLE, MD_TITLE}
    assert posts[DUMP_TITLE]["tags"] == TAGS and posts[DUMP_TITLE]["categories"] == [CATEGORY]
    assert posts[DUMP_TITLE]["original_url"] is None
    assert posts[MD_TITLE]["original_url"] == "https://example.org/?a=1&b=<2>"


def test_search_index_holds_the_titles_as_data(hostile_site):
    fragments = list((hostile_site / "public/pagefind/fragment").glob("*.pf_fragment"))
    if not fragments:
        pytest.skip("Pagefind is not installed, so there is no search index")
    titles = set()
    for path in fragments:
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd")
        titles.add(json.loads(data[len(b"pagefind_dcd"):])["meta"]["title"])
    assert titles == {DUMP_TITLE, MD_TITLE}


@pytest.mark.parametrize("path", ["", "archives/1/", "posts/x/", "tags/", "search/?q=alert", "search/?q=script"])
def test_no_dialog_fires_in_the_browser(hostile_site, serve_dir, page, path):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    base = serve_dir(hostile_site / "public")
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    if path.startswith("search/"):
        page.wait_for_selector(".search-results li", timeout=10_000)
        assert DUMP_TITLE in page.inner_text(".search-results") or MD_TITLE in page.inner_text(".search-results")
    assert dialogs == []
    assert page.locator("script:not([src])", has_text="alert").count() == 0
    assert [e for e in page.kxsj_errors if "alert" in e] == []


def test_control_characters_in_a_post_do_not_break_the_feed(tmp_path, run_kxsj):
    """Scraped text can hold a stray backspace (the corpus does); XML cannot."""
    import xml.etree.ElementTree as ET

    posts = tmp_path / "site" / "posts"
    posts.mkdir(parents=True)
    (posts / "a.md").write_text("---\ntitle: 退格标题\ndate: 2024-01-01\n---\n正文\x08里有退格\x0c。\n", encoding="utf-8")
    proc = run_kxsj("build", "--root", tmp_path / "site")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    feed = ET.parse(tmp_path / "site" / "public" / "feed.xml").getroot()
    text = ET.tostring(feed, encoding="unicode")
    assert "退格标题" in text and "里有退格" in text
    ET.parse(tmp_path / "site" / "public" / "sitemap.xml")
