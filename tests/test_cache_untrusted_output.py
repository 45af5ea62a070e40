"""The output folder is untrusted input: its caches can save work, never run code or change a page.

Every test compares a build that went through the caches with a *fresh*
build (another output folder, another user cache folder, so no cache and
no cache key in common): the published files must be byte for byte the same.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import random
import shutil
from pathlib import Path

import pytest
from jinja2.bccache import bc_magic

from kxsj.build import BuildOptions, build_site
from kxsj.incremental.store import CACHE_DIR

DRAFT = """---
title: 未发表的草稿
date: 2024-05-06
draft: true
tags: [草稿]
---
草稿里的秘密句子，$x^2$ 不该出现在缓存里。

<!--more-->

后文也是秘密。
"""


def tree(folder: Path) -> dict[str, bytes]:
    """The site as published: every file but the caches."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != CACHE_DIR
    }


@pytest.fixture
def site(tmp_site: Path, tmp_path: Path, monkeypatch) -> Path:
    """The bundled archive without search (Pagefind's files stay out of the comparison), with its own user cache folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.delenv("KXSJ_CACHE_KEY", raising=False)
    with open(tmp_site / "kxsj.yml", "a", encoding="utf-8") as f:
        f.write("\nsearch: false\n")
    return tmp_site


def build(root: Path, out: str = "public", **options) -> dict[str, bytes]:
    report = build_site(BuildOptions(root, root / "posts", root / out, **options))
    assert report.written, [str(d) for d in report.diagnostics]
    assert not any("internal error" in d.message for d in report.diagnostics)
    return tree(root / out)


def fresh(root: Path, tmp_path: Path, monkeypatch, name: str, **options) -> dict[str, bytes]:
    """A build from nothing: a new output folder and a new user cache folder (new key, no compiled templates)."""
    with monkeypatch.context() as m:
        m.setenv("XDG_CACHE_HOME", str(tmp_path / f"user-cache-{name}"))
        return build(root, f"fresh-{name}", **options)


# --------------------------------------------------------------------------
# A change of base_url, configuration or templates: the output of a fresh build


def test_a_new_base_url_gives_a_fresh_builds_output(site, tmp_path, monkeypatch):
    build(site)
    changed = build(site, base_url="https://x.org/repo/")
    assert changed == fresh(site, tmp_path, monkeypatch, "base", base_url="https://x.org/repo/")
    pages = [rel for rel, data in changed.items() if rel.endswith(".html") and b'href="/archives/' in data]
    assert pages == [], f"pages linking outside /repo/: {pages}"
    assert build(site) == fresh(site, tmp_path, monkeypatch, "back"), "and back again"


def test_a_changed_config_key_gives_a_fresh_builds_output(site, tmp_path, monkeypatch):
    build(site)
    with open(site / "kxsj.yml", "a", encoding="utf-8") as f:
        f.write("\ntitle: 换了名字的站点\npage_size: 4\n")
    changed = build(site)
    assert any("换了名字的站点".encode() in data for data in changed.values())
    assert changed == fresh(site, tmp_path, monkeypatch, "config")


def test_a_changed_template_gives_a_fresh_builds_output(site, tmp_path, monkeypatch):
    from kxsj.assets import asset_dirs

    build(site)
    ours = site / "templates"
    ours.mkdir()
    shipped = asset_dirs("templates", None)[-1]
    base = (shipped / "base.html").read_text(encoding="utf-8")
    assert "</footer>" in base
    (ours / "base.html").write_text(base.replace("</footer>", "<p>本站模板改过</p></footer>", 1), encoding="utf-8")
    changed = build(site)
    assert "本站模板改过".encode() in changed["index.html"]
    assert changed == fresh(site, tmp_path, monkeypatch, "template")


# --------------------------------------------------------------------------
# Drafts are never kept in a cache


@pytest.mark.parametrize("drafts", [False, True], ids=["without-drafts", "with-drafts"])
def test_no_cache_holds_a_draft(site, drafts):
    (site / "posts" / "draft.md").write_text(DRAFT, encoding="utf-8")
    published = build(site, drafts=drafts)
    assert any("草稿里的秘密句子".encode() in data for data in published.values()) == drafts
    caches = [p for p in (site / "public" / CACHE_DIR).rglob("*") if p.is_file()]
    assert len(caches) > 10
    for path in caches:
        data = path.read_bytes()
        for secret in ("草稿里的秘密句子", "后文也是秘密", "未发表的草稿"):
            assert secret.encode() not in data, (path, secret)


# --------------------------------------------------------------------------
# Damaged, forged and planted cache files


def _marker_pickle(marker: Path) -> bytes:
    class Plant:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps(Plant())


def _marker_code(marker: Path) -> bytes:
    """What Jinja's bytecode cache would run: its header, a checksum, and marshalled code that makes ``marker``."""
    code = compile(f"open({str(marker)!r}, 'w').close()", "<planted>", "exec")
    return bc_magic + pickle.dumps("0" * 40, 2) + marshal.dumps(code)


