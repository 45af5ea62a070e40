"""``kxsj serve`` after a body-only save makes again only the pages showing the saved post.

``kxsj.incremental.serve_pages`` keeps the last build's plan and pages and
swaps the saved post in.  Its claim, tested here: after any body-only save
the served pages are byte for byte those of a preview built from scratch
on the same files; saves that change more (a citation, a title) take the
full path and still agree; and the plan of the site reads none of the
fields a post's text decides, which is what makes the swap exact.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path

import pytest
from conftest import count_calls

import kxsj.serve.preview as preview_module
from kxsj.assets import asset_dirs
from kxsj.config import Config
from kxsj.incremental.serve_pages import BLIND_FIELDS, held_posts, only_text_differs
from kxsj.render.plan import plan_site
from kxsj.render.rendered import RenderedPost
from kxsj.render.sidebar import sidebar_data
from kxsj.serve.preview import PreviewSite

CORPUS_POSTS = ("10040.md", "10088.md", "10180.md")
NEWEST = "---\ntitle: 最新的一篇\ndate: 2030-01-02\ntags: [\"新标签\"]\ncategory: \"信息时代\"\n---\n第一段，说点什么。\n"


@pytest.fixture
def site(tmp_site, shared_dir) -> Path:
    """The bundled archive plus three corpus posts and a post newer than all (in the sidebar and the feed)."""
    for name in CORPUS_POSTS:
        shutil.copy(shared_dir / "corpus" / "md" / name, tmp_site / "posts" / name)
    (tmp_site / "posts" / "newest.md").write_text(NEWEST, encoding="utf-8")
    return tmp_site


def _renders(monkeypatch) -> list[int]:
    """Counts full page renders (``render_site``) from the preview."""
    return count_calls(monkeypatch, preview_module, "render_site")


def _as_fresh(preview: PreviewSite, site: Path) -> None:
    fresh = PreviewSite(site, site / "posts")
    fresh.build()
    assert preview.pages.keys() == fresh.pages.keys()
    differing = [path for path in fresh.pages if preview.pages[path] != fresh.pages[path]]
    assert not differing, differing[:5]


def _other_title(preview: PreviewSite) -> str:
    return next(p.title for p in preview.loaded.posts if p.kind == "dump")


# Body edits of one post: (name, edit(text, preview) -> text, whether only the text changed for the site).
LONG = "长" * 3000  # minutes of reading: the reading time shown changes


def _body_edits():
    def add(extra):
        return lambda text, _: text + extra

    return [
        ("a sentence", add("\n新的一句。\n"), True),
        ("another sentence", add("\n又一句。\n"), True),
        ("an excerpt marker", lambda text, _: text.replace("\n\n", "\n\n<!--more-->\n\n", 1)
         if "<!--more-->" not in text else text.replace("<!--more-->", "", 1), True),
        ("a long paragraph", add(f"\n{LONG}\n"), True),
        ("an inline formula", add("\n能量$E=mc^2$。\n"), True),
        ("a display formula", add("\n$$\\int_0^1 x\\,dx=\\frac12$$\n"), True),
        ("a citation", lambda text, p: text + f"\n参见《{_other_title(p)}》。\n", False),
    ]


@pytest.mark.parametrize("name", ["10088.md", "newest.md"])
def test_every_body_edit_serves_what_a_fresh_preview_serves(site, monkeypatch, name):
    preview = PreviewSite(site, site / "posts")
    preview.build()
    renders = _renders(monkeypatch)
    edited = site / "posts" / name
    for what, edit, body_only in _body_edits():
        before = renders[0]
        edited.write_text(edit(edited.read_text(encoding="utf-8"), preview), encoding="utf-8")
        rebuild = preview.build([edited])
        assert (renders[0] == before) == body_only, f"{what}: the quick path {'not ' if body_only else ''}taken"
        assert rebuild.changed_pages, what
        _as_fresh(preview, site)


def test_random_runs_of_body_edits_and_other_saves(site, monkeypatch):
    """Body edits of several posts in a random order, with saves that take the full path between them."""
    preview = PreviewSite(site, site / "posts")
    preview.build()
    renders = _renders(monkeypatch)
    files = [site / "posts" / n for n in (*CORPUS_POSTS, "newest.md")]
    originals = {f: f.read_text(encoding="utf-8") for f in files}
    edits = _body_edits()
    rng = random.Random(23)
    for step in range(8):
        path = rng.choice(files)
        what, edit, body_only = rng.choice(edits)
        if step == 4:  # a title change: the full path, after which body edits are quick again
            text, body_only = path.read_text(encoding="utf-8").replace("title: ", "title: 改", 1), False
            what = "a title"
        elif rng.random() < 0.3:
            text = originals[path]
            what, body_only = "back to the original", None
        else:
            text = edit(path.read_text(encoding="utf-8"), preview)
        before = renders[0]
        path.write_text(text, encoding="utf-8")
        preview.build([path])
        if body_only is not None:
            assert (renders[0] == before) == body_only, f"step {step} ({what} in {path.name})"
        _as_fresh(preview, site)


def test_body_edits_keep_the_other_bodies_html(site):
    """The quick path renders one body; a later full rebuild still finds every other post's HTML kept."""
    preview = PreviewSite(site, site / "posts")
    preview.build()
    edited = site / "posts" / CORPUS_POSTS[0]
    text = edited.read_text(encoding="utf-8")
    for i in range(3):
        edited.write_text(text + f"\n第{i}句。\n", encoding="utf-8")
        preview.build([edited])
    made = preview.linked.made
    other = site / "posts" / CORPUS_POSTS[1]
    other.write_text(other.read_text(encoding="utf-8").replace("tags: [", 'tags: ["新标签", ', 1), encoding="utf-8")
    preview.build([other])  # a tag: the full path, every body through the memo
    assert preview.linked.made == made  # no body is rendered again
    _as_fresh(preview, site)


