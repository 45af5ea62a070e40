"""The feed's MathML bodies are kept (``kxsj.incremental.feed_bodies``): converted once, the same feed every time.

``feed.xml`` carries the newest posts' bodies with their formulas as
MathML, made by MathJax in V8.  A build after editing one of those posts,
and ``kxsj serve`` at each save of one, convert only that post's body
again; the feed is byte for byte the feed a build from nothing makes.
"""

from __future__ import annotations

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.incremental.feed_bodies import FeedBodies
from kxsj.incremental.store import Store
from kxsj.render import mathengine
from kxsj.render.mathbuild import feed_body

pytestmark = pytest.mark.skipif(not mathengine.available(), reason="mini-racer is not installed")

BODY = '<p>能量 <span class="arithmatex">\\(E=mc^2\\)</span>。</p>'
POSTS = 3


def _post(n: int, extra: str = "") -> str:
    return (f"---\ntitle: 第{n}篇\ndate: 2024-01-{10 + n:02d}\ntags: [测试]\n---\n\n"
            f"第{n}篇的公式 $x_{n}^2$ 和\n\n$$\\sum_{{k=1}}^{{{n}}} k$$\n{extra}")


@pytest.fixture
def counted(monkeypatch):
    """How many bodies MathJax converted to MathML."""
    calls = []
    real = mathengine.mathml

    def mathml(fragments):
        calls.append(len(fragments))
        return real(fragments)

    monkeypatch.setattr(mathengine, "mathml", mathml)
    return calls


def test_a_body_is_converted_once_and_given_as_feed_body_gives_it(counted):
    bodies = FeedBodies(Store(None))
    first = bodies(BODY)
    assert first == feed_body(BODY) and "<math" in first and "E=mc^2" in first
    counted.clear()
    assert bodies(BODY) == first
    assert counted == []


def test_a_body_without_formulas_is_given_back_and_not_kept():
    plain = "<p>没有公式。</p>"
    store = Store(None)
    assert FeedBodies(store)(plain) is plain
    assert store.namespace("feed", "unused").get(plain) is None


def test_a_build_that_does_not_make_the_feed_carries_its_bodies_into_the_new_output(tmp_path, counted):
    first, second, third = (tmp_path / name for name in ("first", "second", "third"))
    bodies = FeedBodies(Store(first))
    bodies(BODY)
    bodies.store.save_into(second)  # each build writes its caches into its new output
    unasked = FeedBodies(Store(second))
    unasked.keep_unasked()  # this build's feed was the last one's
    unasked.store.save_into(third)
    counted.clear()
    assert FeedBodies(Store(third))(BODY) == feed_body(BODY)
    assert len(counted) == 1  # the comparison's own conversion: none for the body kept


def _site(tmp_path):
    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    # The feed shows the two newest of the three posts.
    (site / "kxsj.yml").write_text("title: 测试\nsearch: false\nbase_url: https://example.org/\nfeed_size: 2\n", encoding="utf-8")
    for n in range(POSTS):
        (site / "posts" / f"p{n}.md").write_text(_post(n), encoding="utf-8")
    return site


def _feed(site, out: str, cache: bool = True) -> bytes:
    report = build_site(BuildOptions(site, site / "posts", site / out, cache=cache))
    assert report.ok, [str(d) for d in report.diagnostics]
    return (site / out / "feed.xml").read_bytes()


def test_a_build_after_editing_a_feed_post_converts_only_that_post(tmp_path, counted):
    site = _site(tmp_path)
    _feed(site, "public")
    assert len(counted) == 2
    counted.clear()
    (site / "posts" / "p0.md").write_text(_post(0, "\n旧的一篇改了。\n"), encoding="utf-8")
    _feed(site, "public")  # the feed is not made again: its bodies stay in the cache
    assert counted == []
    (site / "posts" / "p2.md").write_text(_post(2, "\n又改了一句。\n"), encoding="utf-8")
    feed = _feed(site, "public")
    assert len(counted) == 1, counted
    assert b"\xe5\x8f\x88\xe6\x94\xb9\xe4\xba\x86\xe4\xb8\x80\xe5\x8f\xa5" in feed  # 又改了一句
    assert feed == _feed(site, "fresh", cache=False)


def test_serve_converts_only_the_saved_post_and_serves_the_fresh_feed(tmp_path, counted):
    from kxsj.serve.preview import PreviewSite

    site = _site(tmp_path)
    preview = PreviewSite(site, site / "posts")
    preview.build()
    counted.clear()
    saved = site / "posts" / "p2.md"
    saved.write_text(_post(2, "\n又改了一句。\n"), encoding="utf-8")
    rebuild = preview.build([saved])
    assert "/feed.xml" in rebuild.changed_pages and len(counted) == 1, counted
    fresh = PreviewSite(site, site / "posts")
    fresh.build()
    assert preview.pages["/feed.xml"] == fresh.pages["/feed.xml"]