def _shard_entries(shard: Path) -> dict[bytes, str]:
    from kxsj.incremental.store import _decode_shard

    entries = _decode_shard(shard.read_bytes(), f"{shard.parent.parent.name}/{shard.parent.name}/{shard.stem}")
    return entries or {bytes([int(shard.stem, 16)]) * 32: ""}  # damaged by an earlier round: any key of that shard


def _planted_html(shard: Path) -> list[bytes]:
    """A shard's real entries with a script instead of their HTML, framed as the old and the new format with plain checksums."""
    from kxsj.incremental.sealed import MAGIC, pack_records

    evil = {k: "<script>alert('planted')</script>" for k in _shard_entries(shard)}
    old = marshal.dumps(evil)
    new = pack_records({k: v.encode() for k, v in evil.items()})
    return [
        b"kxsj-html-cache 1\n" + hashlib.sha256(old).digest() + old,
        MAGIC + hashlib.sha256(new).digest() + new,
        MAGIC + hashlib.sha256(MAGIC + new).digest() + new,
    ]


def _mutations(rng: random.Random, path: Path, marker: Path) -> list[bytes]:
    data = path.read_bytes()
    flipped = bytearray(data)
    if flipped:
        at = rng.randrange(len(flipped))
        flipped[at] ^= 1 << rng.randrange(8)
    cut = data[: rng.randrange(len(data) + 1)]
    spliced = data[:1 + rng.randrange(max(1, len(data)))] + os.urandom(rng.randrange(1, 64))
    return [bytes(flipped), cut, spliced, b"", os.urandom(rng.randrange(1, 200)), _marker_pickle(marker), _marker_code(marker)]


def _force_rebuild(out: Path) -> None:
    """The output no longer as the last build left it: the stamp cannot skip the build, the caches are read."""
    (out / "index.html").unlink()


def test_planted_code_and_html_in_the_caches_never_run_or_reach_a_page(site, tmp_path, monkeypatch):
    """The issue's crafted files: pickles and template code that would make a file, HTML under a plain checksum."""
    expected = fresh(site, tmp_path, monkeypatch, "reference")
    build(site)
    out = site / "public"
    cache = out / CACHE_DIR
    marker = tmp_path / "PLANTED-CODE-RAN"
    pickled = _marker_pickle(marker)
    for place in ("related.pickle", "related.json", "pages.json", "build.json"):
        (cache / place).write_bytes(pickled)
    for shard in sorted((cache / "parse").rglob("*.bin")):
        shard.write_bytes(pickled)
        shard.with_suffix(".pickle").write_bytes(pickled)
    old_templates = cache / "templates" / "jinja2-3"
    old_templates.mkdir(parents=True)
    user_templates = Path(os.environ["XDG_CACHE_HOME"]) / "kxsj" / "templates"
    compiled = sorted(user_templates.rglob("*.bin"))
    assert compiled, "the first build compiled its templates into the user cache folder"
    for path in compiled:
        (old_templates / path.name).write_bytes(_marker_code(marker))
        path.write_bytes(_marker_code(marker))
    html_shards = sorted((cache / "html").rglob("*.bin"))
    for i, shard in enumerate(html_shards):
        shard.write_bytes(_planted_html(shard)[i % 3])
    _force_rebuild(out)

    rebuilt = build(site)
    assert not marker.exists(), "code from a cache file ran"
    assert not any(b"planted" in data for data in rebuilt.values())
    assert rebuilt == expected
    _force_rebuild(out)
    assert build(site) == expected, "and the caches rebuilt in its place are good"


FUZZ_ROUNDS = 10


def test_fuzzed_cache_files_are_ignored_and_rebuilt(site, tmp_path, monkeypatch):
    """Seeded random damage to random cache files (output and user cache folder): each next build is a fresh build's output."""
    expected = fresh(site, tmp_path, monkeypatch, "reference")
    build(site)
    out = site / "public"
    user = Path(os.environ["XDG_CACHE_HOME"]) / "kxsj"
    marker = tmp_path / "FUZZ-CODE-RAN"
    rng = random.Random(22)
    seen_kinds = set()
    for round_ in range(FUZZ_ROUNDS):
        files = sorted(p for p in (out / CACHE_DIR).rglob("*") if p.is_file())
        files += sorted(p for p in (user / "templates").rglob("*.bin"))
        for path in rng.sample(files, k=min(len(files), rng.randint(1, 6))):
            kinds = _mutations(rng, path, marker)
            kind = rng.randrange(len(kinds))
            seen_kinds.add(kind)
            path.write_bytes(kinds[kind])
        if rng.random() < 0.3:  # a planted HTML shard as well
            shard = rng.choice(sorted((out / CACHE_DIR / "html").rglob("*.bin")))
            shard.write_bytes(rng.choice(_planted_html(shard)))
        _force_rebuild(out)
        assert build(site) == expected, f"round {round_}"
        assert not marker.exists(), f"round {round_}: code from a cache file ran"
    assert len(seen_kinds) >= 5


