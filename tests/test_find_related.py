"""Related posts (shared tags, then date), series neighbours, reading time."""

from __future__ import annotations

import re

from kxsj.enrich import enrich
from kxsj.enrich.reading import CJK_PER_MINUTE, WORDS_PER_MINUTE, char_count, reading_minutes, text_counts
from kxsj.enrich.related import RELATED_MAX, RelatedMemo, assign_related, assign_series_neighbours
from kxsj.model import Post, PostDate, Series


def post(n: int, tags=(), year=2020, month=1, series=None, body="") -> Post:
    return Post(
        title=f"文章{n}", date=PostDate(year, month, 1), body=body, excerpt="", kind="markdown",
        url=f"/archives/{n}/", original_id=n, tags=list(tags), series=series,
    )


def test_related_ranks_by_shared_tags_then_newest_and_stops_at_five():
    me = post(1, ["a", "b", "c"])
    two_old = post(2, ["a", "b"], year=2010)
    two_new = post(3, ["a", "b"], year=2015)
    three = post(4, ["a", "b", "c", "z"], year=2000)
    ones = [post(10 + i, ["c"], year=2001 + i) for i in range(5)]  # 2001..2005
    stranger = post(99, ["x"], year=2024)
    posts = [me, two_old, two_new, three, stranger, *ones]
    assign_related(posts)
    assert [r.url for r in me.related] == [
        "/archives/4/", "/archives/3/", "/archives/2/", "/archives/14/", "/archives/13/",
    ]
    assert len(me.related) == RELATED_MAX
    assert stranger.related == []  # sharing no tag is not related
    assert all(p.url not in [r.url for r in p.related] for p in posts)  # never itself


def test_a_kept_memo_answers_only_while_urls_titles_dates_and_tags_stay(tmp_path):
    def archive(**changes):
        posts = [post(n, ["a", "b"] if n % 2 else ["b", "c"], year=2000 + n) for n in range(12)]
        for n, tags in changes.items():
            posts[int(n[1:])].tags = tags
        return posts

    def related(posts, memo=None):
        assign_related(posts, memo=memo)
        return [[r.url for r in p.related] for p in posts]

    memo = RelatedMemo()
    related(archive(), memo)
    memo.save(tmp_path / "related.json")
    kept = RelatedMemo.load(tmp_path / "related.json")
    assert related(archive(), kept) == related(archive(), RelatedMemo())
    changed = archive(n3=["c"])  # one post's tags: other posts' related change too
    assert related(changed, kept) == related(archive(n3=["c"]), RelatedMemo()) != related(archive(), RelatedMemo())
    def titles(posts, memo):
        assign_related(posts, memo=memo)
        return [[r.title for r in p.related] for p in posts]

    retitled, fresh = archive(), archive()
    retitled[5].title = fresh[5].title = "新标题"  # links show titles: a kept answer would show the old one
    assert titles(retitled, kept) == titles(fresh, RelatedMemo())
    (tmp_path / "related.json").write_bytes(b"damaged")
    assert RelatedMemo.load(tmp_path / "related.json").key is None


def test_post_without_tags_has_no_related():
    lonely, other = post(1), post(2, ["a"])
    assign_related([lonely, other])
    assert lonely.related == [] and other.related == []


def test_series_neighbours_follow_numbers_across_gaps():
    parts = [post(n, series=Series("漫谈", n)) for n in (15, 1, 6, 2)]
    alone = post(50, series=Series("独篇", 1))
    plain = post(60)
    assign_series_neighbours([*parts, alone, plain])
    by_number = {p.series.number: p for p in parts}
    assert by_number[1].series_prev is None and by_number[1].series_next.url == "/archives/2/"
    assert by_number[2].series_prev.url == "/archives/1/" and by_number[2].series_next.url == "/archives/6/"
    assert by_number[6].series_next.title == "文章15"
    assert by_number[15].series_next is None
    assert alone.series_prev is None and alone.series_next is None
    assert plain.series_prev is None and plain.series_next is None


def test_reading_time_counts_chinese_by_characters_and_other_text_by_words():
    assert reading_minutes("字" * CJK_PER_MINUTE) == 1
    assert reading_minutes("字" * (CJK_PER_MINUTE * 3)) == 3
    assert reading_minutes("字" * (CJK_PER_MINUTE * 3 + 1)) == 4
    # The same number of characters in English words reads slower per character.
    english = " ".join(["word"] * (WORDS_PER_MINUTE * 2))
    assert reading_minutes(english) == 2
    mixed = "字" * CJK_PER_MINUTE + " " + " ".join(["word"] * WORDS_PER_MINUTE)
    assert reading_minutes(mixed) == 2
    assert reading_minutes("") == 0 and reading_minutes("短") == 1


