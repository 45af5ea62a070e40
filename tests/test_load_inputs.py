"""Loader rules on small hand-made inputs: formats, metadata, years, bad files."""

from __future__ import annotations

from pathlib import Path

from kxsj.load import load_posts
from kxsj.load.series import chinese_number, detect_series


def write(folder: Path, name: str, text, encoding="utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding=encoding)
    return path


def load(tmp_path: Path):
    return load_posts(tmp_path / "posts", root=tmp_path)


def messages(result, level=None):
    return [str(d) for d in result.diagnostics if level is None or d.level == level]


LISTING = """15 Nov

Some title

第一段 *星号* _下划线_ #井号 和 <script>alert(1)</script>

1. 不是列表

点击阅读全文...

3 Jan

可能有读者留意到,这次更新相对来说隔得比较久了。事实上,在上周末时就开始准备这篇文章了,然而笔者低估了这个问题的难度。

第二段。

点击阅读全文...
"""


def test_lost_title_without_metadata_gets_fallback_title_and_warning(tmp_path):
    write(tmp_path, "posts/a.txt", LISTING)
    result = load(tmp_path)
    assert len(result.posts) == 2
    lost = [p for p in result.posts if p.title_guessed]
    assert len(lost) == 1
    post = lost[0]
    assert post.title == "无题（1月3日）"
    assert post.body.startswith("可能有读者留意到")
    warn = [m for m in messages(result, "warning") if "no title line" in m]
    assert len(warn) == 1 and "posts/a.txt:13: warning:" in warn[0]
    assert "opens_with" in warn[0]


def test_years_stay_unknown_without_metadata_with_ready_to_paste_line(tmp_path):
    write(tmp_path, "posts/a.txt", LISTING)
    result = load(tmp_path)
    assert {p.date.iso() for p in result.posts} == {"--11-15", "--01-03"}
    year = [m for m in messages(result, "warning") if "year unknown" in m]
    assert len(year) == 2
    assert any('- {title: "Some title", month_day: "15 Nov", date: YYYY-11-15}' in m for m in year)


def test_metadata_supplies_year_title_tags_matching_after_nfkc(tmp_path):
    write(tmp_path, "posts/a.txt", LISTING.replace("Some title", "WGAN新方案:通过梯度归一化来实现L约束"))
    write(tmp_path, "posts/meta.yml", """
- id: 8757
  date: 2021-11-15
  title: "WGAN新方案：通过梯度归一化来实现L约束"
  url: https://kexue.fm/archives/8757
  tags: [GAN]
  categories: [信息时代]
- id: 9158
  date: 2022-01-03
  title: "不成功的尝试"
  opens_with: "可能有读者留意到，这次更新相对来说隔得比较久了。"
- id: 1
  title: "不存在的文章"
""")
    result = load(tmp_path)
    posts = {p.original_id: p for p in result.posts}
    assert posts[8757].title == "WGAN新方案：通过梯度归一化来实现L约束"
    assert posts[8757].date.iso() == "2021-11-15"
    assert posts[8757].tags == ["GAN"]
    assert posts[9158].title == "不成功的尝试" and not posts[9158].title_guessed
    assert posts[9158].body.startswith("可能有读者留意到")
    assert posts[9158].date.iso() == "2022-01-03"
    unmatched = [m for m in messages(result, "warning") if "matches no post" in m]
    assert len(unmatched) == 1 and "meta.yml:12" in unmatched[0] and "不存在的文章" in unmatched[0]


def test_dump_text_is_plain_text_not_markdown(tmp_path):
    write(tmp_path, "posts/a.txt", LISTING)
    from html import unescape
    import re

    from kxsj.render.markdown import BodyRenderer

    write(tmp_path, "posts/b.txt", "1 Mar\n\n方括号\n\n见[[维基百科]](http://zh.wikipedia.org/a_b) 与 ~~~ 和 \\[x\\] 花了$5，又花了$10\n")
    posts = {p.title: p for p in load(tmp_path).posts}
    post = posts["Some title"]
    html = BodyRenderer().render(post.body).html
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert "第一段 *星号* _下划线_ #井号 和 <script>alert(1)</script>" in text
    assert "1. 不是列表" in text and "<ol" not in html and "<em>" not in html and "<script>" not in html
    assert post.has_more
    other = BodyRenderer().render(posts["方括号"].body).html
    assert 'href="http://zh.wikipedia.org/a_b"' in other
    assert "arithmatex" in other and "\\[x\\]" in unescape(other)  # \[x\] in a dump was display math on the original page
    assert "花了$5，又花了$10" in unescape(re.sub(r"<[^>]+>", "", other))


def test_search_format_year_resolves_listing_duplicate(tmp_path):
    write(tmp_path, "posts/a.txt", "15 Nov\n\n某个标题\n\n第一段。\n\n点击阅读全文...\n")
    write(tmp_path, "posts/b.txt", "某个标题\nBy 苏剑林 | 2021-11-15 | 100位读者 | 引用第一段。\n第二段。\n最近评论")
    result = load(tmp_path)
    [post] = result.posts
    assert post.date.iso() == "2021-11-15"
    assert [Path(s.path).name for s in post.source] == ["a.txt", "b.txt"]
    assert "第二段。" in post.body
    assert not messages(result, "warning")


def test_impossible_date_is_an_error_and_other_posts_load(tmp_path):
    write(tmp_path, "posts/a.txt", "31 Feb\n\n坏日期\n\n正文。\n\n1 Mar\n\n好文章\n\n正文。\n")
    result = load(tmp_path)
    assert [p.title for p in result.posts] == ["好文章"]
    errors = messages(result, "error")
    assert len(errors) == 1 and "posts/a.txt:1: error:" in errors[0] and "31 Feb" in errors[0]


def test_bad_files_get_clear_messages_and_do_not_stop_the_rest(tmp_path):
    write(tmp_path, "posts/good.md", "---\ntitle: 好\ndate: 2024-01-02\n---\n正文\n")
    write(tmp_path, "posts/gbk.txt", "1 Mar\n\n标题\n\n中文正文\n", encoding="gbk")
    write(tmp_path, "posts/empty.md", "")
    write(tmp_path, "posts/binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    write(tmp_path, "posts/broken.md", "---\ntitle: [unclosed\ndate: 2024-01-01\n---\nbody\n")
    write(tmp_path, "posts/baddate.md", "---\ntitle: x\ndate: 2023-02-30\n---\nbody\n")
    result = load(tmp_path)
    assert [p.title for p in result.posts] == ["好"]
    text = "\n".join(messages(result))
    assert "posts/gbk.txt:3: error: not UTF-8" in text and "GBK" in text and "iconv" in text
    assert "posts/empty.md:1: warning: empty file" in text
    assert "posts/binary.txt:1: error: binary file" in text
    assert "posts/broken.md:3: error: front matter is not valid YAML" in text or "posts/broken.md:2: error: front matter is not valid YAML" in text
    assert "posts/baddate.md:3: error: `date` 2023-02-30 does not exist" in text


def test_broken_metadata_file_is_reported_and_dumps_still_load(tmp_path):
    write(tmp_path, "posts/a.txt", LISTING)
    write(tmp_path, "posts/meta.yml", "- id: 1\n  title: [oops\n")
    result = load(tmp_path)
    assert len(result.posts) == 2
    assert any("posts/meta.yml:" in m and "not valid YAML" in m for m in messages(result, "error"))


def test_markdown_post_front_matter_and_more_marker(tmp_path):
    write(tmp_path, "posts/sub/p.md", """---
title: "生成扩散模型漫谈（一）：DDPM = 拆楼 + 建楼"
date: 2022-06-13
tags: [概率, 生成模型]
category: 信息时代
slug: ddpm-1
draft: true
id: 9119
url: https://kexue.fm/archives/9119
---
开头一段。

<!--more-->

后面的内容。
""")
    [post] = load(tmp_path).posts
    assert post.kind == "markdown" and post.draft
    assert post.categories == ["信息时代"] and post.tags == ["概率", "生成模型"]
    assert post.excerpt.strip() == "开头一段。"
    assert post.has_more and "后面的内容。" in post.body and "<!--more-->" not in post.body
    assert (post.series.name, post.series.number) == ("生成扩散模型漫谈", 1)
    assert post.original_id == 9119 and post.slug == "ddpm-1"


def test_chinese_numerals():
    assert [chinese_number(t) for t in ["一", "十", "十五", "二十三", "一百零一", "两", "17"]] == [1, 10, 15, 23, 101, 2, 17]
    assert detect_series("多任务学习漫谈（三）：分主次之序").number == 3
    assert detect_series("Transformer升级之路：17、多模态位置编码的简单思考").number == 17
    assert detect_series("普通的标题") is None


def test_crlf_bom_and_text_before_first_header_are_kept(tmp_path):
    write(tmp_path, "posts/a.txt", "\ufeff孤立的一行\r\n\r\n15 Nov\r\n\r\n标题\r\n\r\n正文\r\n")
    result = load(tmp_path)
    titles = sorted(p.title for p in result.posts)
    assert "标题" in titles and len(result.posts) == 2
    assert any("孤立的一行" in p.body for p in result.posts)
    assert any("text before the first post header" in m for m in messages(result, "warning"))


def test_markdown_post_absorbs_the_dump_of_the_same_post(tmp_path):
    write(tmp_path, "posts/a.txt", "15 Nov\n\nWGAN新方案:通过梯度归一化来实现L约束\n\n摘录。\n\n点击阅读全文...\n")
    write(tmp_path, "posts/meta.yml", '- {id: 8757, date: 2021-11-15, title: "WGAN新方案：通过梯度归一化来实现L约束", tags: [GAN]}\n')
    write(tmp_path, "posts/8757.md", "---\ntitle: WGAN新方案：通过梯度归一化来实现L约束\ndate: 2021-11-15\nid: 8757\n---\n全文。\n")
    result = load(tmp_path)
    [post] = result.posts
    assert post.kind == "markdown" and post.body.strip() == "全文。"
    assert [Path(s.path).name for s in post.source] == ["8757.md", "a.txt"]
    assert post.tags == ["GAN"]
    assert not messages(result, "warning")


def test_display_path_is_relpath_worked_out_per_folder(tmp_path, monkeypatch):
    """Messages name files as ``os.path.relpath`` would, however the path is spelled and wherever kxsj runs."""
    import os

    from kxsj.load.files import display_path

    def by_relpath(path) -> str:
        try:
            rel = os.path.relpath(path)
        except ValueError:
            return str(path)
        return rel if not rel.startswith("../../..") else str(path)

    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    shapes = [
        "a.md", "posts/a.md", "./posts/./a.md", "posts/../x/a.md", "posts//a.md", "posts/a.md/", "posts/..",
        "posts/.", "..", "../a", "../../a/b", "../../../a", "../../..x", "posts/..x", "a/b/c/../../d.md", "/",
        "/x.md", str(tmp_path / "posts" / "a.md"), str(tmp_path / "a" / ".." / "a" / "b.md"), "",
    ]
    for where in (tmp_path, deep, tmp_path / "a", Path("/")):
        monkeypatch.chdir(where)
        for shape in shapes:
            for path in (shape, Path(shape)) if shape else (shape,):
                assert display_path(path) == by_relpath(path), (where, path)
