"""Series: which titles make one, which the site shows, and the /series/ index.

Titles are the real ones of kexue.fm (the shared corpus, the bundled archive
and the ones issue 21 names).
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import REPO
from kxsj.build import BuildOptions, build_site
from kxsj.enrich.related import RelatedMemo, assign_related
from kxsj.enrich.series import series_index, settle_series
from kxsj.load.series import detect_series
from kxsj.model import Post, PostDate

OCR3 = "OCR技术浅探：3. 特征提取"
OCR9 = "OCR技术浅探：9. 代码共享(完)"  # the corpus's one post of that series (id 3856)


def post(n: int, title: str, tags=(), year: int = 2020) -> Post:
    p = Post(title=title, date=PostDate(year, 1, 1 + n % 28), body="", excerpt="", kind="markdown",
             url=f"/archives/{n}/", original_id=n, tags=list(tags))
    p.series = detect_series(title)
    return p


@pytest.mark.parametrize("title, name, number", [
    ("【外微分浅谈】7. 有力的计算", "外微分浅谈", 7),
    ("【外微分浅谈】3. 微分形式", "外微分浅谈", 3),
    ("【理解黎曼几何】1. 动机和流形", "理解黎曼几何", 1),
    ("【理解黎曼几何】（三）：曲率", "理解黎曼几何", 3),
    ("【不可思议的Word2Vec】 2.训练好的模型", "不可思议的Word2Vec", 2),
    ("【不可思议的Word2Vec】 4.不一样的“相似”", "不可思议的Word2Vec", 4),
    ("【中文分词系列】 5. 基于语言模型的无监督分词", "中文分词系列", 5),
    ("生成扩散模型漫谈（十五）：构建ODE的一般步骤（中）", "生成扩散模型漫谈", 15),
    ("SVD分解(三)：连Word2Vec都只不过是个SVD？", "SVD分解", 3),
    ("《自然极值》系列——8.极值分析", "自然极值", 8),
])
def test_unambiguous_series_marks(title, name, number):
    series = detect_series(title)
    assert series is not None, title
    assert (series.name, series.number, series.tentative) == (name, number, False)


@pytest.mark.parametrize("title, name, number", [
    (OCR3, "OCR技术浅探", 3),
    (OCR9, "OCR技术浅探", 9),
    ("Transformer升级之路：17、多模态位置编码的简单思考", "Transformer升级之路", 17),
    ("流形上的最速下降：5. 对偶梯度下降", "流形上的最速下降", 5),
    ("MuP之上：1. 好模型的三个特征", "MuP之上", 1),
])
def test_heading_like_numbers_are_tentative(title, name, number):
    series = detect_series(title)
    assert (series.name, series.number, series.tentative) == (name, number, True)


@pytest.mark.parametrize("title", [
    "【备忘】用树莓派3做无线路由器",  # a column label, no number
    "【生活杂记】用电饭锅来煮米汤",
    "【学习清单】最近比较重要的GAN进展论文",
    "AdamW的Weight RMS的渐近估计（下）",
    "WGAN新方案：通过梯度归一化来实现L约束",
    "圆周率：3.14159的一个级数",  # a decimal number, not part 3
])
def test_titles_that_are_no_series(title):
    assert detect_series(title) is None


def test_a_lone_heading_like_title_is_no_series_but_two_parts_are():
    alone = post(3, OCR3)
    other = post(4, "生成扩散模型漫谈（九）：条件控制生成结果")
    settle_series([alone, other])
    assert alone.series is None  # not a one-post series
    assert other.series.name == "生成扩散模型漫谈"  # an unambiguous mark stands alone

    parts = [post(3, OCR3), post(3856, OCR9)]
    settle_series(parts)
    assert [(p.series.name, p.series.number) for p in parts] == [("OCR技术浅探", 3), ("OCR技术浅探", 9)]


def test_corpus_titles_classified(shared_dir):
    """Over the 130 real posts: the 【…】 series are series, the lone OCR part is not."""
    titles = [e["title"] for e in json.loads((shared_dir / "corpus" / "index.json").read_text(encoding="utf-8"))]
    posts = [post(i, t) for i, t in enumerate(titles)]
    settle_series(posts)
    by_title = {p.title: p.series for p in posts}
    assert by_title[OCR9] is None and by_title["MuP之上：1. 好模型的三个特征"] is None
    assert by_title["流形上的最速下降：1. SGD + 超球面"].name == "流形上的最速下降"
    bracketed = [t for t in titles if t.startswith("【") and re.match(r"【[^】]+】\s*\d", t)]
    assert len(bracketed) >= 7
    assert all(by_title[t] is not None for t in bracketed)
    names = {s.name for s in by_title.values() if s}
    assert {"不可思议的Word2Vec", "中文分词系列", "外微分浅谈", "Transformer升级之路"} <= names


def test_related_posts_leave_out_the_series_box():
    parts = [post(n, f"漫谈（{n}）：第{n}部分", tags=["扩散", "生成模型"]) for n in range(1, 7)]
    others = [post(100 + n, f"别的文章{n}", tags=["扩散"]) for n in range(3)]
    everyone = parts + others
    assign_related(everyone, memo=RelatedMemo())
    for p in parts:
        urls = {r.url for r in p.related}
        assert urls == {o.url for o in others}, p.title  # no part of its own series
    # Posts outside the series still see the series posts.
    assert {r.url for r in others[0].related} & {p.url for p in parts}


def test_series_index_counts_and_newest_part():
    a1, a2, b1 = post(1, "甲（一）：x", year=2020), post(2, "甲（二）：y", year=2022), post(3, "乙（一）：z", year=2021)
    newest_first = [a2, b1, a1]
    entries = series_index(newest_first)
    assert [(e.name, e.count, e.newest.title) for e in entries] == [("甲", 2, "甲（二）：y"), ("乙", 1, "乙（一）：z")]


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    where = tmp_path_factory.mktemp("series")
    root = where / "site"
    shutil.copytree(REPO / "posts", root / "posts")
    (root / "kxsj.yml").write_text((REPO / "kxsj.yml").read_text(encoding="utf-8") + "\nsearch: false\n", encoding="utf-8")
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=where / "public"))
    assert report.written, [str(d) for d in report.diagnostics]
    return where / "public"


def test_bundled_series_page_is_built_linked_and_in_the_sitemap(bundled):
    index = (bundled / "series" / "index.html").read_text(encoding="utf-8")
    names = re.findall(r'class="series-name" href="[^"]+">([^<]+)</a>', index)
    assert names == ["生成扩散模型漫谈", "多任务学习漫谈", "变分自编码器", "SVD分解", "自然极值"]
    assert "本站收录 5 篇" in index and "本站收录 1 篇" in index
    home = (bundled / "index.html").read_text(encoding="utf-8")
    assert '<a href="/series/">系列</a>' in home
    assert "<loc>/series/</loc>" in (bundled / "sitemap.xml").read_text(encoding="utf-8")


def test_series_box_marks_the_current_part_and_related_skips_it(bundled):
    ddpm6 = (bundled / "archives" / "9228" / "index.html").read_text(encoding="utf-8")
    box = re.search(r'<nav class="series".*?</nav>', ddpm6, re.S).group(0)
    assert "上一部分" not in ddpm6 and "下一部分" not in ddpm6
    assert re.search(r'aria-current="page"><strong>生成扩散模型漫谈（六）', box)
    box_urls = set(re.findall(r'href="(/archives/\d+/)"', box))
    assert len(box_urls) == 4
    related = re.search(r'<section class="related".*?</section>', ddpm6, re.S)
    related_urls = set(re.findall(r'href="(/archives/\d+/)"', related.group(0))) if related else set()
    assert not related_urls & box_urls
    assert "上一篇：" in ddpm6  # the page's own chronological neighbours stay
