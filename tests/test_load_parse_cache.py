"""The parse cache gives back exactly what parsing gives (``kxsj.incremental.parse``)."""

from __future__ import annotations

import os
from pathlib import Path

from kxsj.lint import parse_and_lint_post_file
from kxsj.load import load_posts
from kxsj.incremental.parse import FOLDER, ParseCache
from kxsj.build import BuildOptions, build_site
from kxsj.incremental.store import CACHE_DIR

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
    (path,) = (tmp_path / "c" / FOLDER).rglob("*.bin")
    path.write_bytes(path.read_bytes()[:-20])
    cache = ParseCache(tmp_path / "c")
    assert load(posts, cache).posts[0].title == "缓存测试" and cache.hits == 0
    cache.save_into(tmp_path / "c2")  # the damaged shard is written anew, not carried over
    cache = ParseCache(tmp_path / "c2")
    assert load(posts, cache).posts[0].title == "缓存测试" and cache.hits == 1


def test_the_build_keeps_the_cache_in_the_output_and_uses_it(tmp_site):
    out = tmp_site / "public"
    build_site(BuildOptions(tmp_site, tmp_site / "posts", out))
    from kxsj.incremental.sealed import read_sealed, unpack_records

    entries = {}
    for path in (out / CACHE_DIR / FOLDER).rglob("*.bin"):
        entries.update(unpack_records(read_sealed(path, f"{FOLDER}/{path.parent.name}/{path.stem}")))
    assert len(entries) == len([p for p in (tmp_site / "posts").iterdir() if p.is_file()])
    cache = ParseCache(out / CACHE_DIR)
    load_posts(tmp_site / "posts", parse=cache, parse_file=parse_and_lint_post_file)  # as the build reads them
    assert cache.hits == len(entries)


def test_an_edit_rewrites_only_its_own_shard(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    for i in range(40):
        (posts / f"p{i:02d}.md").write_text(POST.replace("缓存测试", f"缓存测试{i}"), encoding="utf-8")
    cache = ParseCache(tmp_path / "none")
    load(posts, cache)
    cache.save_into(tmp_path / "c1")
    before = {p.name: p.stat().st_ino for p in (tmp_path / "c1" / FOLDER).rglob("*.bin")}
    (posts / "p07.md").write_text(POST.replace("缓存测试", "改过的"), encoding="utf-8")
    cache = ParseCache(tmp_path / "c1")
    assert [p.title for p in load(posts, cache).posts if p.title == "改过的"] == ["改过的"]
    cache.save_into(tmp_path / "c2")
    after = {p.name: p.stat().st_ino for p in (tmp_path / "c2" / FOLDER).rglob("*.bin")}
    assert len(before) > 2
    # The edited file's old entry goes and its new one comes: one shard or two change (or appear, or go).
    changed = [name for name in before.keys() | after.keys() if before.get(name) != after.get(name)]
    assert 1 <= len(changed) <= 2, changed
    cache = ParseCache(tmp_path / "c2")
    assert sorted(p.title for p in load(posts, cache).posts) == sorted(p.title for p in load(posts, ParseCache(tmp_path / "x")).posts)
    assert cache.hits == 40


def test_a_kept_post_brings_the_digests_of_its_texts(tmp_path):
    """The build's caches name a body by its SHA-256: a kept post's must be its own text's."""
    import hashlib

    from kxsj.incremental.store import TextDigests

    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text(POST + "\n<!--more-->\n\n后文 $y$。\n", encoding="utf-8")
    first = ParseCache(tmp_path / "none", digests=TextDigests())
    load(posts, first)
    first.save_into(tmp_path / "c")
    digests = TextDigests()
    second = ParseCache(tmp_path / "c", digests=digests)
    [post] = load(posts, second).posts
    assert second.hits == 1 and post.excerpt != post.body
    for text in (post.body, post.excerpt):
        assert digests._kept[id(text)] == (text, hashlib.sha256(text.encode()).digest())  # given, not computed here


def test_drafts_are_parsed_but_never_kept(tmp_path):
    """A draft's text never reaches the cache, which travels with the published output."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text(POST, encoding="utf-8")
    (posts / "draft.md").write_text(POST.replace("tags:", "draft: true\ntags:").replace("正文", "草稿秘密正文"), encoding="utf-8")
    cache = ParseCache(tmp_path / "none")
    assert sorted(p.draft for p in load(posts, cache).posts) == [False, True]
    cache.save_into(tmp_path / "c")
    stored = b"".join(p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file())
    assert "缓存测试".encode() in stored and "草稿秘密正文".encode() not in stored
    again = ParseCache(tmp_path / "c")
    assert sorted(p.draft for p in load(posts, again).posts) == [False, True] and again.hits == 1


def test_entries_come_back_as_the_same_plain_data(tmp_site):
    """Every kind of parse result (posts, dump entries, metadata, diagnostics) survives the JSON round trip."""
    from kxsj.load import parse_post_file
    from kxsj.load.metadata import load_metadata
    from kxsj.incremental.parse_codec import decode, encode

    posts = tmp_site / "posts"
    (posts / "a.md").write_text(POST + "\n<!--more-->\n\n后文，$y$。\n", encoding="utf-8")
    (posts / "bad.md").write_text("---\ntitle: [unclosed\n---\n正文\n", encoding="utf-8")
    files = sorted(p for p in posts.iterdir() if p.is_file())
    assert {p.suffix for p in files} >= {".txt", ".md", ".yml"}
    for path in files:
        diags: list = []
        result = (load_metadata if path.suffix == ".yml" else parse_post_file)(path, diags)
        assert decode(encode([result, diags])) == [result, diags], path
