"""The search terms appended to the copies of the pages Pagefind reads."""

from __future__ import annotations

from kxsj.write.search_terms import TERMS_MARK, han_terms, letters, title_terms, with_search_terms

PAGE = """<!doctype html><html lang="zh-CN"><body><header>导航栏</header>
<article class="post" data-pagefind-body><h1 class="post-title" data-pagefind-meta="title">变分推断入门</h1>
<div class="post-meta">2020-01-01 <a class="tag">#标签词</a></div>
<div hidden data-pagefind-ignore><span data-pagefind-filter="tag">过滤词</span></div>
<p>傅里叶变换&amp;拉普拉斯<br>算子 <span class="arithmatex">\\(\\text{公式里}\\)</span>。</p>
</article><footer>页脚文字</footer></body></html>"""


def terms_of(html: str) -> set[str]:
    return set(html[html.index(TERMS_MARK):].split("</div>")[0].split()[1:])


def test_letters_are_four_lowercase_letters_for_every_han_character():
    for char in ("一", "鿿", "㐀", "𠀀", "𱍊"):
        code = letters(char)
        assert len(code) == 4 and code.isalpha() and code.islower()
    assert len({letters(c) for c in "扩散模型生成"}) == 6


def test_runs_give_their_pairs_and_last_character():
    kx = lambda s: "kx" + "".join(letters(c) for c in s)  # noqa: E731
    assert han_terms("生成模型，熵", "kx") == [kx("生成"), kx("成模"), kx("模型"), kx("型") + "zzzz", kx("熵") + "zzzz"]
    # No term is the beginning of another: all have the same length.
    assert {len(t) for t in han_terms("生成模型，熵 扩散", "kx")} == {10}
    assert han_terms("only latin 123", "kx") == []


def test_page_terms_cover_the_article_text_but_not_math_meta_filters_or_page_chrome():
    out = with_search_terms(PAGE)
    assert out is not None and out.startswith(PAGE[: PAGE.index("</body>")])
    terms = terms_of(out)
    for held in ("傅里叶", "变换", "拉普拉斯", "算子", "推断入门"):
        assert set(han_terms(held, "kx")[:-1] or han_terms(held, "kx")) <= terms, held
    for left_out in ("公式", "标签", "过滤", "导航", "页脚"):
        assert not set(han_terms(left_out, "kx")[:1]) & terms, left_out
    assert set(title_terms("变分推断入门")) <= terms
    assert with_search_terms(out) == out  # already has its terms


def test_pages_that_are_not_indexed_get_nothing():
    assert with_search_terms("<html><body><p>列表页</p></body></html>") is None


def test_pagefind_reads_copies_with_terms_and_the_site_keeps_its_pages(tmp_path):
    from kxsj.write.search import PageFolder, copy_searchable

    site, copies = tmp_path / "site", tmp_path / "copies"
    (site / "archives" / "1").mkdir(parents=True)
    (site / "archives" / "1" / "index.html").write_text(PAGE, encoding="utf-8")
    (site / "index.html").write_text("<html><body>首页</body></html>", encoding="utf-8")
    copy_searchable(site, copies)
    assert (site / "archives" / "1" / "index.html").read_text(encoding="utf-8") == PAGE
    assert [p.relative_to(copies).as_posix() for p in copies.rglob("*.html")] == ["archives/1/index.html"]
    assert TERMS_MARK in (copies / "archives" / "1" / "index.html").read_text(encoding="utf-8")

    # The preview's page folder holds the pages with their terms already.
    folder = PageFolder(tmp_path / "preview")
    folder.sync({"/archives/1/": PAGE.encode(), "/": b"<html><body>x</body></html>"})
    held = (tmp_path / "preview" / "archives" / "1" / "index.html").read_text(encoding="utf-8")
    assert held == with_search_terms(PAGE)
