"""Search: the bundled archive is indexed by Pagefind at build time and
searched in a real browser, under a sub-path as on GitHub Pages; without
Pagefind the build warns and the search page says search is unavailable."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, missing
from kxsj.build import BuildOptions, build_site
from kxsj.write.search import INSTALL_HINT, find_pagefind

PREFIX = "/kxsj/"
SERIES_TITLES = ("（一）", "（二）", "（六）", "（九）", "（十五）")


def copy_bundled_site(where: Path) -> Path:
    root = where / "site"
    shutil.copytree(REPO / "posts", root / "posts")
    if (REPO / "kxsj.yml").is_file():
        shutil.copy2(REPO / "kxsj.yml", root / "kxsj.yml")
    return root


@pytest.fixture(scope="module")
def searchable_site(tmp_path_factory, session_serve_dir):
    """The bundled archive built with its search index, served at ``/kxsj/``.

    The output folder is served before the build, so the build can be told
    its real address (``base_url``) including the port.
    """
    if find_pagefind() is None:
        missing(f"Pagefind is not installed ({INSTALL_HINT})")
    where = tmp_path_factory.mktemp("search")
    root = copy_bundled_site(where)
    out = where / "public"
    out.mkdir()
    base = session_serve_dir(out, PREFIX)
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=out, base_url=base))
    assert report.written and report.ok, [str(d) for d in report.diagnostics]
    assert (out / "pagefind" / "pagefind.js").is_file()
    return base, out, report


def results(page) -> list[tuple[str, str]]:
    """(title, href) of every result shown."""
    links = page.locator(".search-results .search-title")
    return [(links.nth(i).inner_text(), links.nth(i).get_attribute("href")) for i in range(links.count())]


def test_build_reports_the_index(searchable_site):
    _, out, report = searchable_site
    assert any("36 pages indexed by Pagefind" in d.message for d in report.diagnostics)
    # Only posts are indexed: list pages carry no data-pagefind-body.
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "data-pagefind-body" not in home
    post = (out / "archives" / "9152" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<h1 class="post-title" data-pagefind-meta="title" data-pagefind-weight="10">', post)


def test_header_search_finds_the_diffusion_series_and_opens_a_post(searchable_site, page):
    base, _, _ = searchable_site
    page.goto(base + "archives/8757/")
    page.fill("header input[name=q]", "扩散")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url(re.compile(re.escape(base) + r"search/\?q="))
    page.wait_for_function("document.querySelectorAll('.search-results li').length > 0")
    shown = results(page)
    titles = [title for title, _ in shown]
    for part in SERIES_TITLES:
        assert any(t.startswith("生成扩散模型漫谈" + part) for t in titles), (part, titles)
    # Title hits first: the five series posts lead the list.
    assert all("扩散" in t for t in titles[:5]), titles
    assert page.locator(".search-results mark").count() > 0  # snippets mark the hit
    assert "找到" in page.inner_text(".search-status")

    first_part = next(href for title, href in shown if title.startswith("生成扩散模型漫谈（一）"))
    assert first_part.startswith(PREFIX), first_part  # base-aware result links
    page.click(f".search-results a[href='{first_part}']")
    page.wait_for_url(base + "archives/9119/")
    assert page.inner_text("h1.post-title") == "生成扩散模型漫谈（一）：DDPM = 拆楼 + 建楼"
    assert page.kxsj_errors == [] and page.kxsj_external == []


def test_search_page_says_when_nothing_is_found(searchable_site, page):
    base, _, _ = searchable_site
    page.goto(base + "search/")
    page.fill(".search-form input[name=q]", "量子色动力学渐近自由")
    page.press(".search-form input[name=q]", "Enter")
    page.wait_for_function("document.querySelector('.search-status').textContent.includes('没有找到')")
    assert page.locator(".search-results li").count() == 0
    assert "量子色动力学渐近自由" in page.inner_text(".search-status")
    assert page.kxsj_errors == []


def test_a_search_made_while_the_index_loads_is_run_once(searchable_site, page):
    """Typed and sent before Pagefind has loaded: the page's own start-up search
    (for an address with ?q=) must not run it again over its answer."""
    import time

    base, _, _ = searchable_site
    page.add_init_script("""
        window.__statuses = [];
        document.addEventListener("DOMContentLoaded", () => {
          const status = document.querySelector(".search-status");
          new MutationObserver(() => window.__statuses.push(status.textContent)).observe(
            status, {childList: true, characterData: true, subtree: true});
        });
    """)

    def slow_index(route):
        time.sleep(1.5)
        route.continue_()

    page.route("**/pagefind/pagefind.js", slow_index)
    page.goto(base + "search/", wait_until="domcontentloaded")
    # The value set without an input event (which would start a search of its own after 250 ms).
    page.eval_on_selector(".search-form input[name=q]", "el => { el.value = '量子色动力学渐近自由'; }")
    page.press(".search-form input[name=q]", "Enter")
    page.wait_for_function("document.querySelector('.search-status').textContent.includes('没有找到')")
    page.wait_for_timeout(1500)
    statuses = page.evaluate("window.__statuses")
    assert statuses.count("正在搜索…") == 1, statuses
    assert "量子色动力学渐近自由" in page.inner_text(".search-status")


def test_without_pagefind_the_build_warns_and_the_search_page_says_so(tmp_path, run_kxsj):
    root = copy_bundled_site(tmp_path)
    done = run_kxsj("--root", root, "build", "--out", tmp_path / "public",
                    env={"PAGEFIND_BINARY_PATH": str(tmp_path / "no-such-pagefind")})
    assert done.returncode == 0, done.stderr
    assert "warning" in done.stderr and INSTALL_HINT in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    out = tmp_path / "public"
    assert not (out / "pagefind").exists()
    search = (out / "search" / "index.html").read_text(encoding="utf-8")
    assert "搜索不可用" in search and "search.js" not in search
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'class="site-search"' not in home  # no box that could only fail


def test_a_build_with_nothing_changed_but_pagefind_gone_is_made_again(tmp_path, monkeypatch):
    """The build stamp skips a build with the same inputs, but a site with search also depends on finding Pagefind."""
    if find_pagefind() is None:
        missing(f"Pagefind is not installed ({INSTALL_HINT})")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    root = copy_bundled_site(tmp_path)
    out = tmp_path / "public"
    options = BuildOptions(root=root, posts_dir=root / "posts", out_dir=out)
    assert build_site(options).written and (out / "pagefind").is_dir()
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-pagefind"))
    report = build_site(options)
    assert report.written and any(INSTALL_HINT in d.message for d in report.diagnostics)
    assert "搜索不可用" in (out / "search" / "index.html").read_text(encoding="utf-8")


def test_a_build_looks_for_pagefind_once(tmp_path, monkeypatch):
    """The build stamp records the Pagefind the search indexer found; it does not look for it again."""
    import kxsj.write.search as search

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-pagefind"))  # quick: no index is made
    calls: list[int] = []
    real = search.find_pagefind
    monkeypatch.setattr(search, "find_pagefind", lambda: calls.append(1) or real())
    root = copy_bundled_site(tmp_path)
    options = BuildOptions(root=root, posts_dir=root / "posts", out_dir=tmp_path / "public")
    assert build_site(options).written
    assert len(calls) == 1
    assert build_site(options).written and len(calls) == 2  # nothing changed: the stamp's check looks once


def test_search_off_in_config_builds_no_index_and_no_warning(tmp_path):
    root = copy_bundled_site(tmp_path)
    config = root / "kxsj.yml"
    text = config.read_text(encoding="utf-8") if config.is_file() else ""
    config.write_text(text + "\nsearch: false\n", encoding="utf-8")
    out = tmp_path / "public"
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=out))
    assert report.written and report.count("warning") == 0, [str(d) for d in report.diagnostics]
    assert not (out / "pagefind").exists()
    assert "搜索不可用" in (out / "search" / "index.html").read_text(encoding="utf-8")


@pytest.mark.browser
def test_unavailable_search_page_works_in_the_browser(tmp_path, serve_dir, page, monkeypatch):
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-pagefind"))
    root = copy_bundled_site(tmp_path)
    out = tmp_path / "public"
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=out))
    assert report.written
    base = serve_dir(out)
    page.goto(base + "search/")
    assert "搜索不可用" in page.inner_text("main")
    assert page.kxsj_errors == []


def test_pages_in_memory_can_be_indexed_for_the_dev_server():
    """``kxsj serve`` keeps pages in memory; ``index_pages`` gives it the bundle."""
    from kxsj.config import Config
    from kxsj.render.pages import Page
    from kxsj.write.search import index_pages, search_indexer

    indexer, diags = search_indexer(Config())
    if indexer is None:
        missing(f"Pagefind is not installed ({INSTALL_HINT})")
    body = '<html lang="zh-CN"><body><article data-pagefind-body><h1>扩散模型</h1><p>生成扩散模型的入门。</p></article></body></html>'
    files, diags = index_pages([Page("/archives/1/", body.encode()), Page("/feed.xml", b"<feed/>")], indexer)
    assert "/pagefind/pagefind.js" in files and any(p.startswith("/pagefind/fragment/") for p in files)
    assert any("1 pages indexed" in d.message for d in diags), diags
