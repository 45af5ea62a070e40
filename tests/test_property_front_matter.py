"""Property test: no front matter makes the loader raise, only diagnostics (issue 22).

The generator writes front matter two ways: values of every YAML type
(huge and non-finite numbers, booleans, nulls, nested lists and mappings,
lone surrogates, control characters) under the keys kxsj knows and under
others, dumped by PyYAML; and raw YAML text pieced together from the
tokens that broke it before (``&a``/``*a`` aliases, ``!!python`` tags,
``\\ud800`` escapes, unclosed quotes and brackets, tabs).

Whatever comes out, ``parse_markdown_post`` returns a post or None with its
reasons as ``Diagnostic``s naming the file; a post it returns goes through
the enrich stage (URLs, tags) and gets an address of the site's form.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kxsj.enrich import enrich
from kxsj.load.files import TextFile
from kxsj.load.markdown_posts import parse_markdown_post
from kxsj.model import Diagnostic, Post

KEYS = ["title", "date", "tags", "tag", "categories", "category", "slug", "draft", "summary", "id", "url", "author", "series", "x", "日期"]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["2021-02-30", "2021-13-01", "0000-01-01", "9999-12-31", "2020-1-1", "true", "yes", "~",
                     "javascript:alert(1)", "https://kexue.fm/archives/1", "9" * 60, ".inf", "-1", "1e400"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=12)

RAW_TOKENS = st.sampled_from([
    "title: ", "date: ", "id: ", "tags: ", "slug: ", "draft: ", "url: ", "\n", "\n  - ", "  ", "\t", ": ", "- ",
    "&a ", "*a", "&b [*a, *a, *a]", "[", "]", "{", "}", "'", '"', '"\\ud800"', '"\\udfff\\ud800"', "!!python/object:os.system ",
    "!!binary ", "!!int ", "!!float ", ".inf", ".nan", "true", "null", "2021-02-29", "9" * 50, "<<: *a", "? ", "|", ">",
    "文章", "$x$", "---", "...", "#", "%YAML 1.1", "\x00", "\x85", "\u2028",
])


def _check(text: str, tmp: Path) -> None:
    diags: list[Diagnostic] = []
    post = parse_markdown_post(TextFile(tmp / "post.md", "posts/post.md", text), diags)
    assert post is None or isinstance(post, Post)
    for d in diags:
        assert isinstance(d, Diagnostic) and d.path == "posts/post.md" and d.level in ("info", "warning", "error")
        assert isinstance(d.line, int) and d.line >= 0
    if post is None:
        assert any(d.level == "error" for d in diags), "a post left out must say why"
        return
    more: list[Diagnostic] = []
    (done,) = enrich([post], None, more)
    assert re.fullmatch(r"/(archives/[1-9][0-9]{0,14}|posts/[^/]+)/", done.url), done.url
    assert all(isinstance(t, str) for t in done.tags + done.categories)
    assert len(done.tags) <= 100 and len(done.categories) <= 100
    assert len(done.url.encode("utf-8")) < 1000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(meta=st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), VALUES, max_size=8), body=st.text(max_size=40))
def test_front_matter_of_any_values_gives_only_diagnostics(tmp_path, meta, body):
    try:
        fm = yaml.safe_dump(meta, allow_unicode=True)
    except yaml.YAMLError:  # PyYAML cannot write it (a lone surrogate): write it escaped
        fm = yaml.safe_dump(meta, allow_unicode=False)
    _check(f"---\n{fm}---\n{body}\n", tmp_path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tokens=st.lists(RAW_TOKENS, max_size=25), closed=st.booleans())
def test_raw_front_matter_text_gives_only_diagnostics(tmp_path, tokens, closed):
    text = "---\n" + "".join(tokens) + ("\n---\n正文\n" if closed else "")
    _check(text, tmp_path)


def test_the_alias_bomb_is_an_error_for_its_file(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdef", "bcdefg"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "---\ntitle: bomb\ndate: 2020-01-01\n" + "\n".join(lines) + "\ntags: [*g]\n---\nx\n"
    assert len(text.encode()) < 600
    diags: list[Diagnostic] = []
    assert parse_markdown_post(TextFile(tmp_path / "b.md", "posts/b.md", text), diags) is None
    assert [d.level for d in diags] == ["error"] and "aliases" in diags[0].message
