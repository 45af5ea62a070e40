"""``kxsj serve`` after a save that changed only a post's text: the same site as a full rebuild.

The preview skips loading and enriching the archive when a Markdown post's
body is all that changed (``kxsj.incremental.serve_quick``).  Each save below is
built twice on the same files: by a preview that may take that path and by
one that always loads everything.  Pages, posts, diagnostics and the
overlay's problems must be identical, and where nothing else changed the
quick path must really have been taken.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import count_calls

import kxsj.serve.preview as preview_module
from kxsj.serve.preview import PreviewSite

CORPUS_POSTS = ("10040.md", "10088.md", "10180.md")


@pytest.fixture
def site(tmp_site, shared_dir) -> Path:
    """The bundled archive (dumps and metadata) plus three Markdown posts."""
    for name in CORPUS_POSTS:
        shutil.copy(shared_dir / "corpus" / "md" / name, tmp_site / "posts" / name)
    return tmp_site


def _loads(monkeypatch) -> list[int]:
    """Counts calls of the full load (``load_site_posts``) from the preview."""
    return count_calls(monkeypatch, preview_module, "load_site_posts")


def _always_full(site: Path) -> PreviewSite:
    preview = PreviewSite(site, site / "posts")
    preview.loaded.after_save = lambda changed, files: None
    return preview


def _same_result(quick, full, quick_build, full_build) -> None:
    assert quick.pages.keys() == full.pages.keys()
    differing = [path for path in quick.pages if quick.pages[path] != full.pages[path]]
    assert not differing, differing[:5]
    assert quick.loaded.posts == full.loaded.posts
    assert sorted(map(str, quick_build.diagnostics)) == sorted(map(str, full_build.diagnostics))
    assert sorted(map(str, quick_build.problems)) == sorted(map(str, full_build.problems))
    assert quick_build.changed_pages == full_build.changed_pages


def test_saves_give_the_site_a_full_rebuild_gives(site, monkeypatch):
    quick, full = PreviewSite(site, site / "posts"), _always_full(site)
    quick.build(), full.build()
    edited = site / "posts" / CORPUS_POSTS[0]
    original = edited.read_text(encoding="utf-8")
    head, body = original.split("\n---\n", 1)
    own_title = next(p.title for p in quick.loaded.posts if p.source[0].path.endswith(CORPUS_POSTS[0]))
    other_title = next(p.title for p in quick.loaded.posts if p.kind == "dump")
    loads = _loads(monkeypatch)

    saves = [
        # (what the save does, the new text, whether only the body changed as far as the site is concerned)
        ("adds a sentence with math", original + "\n新的一句，$E=mc^2$。\n", True),
        ("adds another", original + "\n新的一句，$E=mc^2$。\n\n又一句。\n", True),
        ("names its own title", original + f"\n见《{own_title}》。\n", True),
        ("names another post", original + f"\n参见《{other_title}》。\n", False),
        ("drops that mention", original + f"\n见《{own_title}》。\n", False),
        ("leaves a formula open", original + f"\n见《{own_title}》。\n\n$x+y\n", True),
        ("closes it", original + f"\n见《{own_title}》。\n\n$x+y$\n", True),
        ("changes the title", head.replace("title: \"", "title: \"新", 1) + "\n---\n" + body, False),
        ("changes only the body again", head.replace("title: \"", "title: \"新", 1) + "\n---\n" + body + "\n再改。\n", True),
        ("adds a tag", head.replace("tags: [", "tags: [\"新标签\", ", 1) + "\n---\n" + body, False),
    ]
    for what, text, body_only in saves:
        edited.write_text(text, encoding="utf-8")
        before = loads[0]
        quick_build = quick.build([edited])
        assert (loads[0] == before) == body_only, f"save that {what}: quick path {'not ' if body_only else ''}taken"
        full_build = full.build([edited])
        _same_result(quick, full, quick_build, full_build)
        # The open formula is an error: the preview keeps showing the last good text.
        assert bool(quick_build.changed_pages) == ("open" not in what), what


def test_a_save_of_a_dump_or_two_files_loads_everything(site, monkeypatch):
    quick = PreviewSite(site, site / "posts")
    quick.build()
    loads = _loads(monkeypatch)
    dump = sorted((site / "posts").glob("*.txt"))[0]
    dump.write_text(dump.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    quick.build([dump])
    assert loads[0] == 1
    first, second = (site / "posts" / name for name in CORPUS_POSTS[:2])
    for path in (first, second):
        path.write_text(path.read_text(encoding="utf-8") + "\n一句。\n", encoding="utf-8")
    quick.build([first, second])
    assert loads[0] == 2


def test_the_quick_path_after_a_new_post_knows_it(site, monkeypatch):
    """A post added since the last full load is found by the next body-only save of it."""
    quick, full = PreviewSite(site, site / "posts"), _always_full(site)
    quick.build(), full.build()
    new = site / "posts" / "new.md"
    new.write_text("---\ntitle: 新文章\ndate: 2024-05-01\n---\n正文。\n", encoding="utf-8")
    quick.build([new]), full.build([new])
    loads = _loads(monkeypatch)
    new.write_text("---\ntitle: 新文章\ndate: 2024-05-01\n---\n正文，$a^2$。\n", encoding="utf-8")
    quick_build, full_build = quick.build([new]), full.build([new])
    assert loads[0] == 1  # only the twin that always loads
    _same_result(quick, full, quick_build, full_build)


def test_a_render_setting_changed_in_the_config_is_served_at_once(tmp_path):
    """Bodies kept by the dev server are keyed on the render settings: a new setting is never served stale HTML."""
    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    (site / "kxsj.yml").write_text("search: false\n", encoding="utf-8")
    (site / "posts" / "a.md").write_text(
        "---\ntitle: 换行\ndate: 2024-01-02\nslug: lines\n---\n\n第一行\n第二行\n", encoding="utf-8"
    )
    preview = PreviewSite(site, site / "posts")
    preview.build()
    assert b"<br" not in preview.pages["/posts/lines/"]
    (site / "kxsj.yml").write_text("search: false\nline_breaks: br\n", encoding="utf-8")
    preview.build([site / "kxsj.yml"])
    assert b"\xe7\xac\xac\xe4\xb8\x80\xe8\xa1\x8c<br" in preview.pages["/posts/lines/"]


def test_a_body_only_save_checks_the_files_and_links_of_the_saved_post_alone(site, monkeypatch):
    """Posts the save did not touch keep their own files and their link warnings, without being checked again."""
    import kxsj.load.assets as assets

    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000003000000020806000000") + b"\0" * 16
    bundle = site / "posts" / "bundle"
    bundle.mkdir()
    (bundle / "index.md").write_text("---\ntitle: 图文\ndate: 2024-05-02\n---\n![图](fig.png)\n\n[缺](missing.pdf)\n", encoding="utf-8")
    (bundle / "fig.png").write_bytes(png)
    quick, full = PreviewSite(site, site / "posts"), _always_full(site)
    quick.build(), full.build()
    checked: list[str] = []
    attach = assets.attach_assets

    def counted(post, *args, **kwargs):
        checked.append(post.title)
        return attach(post, *args, **kwargs)

    monkeypatch.setattr(assets, "attach_assets", counted)
    edited = site / "posts" / CORPUS_POSTS[1]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n一句。\n", encoding="utf-8")
    quick_build = quick.build([edited])
    assert len(checked) == 1  # the saved post alone
    full_build = full.build([edited])
    _same_result(quick, full, quick_build, full_build)
    page = quick.pages["/posts/图文/"]
    assert b'height="2" loading="lazy" src="/posts/%E5%9B%BE%E6%96%87/fig.png" width="3"' in page
    assert quick.pages["/posts/图文/fig.png"] == png
    assert any("missing.pdf" in str(d) for d in quick_build.diagnostics)
    # The bundle's own text saved: its links are checked again.
    index = bundle / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("(fig.png)", "(fig.png)\n\n![又](fig.png)"), encoding="utf-8")
    checked.clear()
    quick_build, full_build = quick.build([index]), full.build([index])
    assert "图文" in checked
    _same_result(quick, full, quick_build, full_build)

