"""Search works in the preview too: Pagefind indexes the pages in memory, in the background."""

from __future__ import annotations

import re

from tests.test_serve_live import start_server  # noqa: F401 - the fixture


def test_preview_search_finds_posts_and_catches_up_after_a_save(tmp_site, start_server, page):  # noqa: F811
    server = start_server(tmp_site)
    server.wait_until(lambda: server.status().get("search_indexes", 0) >= 1, timeout=60, what="first search index")
    status, js = server.get("/pagefind/pagefind.js")
    assert status == 200 and "pagefind" in js

    page.goto(server.url + "search/?q=" + "扩散")
    page.wait_for_function("document.querySelectorAll('.search-results li').length > 0")
    titles = page.locator(".search-results li a").all_inner_texts()
    assert any(t.startswith("生成扩散模型漫谈") for t in titles), titles

    # A new post becomes findable after the save, without restarting.
    (tmp_site / "posts" / "fresh.md").write_text(
        "---\ntitle: 独一无二的鹈鹕实验\ndate: 2024-05-01\n---\n鹈鹕实验的正文。\n", encoding="utf-8"
    )
    before = server.status()["search_indexes"]
    server.wait_until(lambda: server.status()["search_indexes"] > before, timeout=60, what="re-index after save")
    page.goto(server.url + "search/?q=" + "鹈鹕")
    page.wait_for_function("document.querySelectorAll('.search-results li').length > 0")
    assert any("鹈鹕" in t for t in page.locator(".search-results li a").all_inner_texts())
    assert page.kxsj_errors == []
    assert re.search(r"serving http://", server.output)
