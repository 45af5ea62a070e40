"""The bundled archive (``posts/``) built through the real pipeline: loader,
enrich, body renderer, pages, writer."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.config import load_config
from kxsj.load import load_posts


class Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found += [v for k, v in attrs if k in ("href", "src") and v and v.startswith("/")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("archive") / "public"
    (out.parent / "kxsj.yml").write_text("search: false\n", encoding="utf-8")
    report = build_site(BuildOptions(root=out.parent, posts_dir=root / "posts", out_dir=out))
    return root, out, report


def test_bundled_archive_builds_cleanly(built):
    root, out, report = built
    assert report.ok and report.written
    assert [d for d in report.diagnostics if d.level != "info"] == []
    config, _ = load_config(root)
    loaded = load_posts(root / "posts", config).posts
    assert report.posts == len(loaded) >= 30
    assert re.fullmatch(rf"built {report.posts} posts, {report.pages} pages, 0 warnings in \d+\.\d\d s -> .*public/", report.summary())


def test_every_post_has_a_page_with_its_title_and_typesettable_math(built):
    root, out, _ = built
    config, _ = load_config(root)
    with_math = 0
    for post in load_posts(root / "posts", config).posts:
        assert post.original_id is not None  # every bundled post is from kexue.fm
        page = (out / "archives" / str(post.original_id) / "index.html").read_text(encoding="utf-8")
        assert html.escape(post.title, quote=False) in page
        if "$" in post.body:
            assert 'class="arithmatex"' in page, post.title
            with_math += 1
    assert with_math >= 10


def test_no_internal_link_is_broken(built):
    _, out, _ = built
    seen = 0
    for page in out.rglob("*.html"):
        parser = Hrefs()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.found:
            path = unquote(urlsplit(link).path)
            target = out / path.lstrip("/")
            if path.endswith("/"):
                target = target / "index.html"
            assert target.is_file(), f"{page.relative_to(out)} links to missing {link}"
            seen += 1
    assert seen > 1000
