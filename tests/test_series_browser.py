"""Series, sharing and comments in a real browser, on the bundled archive built
with giscus comments on (the giscus request itself is blocked: no network)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, build_site
from test_comments import GISCUS

REPO = Path(__file__).resolve().parents[1]

# The series of the bundled archive (posts/meta.yml's titles), newest part first.
BUNDLED_SERIES = [("生成扩散模型漫谈", 5), ("多任务学习漫谈", 2), ("变分自编码器", 1), ("SVD分解", 1), ("自然极值", 1)]


@pytest.fixture(scope="module")
def served(tmp_path_factory, session_serve_dir):
    root = tmp_path_factory.mktemp("series-browser")
    shutil.copytree(REPO / "posts", root / "posts")
    (root / "kxsj.yml").write_text((REPO / "kxsj.yml").read_text(encoding="utf-8") + "\n" + GISCUS, encoding="utf-8")
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=root / "public"))
    assert report.written, [str(d) for d in report.diagnostics]
    return session_serve_dir(root / "public")


def test_header_leads_to_a_series_index_listing_every_bundled_series(served, page):
    page.goto(served)
    page.click(".site-nav >> text=系列")
    page.wait_for_url("**/series/")
    rows = page.evaluate("""() => [...document.querySelectorAll('.series-index > li')].map(li => ({
        name: li.querySelector('.series-name').textContent,
        count: li.querySelector('.count').textContent,
        newest: li.querySelector('.series-newest a').getAttribute('href')}))""")
    assert [(r["name"], r["count"]) for r in rows] == [(n, f"本站收录 {c} 篇") for n, c in BUNDLED_SERIES]
    assert rows[0]["newest"] == "/archives/9379/"
    page.click("text=多任务学习漫谈")
    page.wait_for_selector(".series-list li")  # the click navigates: wait for the series' page
    assert page.locator(".series-list li").count() == 2
    assert page.kxsj_errors == []


def test_post_head_carries_its_own_description_canonical_og_and_json_ld(served, page):
    page.goto(served + "archives/9228/")
    head = page.evaluate("""() => {
        const meta = k => [...document.querySelectorAll(`meta[property="${k}"], meta[name="${k}"]`)].map(m => m.content);
        return {
          description: meta('description'), ogTitle: meta('og:title'), ogType: meta('og:type'),
          tags: meta('article:tag'), published: meta('article:published_time'), card: meta('twitter:card'),
          canonical: document.querySelector('link[rel=canonical]').href,
          icon: document.querySelector('link[rel=icon]').href,
          ld: [...document.querySelectorAll('script[type="application/ld+json"]')].map(s => JSON.parse(s.textContent)),
        };
    }""")
    [description] = head["description"]
    assert description.startswith("上一篇文章《生成扩散模型漫谈(五):一般框架之SDE篇》中") and len(description) <= 121
    assert head["ogTitle"] == ["生成扩散模型漫谈（六）：一般框架之ODE篇"] and head["ogType"] == ["article"]
    assert "扩散" in head["tags"] and head["published"] == ["2022-08-08"] and head["card"] == ["summary"]
    assert head["canonical"] == served + "archives/9228/"
    [ld] = head["ld"]
    assert ld["@type"] == "BlogPosting" and ld["headline"] == "生成扩散模型漫谈（六）：一般框架之ODE篇"
    assert ld["author"]["name"] == "苏剑林" and ld["datePublished"] == "2022-08-08"
    assert ld["isBasedOn"] == "https://kexue.fm/archives/9228" and ld["description"] == description
    page.goto(served + "archives/9379/")  # another post: another description
    assert page.evaluate("() => document.querySelector('meta[name=description]').content") != description
    icon = page.request.get(head["icon"])
    assert icon.ok and icon.headers["content-type"].startswith("image/svg")


def test_giscus_script_on_post_pages_only(served, page):
    def giscus(url: str) -> list:
        page.goto(url)
        return page.evaluate("""() => [...document.querySelectorAll('script[src*="giscus"]')].map(s => ({
            repo: s.dataset.repo, repoId: s.dataset.repoId, category: s.dataset.category,
            categoryId: s.dataset.categoryId, mapping: s.dataset.mapping}))""")

    [script] = giscus(served + "archives/9228/")
    assert script == {"repo": "kxsj/comments", "repoId": "R_kgDOabc", "category": "Announcements",
                      "categoryId": "DIC_kwDOxyz", "mapping": "pathname"}
    assert any("giscus.app/client.js" in url for url in page.kxsj_external)  # it tried to load, and was blocked
    for url in ("", "tag/GAN/", "search/", "404.html", "series/", "archives/"):
        assert giscus(served + url) == [], url


@pytest.mark.parametrize("width", [390, 1280])
def test_series_pages_fit_the_screen(served, page, width, tmp_path):
    page.set_viewport_size({"width": width, "height": 900})
    for url in ("series/", "archives/9228/"):
        page.goto(served + url)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (url, width, overflow)
        page.screenshot(path=str(tmp_path / f"{url.strip('/').replace('/', '-')}-{width}.png"), full_page=True)
    box = page.locator("nav.series")
    assert box.locator("li.current").count() == 1 and "（本文）" in box.locator("li.current").inner_text()