class _Untouchable:
    """Stands for a field the plan must not read: any use of it fails."""

    def _fail(self, *args, **kwargs):
        raise AssertionError("the plan read a field that follows from a post's text")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = __len__ = __iter__ = _fail
    __str__ = __format__ = __hash__ = __int__ = __index__ = __add__ = __radd__ = __contains__ = _fail
    __getitem__ = __getattr__ = _fail

    def __repr__(self) -> str:
        return "<untouchable>"


def test_the_plan_and_the_sidebar_read_no_field_the_text_decides(site):
    """What makes the swap exact: ``plan_site`` and ``sidebar_data`` never read ``BLIND_FIELDS`` or the HTML."""
    preview = PreviewSite(site, site / "posts")
    preview.build()
    posts = [dataclasses.replace(p, **{f: _Untouchable() for f in BLIND_FIELDS}) for p in preview.loaded.posts]
    rendered = [RenderedPost(p, _Untouchable(), _Untouchable()) for p in posts]
    rendered.sort(key=lambda rp: (rp.post.date.sort_key(), rp.post.original_id or 0, rp.post.title), reverse=True)
    config = Config()
    plan = plan_site(rendered, config)
    assert len(plan.specs) > len(posts)
    assert held_posts(sidebar_data(posts)) is not None
    # And the specs hold the rendered posts themselves, where a swap finds them.
    held = [held_posts(spec.context) for spec in plan.specs]
    assert all(h is not None for h in held)
    assert {id(rp) for h in held for rp in h if isinstance(rp, RenderedPost)} == {id(rp) for rp in rendered}


def test_the_untouchable_field_is_noticed():
    """The check above can fail: reading a guarded field raises."""
    with pytest.raises(AssertionError):
        sorted([_Untouchable(), _Untouchable()])
    with pytest.raises(AssertionError):
        len(_Untouchable())


def test_only_text_differs_sees_every_other_field(site):
    preview = PreviewSite(site, site / "posts")
    preview.build()
    post = preview.loaded.posts[0]
    assert only_text_differs(post, dataclasses.replace(post, body="x", excerpt="y", has_more=True, chars=1, reading_minutes=9))
    for change in ({"title": "别的"}, {"tags": ["新"]}, {"assets": [("a.png", "/x/a.png")]}, {"cites": []} if post.cites else {"url": "/x/"}):
        assert not only_text_differs(post, dataclasses.replace(post, **change)), change


def _own_template(site: Path, name: str, old: str, new: str) -> None:
    """The site's own copy of the shipped template ``name``, with ``old`` replaced by ``new``."""
    shipped = (asset_dirs("templates", None)[-1] / name).read_text(encoding="utf-8")  # installed or editable alike
    assert old in shipped
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates" / name).write_text(shipped.replace(old, new, 1), encoding="utf-8")


def test_a_sidebar_showing_a_text_field_is_made_again(site, monkeypatch):
    """A site's own sidebar that shows the reading time of the newest posts: a save changing it rebuilds every page."""
    _own_template(site, "_sidebar.html", "{{ post.title }}</a>", "{{ post.title }}</a> {{ post.reading_minutes }}分钟")
    preview = PreviewSite(site, site / "posts")
    preview.build()
    renders = _renders(monkeypatch)
    newest = site / "posts" / "newest.md"
    newest.write_text(NEWEST + "\n一句。\n", encoding="utf-8")  # the same reading time: only its pages
    preview.build([newest])
    assert renders[0] == 0
    _as_fresh(preview, site)
    newest.write_text(NEWEST + f"\n{LONG}\n", encoding="utf-8")  # a longer read: the sidebar of every page
    before = renders[0]
    rebuild = preview.build([newest])
    assert renders[0] == before + 1
    assert len(rebuild.changed_pages) > 100
    _as_fresh(preview, site)


def test_a_neighbour_showing_a_text_field_is_made_again_every_time(site):
    """A page found to read nothing of a post's text is kept at its next save; one that reads some never is."""
    _own_template(site, "post.html", "{{ post_link(next.post) }}",
                  "{{ post_link(next.post) }}（{{ next.post.reading_minutes }}分钟）")
    preview = PreviewSite(site, site / "posts")
    preview.build()
    edited = site / "posts" / CORPUS_POSTS[1]
    text = edited.read_text(encoding="utf-8")
    for extra in ("\n一句。\n", f"\n{LONG}\n", f"\n{LONG}{LONG}\n", "\n短了。\n"):
        edited.write_text(text + extra, encoding="utf-8")
        preview.build([edited])
        _as_fresh(preview, site)