def test_math_is_counted_lightly_and_markup_not_at_all():
    heavy_tex = "$$" + "\\frac{\\partial^2 f}{\\partial x^2}" * 200 + "$$"
    assert reading_minutes(heavy_tex) == 1  # one display formula, however long its TeX
    assert text_counts("中文$x$和$$y$$，[链接](https://example.com/a/very/long/path)") == (5, 0, 1, 1)
    assert char_count("中文 $x^2$ **粗** [链接](https://example.com/) word") == 9  # 中文 粗 链接 word


def test_reading_edge_cases_empty_spaces_math_only_and_mixed_scripts():
    # (text, chars, minutes, text_counts)
    cases = [
        ("", 0, 0, (0, 0, 0, 0)),
        ("   \n\t\u3000\u00a0\n", 0, 0, (0, 0, 0, 0)),  # Unicode spaces are not characters either
        ("$x^2$", 0, 1, (0, 0, 1, 0)),
        ("$$\\int_0^1 f(x)\\,dx$$\n\\begin{equation}a=b\\end{equation}", 0, 1, (0, 0, 0, 2)),
        ("中文English混合，it's 3.14 U.S.A. x-ray；日本語 한국어 𠀀", 39, 1, (11, 5, 0, 0)),
        ("中文\u3000，\tword\u00a0字", 8, 1, (3, 1, 0, 0)),
        ("abc中def", 7, 1, (1, 2, 0, 0)),  # a CJK character ends a word
        ("x-中y", 4, 1, (1, 2, 0, 0)),
        ("x-y中.z", 6, 1, (1, 2, 0, 0)),
    ]
    for text, chars, minutes, counts in cases:
        assert (char_count(text), reading_minutes(text), text_counts(text)) == (chars, minutes, counts), text


def test_enrich_fills_reading_and_related():
    posts = enrich([post(1, ["a"], body="字" * 1000), post(2, ["a"], body="短文")])
    first = next(p for p in posts if p.url == "/archives/1/")
    assert first.chars == 1000 and first.reading_minutes == 3
    assert [r.url for r in first.related] == ["/archives/2/"]


# The markup stripper in two passes (line markers, then the rest) against the
# single pass it replaced, kept here as the reference.
_ONE_PASS = re.compile(
    r"!?\[([^\]\n]*)\]\([^)\n]*\)"
    r"|<[^>\n]+>"
    r"|^[ \t]*(?:#{1,6}|[*+-]|\d+\.|>)[ \t]+"
    r"|[*_~`]+",
    re.M,
)
_PIECES = list("ab 1.#*+->[]()!<>_~`\t\n字") + [
    "# ", "## ", "* ", "- ", "1. ", "> ", "[x](y)", "<b>", "</i>", "\n  ", "![i](u)", "![](x)", "[](y)", "**", "~~",
    "`c`", "[#  t](u)", "!<a>", "![[a](b)", "[a\n](b)", "<a\nb>", "  > ", "12. ", "####### ",
]


def test_markup_is_stripped_as_the_single_pass_did(shared_dir):
    import random

    from kxsj.enrich.reading import _strip_markup

    rng = random.Random(20241121)
    texts = ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 40))) for _ in range(30000)]
    texts += [p.read_text(encoding="utf-8") for p in sorted((shared_dir / "corpus" / "md").glob("*.md"))]
    differing = [t for t in texts if _strip_markup(t) != _ONE_PASS.sub(lambda m: m.group(1) or " ", t)]
    assert differing == [], differing[:3]


def test_related_is_what_ranking_every_post_by_hand_gives():
    """Random archives, each post ranked against all others by (shared tags, newest, URL) the slow way."""
    import random

    rng = random.Random(20241121)
    for trial in range(40):
        tags = [f"t{i}" for i in range(rng.randint(1, 12))]
        posts = [
            post(n, rng.sample(tags, rng.randint(0, min(6, len(tags)))), year=rng.randint(2000, 2003), month=rng.randint(1, 12))
            for n in range(rng.randint(1, 60))
        ]
        limit = rng.choice([1, 3, RELATED_MAX, 8])
        assign_related(posts, limit=limit, memo=RelatedMemo())
        for me in posts:
            newest = sorted(posts, key=lambda p: (p.date.sort_key(), p.url), reverse=True)
            shared = [(len(set(me.tags) & set(p.tags)), -i, p) for i, p in enumerate(newest) if p is not me]
            ranked = [p.url for n, _, p in sorted(shared, key=lambda t: (t[0], t[1]), reverse=True) if n > 0][:limit]
            assert [r.url for r in me.related] == ranked, (trial, me.url)


def test_posts_sharing_no_tag_are_never_counted_as_sharing_them_all():
    """``_most_shared`` reads exact counts off binary digits: a count nobody reaches must not match count 0."""
    from kxsj.enrich.related import _most_shared

    # Posts 1 and 2 share one tag each, post 0 none; nobody is in both sets.
    assert _most_shared([0b010, 0b100], 0b111, 5) == [1, 2]
    assert _most_shared([0b110, 0b100, 0b1000], 0b1111, 5) == [2, 1, 3]