# --------------------------------------------------------------------------
# Pages kept from the output: bound to the very file the last build left


def _plant_keeping_size_and_time(page: Path) -> None:
    data = page.read_bytes()
    st = page.stat()
    page.write_bytes((b"<script>alert('planted')</script>" + data)[: len(data)])
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert page.stat().st_size == st.st_size and page.stat().st_mtime_ns == st.st_mtime_ns


def _a_post_page(out: Path) -> Path:
    pages = sorted((out / "archives").rglob("index.html"))
    assert pages
    return pages[len(pages) // 2]


def test_a_page_edited_to_its_old_size_and_time_is_rebuilt(site, tmp_path, monkeypatch):
    expected = fresh(site, tmp_path, monkeypatch, "reference")
    build(site)
    out = site / "public"
    _plant_keeping_size_and_time(_a_post_page(out))
    assert build(site) == expected  # neither the stamp nor the page manifest keeps it
    _plant_keeping_size_and_time(out / "index.html")
    post = sorted((site / "posts").glob("*.txt"))[0]
    post.write_bytes(post.read_bytes() + "\n".encode())  # a build that renders, with the page manifest in use
    expected = fresh(site, tmp_path, monkeypatch, "edited")
    assert build(site) == expected


def test_an_output_put_back_from_an_archive_with_a_planted_page_is_rebuilt(site, tmp_path, monkeypatch):
    """What CI's cache restore does (same cache key, files with their old sizes and times): no page is taken on trust."""
    expected = fresh(site, tmp_path, monkeypatch, "reference")
    build(site)
    out = site / "public"
    restored = tmp_path / "restored"
    shutil.copytree(out, restored, copy_function=shutil.copy2, symlinks=True)
    _plant_keeping_size_and_time(_a_post_page(restored))
    shutil.rmtree(out)
    restored.rename(out)
    rebuilt = build(site)
    assert not any(b"planted" in data for data in rebuilt.values())
    assert rebuilt == expected


def test_a_file_planted_anywhere_in_the_output_is_noticed_without_listing_its_folders(site, tmp_path, monkeypatch):
    """The stamp reads each folder's times instead of listing it: a file added to any folder,
    an empty one the build kept included, changes that folder's times."""
    import kxsj.write.files as files

    expected = fresh(site, tmp_path, monkeypatch, "reference")
    build(site)
    out = site / "public"
    (out / "empty").mkdir()
    build(site)  # the output changed: an update that keeps the empty folder
    assert (out / "empty").is_dir()
    listed = []
    real = files.files_below
    monkeypatch.setattr(files, "files_below", lambda *a, **k: listed.append(a[0]) or real(*a, **k))
    assert build(site) == expected and listed == [], "nothing changed: the output is not listed again"
    for planted in (out / "empty" / "planted.html", out / "planted.html", _a_post_page(out).parent / "planted.html"):
        planted.write_text("<p>planted</p>", encoding="utf-8")
        rebuilt = build(site)
        assert not planted.exists() and rebuilt == expected


def test_the_pages_workflow_seals_its_caches_with_a_secret_key():
    """CI's caches are sealed with a repository secret: a cache entry written by anything without it is ignored."""
    import yaml

    workflow = yaml.safe_load((Path(__file__).resolve().parents[1] / ".github/workflows/pages.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    (build_step,) = [s for s in steps if s.get("run", "").startswith("kxsj build")]
    assert build_step["env"]["KXSJ_CACHE_KEY"] == "${{ secrets.KXSJ_CACHE_KEY }}"


@pytest.mark.parametrize("search", [False, True], ids=["in-place", "new-tree"])
def test_a_static_file_planted_with_the_sources_size_and_time_is_replaced(site, tmp_path, monkeypatch, search):
    """Both ways of writing the output (in place, or a new tree swapped in) check a kept static copy's bytes."""
    from kxsj.assets import asset_dirs
    from kxsj.write.output import same_copy

    if search:  # no Pagefind needed: the writer's new-tree path is what matters
        monkeypatch.setattr("kxsj.write.output.write_output", _new_tree_writer())
    expected = fresh(site, tmp_path, monkeypatch, "reference")
    build(site)
    shipped = asset_dirs("static", None)[-1]
    source = sorted(p for p in shipped.rglob("*.css") if p.stat().st_size > 40)[0]
    copy = site / "public" / "static" / source.relative_to(shipped)
    assert same_copy(source, copy)
    _plant_keeping_size_and_time(copy)
    assert copy.stat().st_mtime_ns == source.stat().st_mtime_ns and not same_copy(source, copy)
    rebuilt = build(site)
    assert not any(b"planted" in data for data in rebuilt.values())
    assert rebuilt == expected


def _new_tree_writer():
    from kxsj.write import output

    real = output.write_output
    return lambda *a, **k: real(*a, **{**k, "in_place": False})
