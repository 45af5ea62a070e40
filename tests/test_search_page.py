"""The search page in a browser, on the bundled archive served under /kxsj/:
every hit reachable, title hits first, filters, and the query in the URL."""

from __future__ import annotations

import re
import shutil
import urllib.parse

import pytest

from conftest import REPO, missing
from kxsj.build import BuildOptions, build_site
from kxsj.write.search import INSTALL_HINT, find_pagefind
from search_helpers import article_texts, holding

PREFIX = "/kxsj/"
COMMON = "模型"  # in more than 20 of the bundled posts


@pytest.fixture(scope="module")
def site(tmp_path_factory, session_serve_dir):
    if find_pagefind() is None:
        missing(f"Pagefind is not installed ({INSTALL_HINT})")
    where = tmp_path_factory.mktemp("search-page")
    root = where / "site"
    shutil.copytree(REPO / "posts", root / "posts")
    shutil.copy2(REPO / "kxsj.yml", root / "kxsj.yml")
    out = where / "public"
    out.mkdir()
    base = session_serve_dir(out, PREFIX)
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=out, base_url=base))
    assert report.written and report.ok, [str(d) for d in report.diagnostics]
    return base


def search_url(base: str, **params) -> str:
    return base + "search/?" + urllib.parse.urlencode(params)


def wait_for_results(page) -> None:
    page.wait_for_function("/找到|没有找到/.test(document.querySelector('.search-status').textContent)")


def all_results(page) -> list[dict]:
    """Click "显示更多" until every result is shown; then each result's path, title and snippet."""
    wait_for_results(page)
    while page.is_visible(".search-more"):
        shown = page.locator(".search-results li").count()
        page.click(".search-more")
        page.wait_for_function(f"document.querySelectorAll('.search-results li').length > {shown}")
    return page.evaluate("""() => [...document.querySelectorAll('.search-results li')].map((li) => ({
        path: new URL(li.querySelector('a').href).pathname,
        title: li.querySelector('a').textContent,
        snippet: li.querySelector('.search-excerpt').textContent,
    }))""")


def test_every_hit_of_a_common_word_is_reachable_title_hits_first(site, page):
    page.goto(search_url(site, q=COMMON))
    texts = article_texts(page)
    truth = holding(texts, COMMON)
    assert len(truth) > 20, len(truth)  # more than one page of results
    wait_for_results(page)
    assert page.locator(".search-results li").count() == 20 and page.is_visible(".search-more")

    shown = all_results(page)
    paths = [r["path"] for r in shown]
    assert len(paths) == len(set(paths))
    assert set(paths) == truth
    assert f"找到 {len(truth)} 篇文章" in page.inner_text(".search-status")
    # Titles holding the word first, over the whole list, not one page of it.
    in_title = [COMMON in r["title"] for r in shown]
    assert any(in_title) and not all(in_title)
    assert in_title == sorted(in_title, reverse=True), in_title
    # The snippet is text from the post, not its title again, and marks the hit.
    for r in shown:
        assert r["snippet"] and not r["snippet"].startswith(r["title"]), r
        assert "kxsjterms" not in r["snippet"]
    assert page.locator(".search-results mark").count() >= len(shown) - 2
    assert page.kxsj_errors == [] and page.kxsj_external == []


def test_a_tag_filter_narrows_the_results_to_posts_with_that_tag(site, page):
    page.goto(search_url(site, q=COMMON))
    texts = article_texts(page)
    unfiltered = all_results(page)
    tag = "生成模型"
    tagged = {path for path, post in texts.items() if tag in post["tags"]}
    assert tagged
    page.select_option("select[name=tag]", tag)
    page.wait_for_url(re.compile(r"tag=" + re.escape(urllib.parse.quote(tag))))
    page.wait_for_function(f"document.querySelectorAll('.search-results li').length < {len(unfiltered)}")
    narrowed = [r["path"] for r in all_results(page)]
    assert narrowed and set(narrowed) == tagged & holding(texts, COMMON)

    # The filter alone lists every post with the tag; the link keeps it.
    page.goto(search_url(site, tag=tag))
    assert {r["path"] for r in all_results(page)} == tagged
    assert page.input_value("select[name=tag]") == tag
    assert page.locator("select[name=category] option").count() > 1
    assert page.locator("select[name=year] option").count() > 1
    assert page.kxsj_errors == []


def test_the_query_in_the_url_runs_on_load_and_typing_updates_the_url(site, page):
    page.goto(search_url(site, q="扩散"))
    shown = all_results(page)
    assert shown and all(r["path"].startswith(PREFIX) for r in shown)
    assert page.input_value(".search-form input[name=q]") == "扩散"

    page.fill(".search-form input[name=q]", "傅里叶")
    page.wait_for_url(re.compile(r"\?q=" + re.escape(urllib.parse.quote("傅里叶"))))
    wait_for_results(page)
    assert "傅里叶" in page.inner_text(".search-results") or "没有找到" in page.inner_text(".search-status")
    assert page.kxsj_errors == []


def test_the_header_box_works_from_every_kind_of_page(site, page):
    for where in ("", "archives/", "tags/", "archives/9119/"):
        page.goto(site + where)
        page.fill("header input[name=q]", "扩散")
        page.press("header input[name=q]", "Enter")
        page.wait_for_url(re.compile(re.escape(site) + r"search/\?q="))
        wait_for_results(page)
        assert page.locator(".search-results li").count() > 0, where
    assert page.kxsj_errors == [] and page.kxsj_external == []


def test_browser_and_build_spell_search_terms_alike(site, page):
    """search-query.js must turn text into the terms search_terms.py indexes."""
    from kxsj.write.search_terms import TEXT_PREFIX, han_terms

    samples = ["生成扩散模型", "熵", "BERT模型与GPT2", "𠀀𪜀字", "豈更車", "a，b 变分。推断"]
    page.goto(site + "search/")
    got = page.evaluate(
        """async (samples) => {
            const q = await import(new URL('../static/js/search-query.js', location.href).href);
            return [samples.map((s) => q.hanTerms(s, q.TEXT_PREFIX)), q.pagefindQueries('"生成模型" GAN').text];
        }""",
        samples,
    )
    assert got[0] == [han_terms(s, TEXT_PREFIX) for s in samples]
    # A run is asked for as one quoted phrase of its pairs; quotes typed by the reader do not break it.
    assert got[1] == '"' + " ".join(han_terms("生成模型", TEXT_PREFIX)[:-1]) + '" gan'

