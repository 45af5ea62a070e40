"""The parse cache gives back exactly what parsing gives (``kxsj.load.parse_cache``)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from kxsj.load import load_posts
from kxsj.load.parse_cache import FOLDER, ParseCache
from kxsj.build import BuildOptions, build_site
from kxsj.render.cache import CACHE_DIR

POST = """---
title: 缓存测试
date: 2024-05-06
tags: [测试]
---
正文 $x^2$ 一段。
"""


def load(posts: Path, cache: ParseCache | None):
    return load_posts(posts, parse=cache)


def saved(cache: ParseCache, where: Path) -> ParseCache:
    """The cache as the next build reads it back from disk."""
    cache.save_into(where)
    return ParseCache(where)


def test_cached_results_equal_parsing_and_repeat_the_diagnostics(tmp_site, tmp_path):
    posts = tmp_site / "posts"
    (posts / "bad.md").write_text("---\ntitle: [unclosed\n---\n正文\n", encoding="utf-8")
    plain = load(posts, None)
    first = ParseCache(tmp_path / "none")
    assert load(posts, first) == plain and first.hits == 0
    second = saved(first, tmp_path / "c")
    again = load(posts, second)
    assert second.hits == len(list(posts.iterdir()))  # the bad file too: its diagnostics are its result
    assert again.posts == plain.posts
    assert [str(d) for d in again.diagnostics] == [str(d) for d in plain.diagnostics]
    assert any("bad.md" in str(d) for d in again.diagnostics)


def test_an_edit_keeping_size_and_time_is_parsed_again(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    post = posts / "a.md"
    post.write_text(POST, encoding="utf-8")
    st = post.stat()
    cache = saved(ParseCache(tmp_path / "none"), tmp_path / "c0")
    load(posts, cache)
    cache = saved(cache, tmp_path / "c1")
    post.write_text(POST.replace("缓存测试", "缓存实验"), encoding="utf-8")  # same length in bytes
    os.utime(post, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert post.stat().st_size == st.st_size and post.stat().st_mtime_ns == st.st_mtime_ns
    result = load(posts, cache)
    assert cache.hits == 0
    assert [p.title for p in result.posts] == ["缓存实验"]


def test_results_are_fresh_objects_each_time(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text(POST, encoding="utf-8")
    cache = saved(ParseCache(tmp_path / "none"), tmp_path / "c0")
    load(posts, cache)
    cache = saved(cache, tmp_path / "c1")
    one = load(posts, cache).posts[0]
    one.title = "改掉"  # later stages change posts; the cache must not see it
    assert load(posts, cache).posts[0].title == "缓存测试"


def test_a_damaged_cache_file_is_ignored(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text(POST, encoding="utf-8")
    cache = ParseCache(tmp_path / "none")
    load(posts, cache)
    cache.save_into(tmp_path / "c")
    (path,) = (tmp_path / "c" / FOLDER).iterdir()
    path.write_bytes(path.read_bytes()[:-20])
    cache = ParseCache(tmp_path / "c")
    assert load(posts, cache).posts[0].title == "缓存测试" and cache.hits == 0


def test_the_build_keeps_the_cache_in_the_output_and_uses_it(tmp_site):
    out = tmp_site / "public"
    build_site(BuildOptions(tmp_site, tmp_site / "posts", out))
    (path,) = (out / CACHE_DIR / FOLDER).iterdir()
    entries = pickle.loads(path.read_bytes())
    assert len(entries) == len([p for p in (tmp_site / "posts").iterdir() if p.is_file()])
    cache = ParseCache(out / CACHE_DIR)
    load_posts(tmp_site / "posts", parse=cache)
    assert cache.hits == len(entries)
