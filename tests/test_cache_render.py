"""The render cache saves work and never changes what is built.

A build with a warm cache must write exactly the bytes a cold build writes;
a cache made by another renderer (other options, other code) must not be
used; a damaged cache file must be ignored, not half-read.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.incremental import bodies, keys, store as cache_mod
from kxsj.incremental.bodies import html_key
from kxsj.incremental.keys import code_digest
from kxsj.incremental.store import CACHE_DIR, Namespace as RenderCache, _encode_shard
from kxsj.render.context import RenderContext
from kxsj.incremental.sealed import MAGIC


def tree(folder: Path) -> dict[str, bytes]:
    """The site as published: every file but the render cache the output carries."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != CACHE_DIR
    }


def label_of(shard: Path) -> str:
    """What a shard file is sealed as: its cache, key folder and shard number."""
    return f"{shard.parent.parent.name}/{shard.parent.name}/{shard.stem}"


def shards(root: Path, out: str = "public") -> list[Path]:
    """The render cache's shard files: inside the output folder, never beside it."""
    return sorted((root / out / CACHE_DIR / "html").rglob("*.bin"))


@pytest.fixture
def site(tmp_site: Path) -> Path:
    """The bundled archive without search, so Pagefind's own files do not enter the comparison."""
    with open(tmp_site / "kxsj.yml", "a", encoding="utf-8") as f:
        f.write("\nsearch: false\n")
    return tmp_site


def build(root: Path, out: str):
    report = build_site(BuildOptions(root, root / "posts", root / out))
    assert report.written, [str(d) for d in report.diagnostics]
    return tree(root / out)


# --------------------------------------------------------------------------
# RenderCache on its own


def test_entries_survive_a_new_process_and_other_keys_miss(tmp_path):
    cache = RenderCache(tmp_path, "key-a")
    assert cache.get("$x$ 一") is None
    cache.put("$x$ 一", "<p>one</p>")
    cache.save()

    again = RenderCache(tmp_path, "key-a")
    assert again.get("$x$ 一") == "<p>one</p>"
    assert again.get("$x$ 二") is None
    assert RenderCache(tmp_path, "key-b").get("$x$ 一") is None


def test_html_key_changes_with_settings_and_code(tmp_path):
    assert html_key(RenderContext()) == html_key(RenderContext(line_breaks="joined"))
    assert html_key(RenderContext()) != html_key(RenderContext(line_breaks="br"))

    package = tmp_path / "kxsj"
    shutil.copytree(Path(keys.__file__).parents[1], package, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_digest(package)
    for module in ("render/markdown.py", "load/files.py"):  # any module: all of kxsj's code is in every key
        target = package / module
        target.write_text(target.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
        assert code_digest(package) != before
        before = code_digest(package)
    assert keys.make_key("html", code=lambda: before) != keys.make_key("html")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]),  # one byte flipped
        lambda data: b"not a cache file",
        lambda data: MAGIC + b"\0" * 32 + b"payload",  # right magic, wrong MAC
        lambda data: data[: len(MAGIC)] + hashlib.sha256(data[len(MAGIC) + 32 :]).digest() + data[len(MAGIC) + 32 :],
    ],
    ids=["truncated", "flipped", "foreign", "bad-mac", "plain-checksum"],
)
def test_a_damaged_shard_is_ignored_and_rewritten(tmp_path, damage):
    cache = RenderCache(tmp_path, "k")
    cache.put("text", "<p>html</p>")
    cache.save()
    (shard,) = list((tmp_path / "k").glob("*.bin"))
    shard.write_bytes(damage(shard.read_bytes()))

    fresh = RenderCache(tmp_path, "k")
    assert fresh.get("text") is None
    fresh.put("text", "<p>html</p>")
    fresh.save()
    assert RenderCache(tmp_path, "k").get("text") == "<p>html</p>"


def test_a_sealed_shard_of_the_wrong_shape_is_ignored(tmp_path):
    """Records cut short, or values that are not UTF-8, under a valid MAC: ignored, not half-read."""
    from kxsj.incremental.sealed import pack_records, seal

    cache = RenderCache(tmp_path, "k")
    cache.put("text", "<p>html</p>")
    cache.save()
    (shard,) = list((tmp_path / "k").glob("*.bin"))
    label = label_of(shard)
    good = pack_records({b"x" * 32: b"<p>html</p>"})
    for payload in (good[:-1], good + b"\x05", pack_records({b"x" * 32: b"\xff\xfe"})):
        shard.write_bytes(seal(label, payload))
        assert RenderCache(tmp_path, "k").get("text") is None, payload


def test_a_shard_made_with_another_key_or_moved_is_never_used(tmp_path, monkeypatch):
    """Someone who can write the output but has not got the cache key cannot make an entry that is served."""
    cache = RenderCache(tmp_path, "k")
    cache.put("text", "<p>html</p>")
    cache.save()
    (shard,) = list((tmp_path / "k").glob("*.bin"))
    entries = cache_mod._decode_shard(shard.read_bytes(), label_of(shard))
    assert entries is not None and list(entries.values()) == ["<p>html</p>"]

    monkeypatch.setenv("KXSJ_CACHE_KEY", "the attacker's own key")
    forged = _encode_shard({k: "<script>alert(1)</script>" for k in entries}, label_of(shard))
    monkeypatch.delenv("KXSJ_CACHE_KEY")
    shard.write_bytes(forged)
    assert RenderCache(tmp_path, "k").get("text") is None

    # A genuine shard of another cache (here the facts of the same text, same hash) does not verify as HTML.
    facts = RenderCache(tmp_path / "facts", "k")
    facts.put("text", "<script>alert(2)</script>")
    facts.save()
    (other,) = list((tmp_path / "facts" / "k").glob("*.bin"))
    shutil.copy(other, shard)
    assert RenderCache(tmp_path, "k").get("text") is None


def test_unused_entries_are_dropped_and_other_keys_pruned(tmp_path):
    old = RenderCache(tmp_path, "old")
    old.put("a", "A")
    old.save()
    cache = RenderCache(tmp_path, "new")
    cache.put("a", "A")
    cache.put("b", "B")
    cache.save()

    next_build = RenderCache(tmp_path, "new")
    assert next_build.get("a") == "A"  # "b" was edited away: never asked for
    next_build.save()
    next_build.prune()
    assert not (tmp_path / "old").exists()
    assert RenderCache(tmp_path, "new").get("b") is None
    assert RenderCache(tmp_path, "new").get("a") == "A"


# --------------------------------------------------------------------------
# Through the build


def force_rebuild(root: Path, out: str = "public") -> None:
    """Touch the output so the build stamp cannot skip the next build (the cache stays)."""
    (root / out / "index.html").unlink()


def test_warm_build_writes_the_same_bytes_as_a_cold_one(site, monkeypatch):
    cold = build(site, "cold")
    build(site, "public")
    assert shards(site), "the build should have filled the cache inside its output"
    assert not (site / CACHE_DIR).exists(), "nothing is written outside the output folder"

    def no_rendering():
        raise AssertionError("a warm build with nothing changed rendered Markdown")

    monkeypatch.setattr("kxsj.incremental.workers.default_render", no_rendering)
    force_rebuild(site)
    warm = build(site, "public")
    assert warm == cold


def test_an_edited_post_is_rendered_again(site):
    build(site, "public")
    post = sorted((site / "posts").glob("*.txt"))[0]
    text = post.read_text(encoding="utf-8")
    # Every dump entry ends its text with 点击阅读全文; add a sentence before the first one.
    marker = "点击阅读全文"
    assert marker in text
    post.write_text(text.replace(marker, "缓存测试新增的一句。\n\n" + marker, 1), encoding="utf-8")
    edited = build(site, "public")
    assert any("缓存测试新增的一句" in v.decode("utf-8", "replace") for v in edited.values())
    shutil.rmtree(site / "public" / CACHE_DIR)
    assert build(site, "cold") == edited


def poison(root: Path) -> int:
    """Rewrite every cache entry to wrong HTML in a valid shard (sealed with the key): what a stale cache would hold."""
    count = 0
    for shard in shards(root):
        entries = cache_mod._decode_shard(shard.read_bytes(), label_of(shard))
        assert entries is not None
        shard.write_bytes(_encode_shard({k: "<p>POISONED</p>" for k in entries}, label_of(shard)))
        count += len(entries)
    return count


def test_a_cache_from_another_renderer_is_never_used(site, monkeypatch):
    cold = build(site, "cold")
    build(site, "public")
    assert poison(site) > 0
    # A new renderer option (or version, or code) is a new key: the poisoned entries are not found.
    real_key = bodies.html_key
    monkeypatch.setattr(bodies, "html_key", lambda context: real_key(context) + "-changed")
    force_rebuild(site)
    rebuilt = build(site, "public")
    assert not any(b"POISONED" in v for v in rebuilt.values())
    assert rebuilt == cold
    assert len(list((site / "public" / CACHE_DIR / "html").iterdir())) == 1, "the old key's entries are not carried over"


def test_corrupt_cache_files_are_ignored_by_the_build(site):
    cold = build(site, "cold")
    build(site, "public")
    assert shards(site)
    for shard in shards(site):
        data = shard.read_bytes()
        shard.write_bytes(data[:-3] + b"xyz")
    force_rebuild(site)
    assert build(site, "public") == cold


# --------------------------------------------------------------------------
# Build stamp: a build with nothing changed replays the last one


def test_unchanged_build_is_skipped_and_any_change_rebuilds(site, monkeypatch):
    first = build(site, "public")
    calls = []
    import kxsj.render.pages as pages

    real = pages.render_site
    monkeypatch.setattr(pages, "render_site", lambda *a, **k: calls.append(1) or real(*a, **k))

    assert build(site, "public") == first
    assert calls == [], "nothing changed: the pages should not be rendered again"

    post = sorted((site / "posts").glob("*.txt"))[0]
    original = post.read_bytes()
    post.write_bytes(original.replace("点击阅读全文".encode(), "改动。\n\n点击阅读全文".encode(), 1))
    changed = build(site, "public")
    assert calls == [1] and changed != first

    post.write_bytes(original)  # back to the first inputs: a rebuild gives the first output again
    assert build(site, "public") == first and calls == [1, 1]

    (site / "public" / "index.html").write_text("tampered", encoding="utf-8")
    assert build(site, "public") == first and len(calls) == 3, "a changed output folder is rebuilt"

    (site / "kxsj.yml").write_text((site / "kxsj.yml").read_text(encoding="utf-8") + "\npage_size: 3\n", encoding="utf-8")
    assert build(site, "public") != first and len(calls) == 4


def test_a_source_is_read_again_only_when_its_stat_changed(site, monkeypatch):
    """The stamp keeps each source's digest beside its stat: an unchanged file is not read,
    a rewrite to the same size and modification time is (its change time moved)."""
    import os

    from kxsj.incremental import stamp

    monkeypatch.setattr(stamp, "RACY_NS", 0)  # every file here was written just now
    first = build(site, "public")
    reads: list[str] = []
    real = stamp.read_regular
    monkeypatch.setattr(stamp, "read_regular", lambda path, limit: reads.append(str(path)) or real(path, limit))
    assert build(site, "public") == first
    assert reads == [], "nothing changed: no source is read"

    post = sorted((site / "posts").glob("*.txt"))[0]
    data, st = post.read_bytes(), post.stat()
    edited = data.replace("的".encode(), "地".encode(), 1)
    assert edited != data and len(edited) == len(data)
    post.write_bytes(edited)
    os.utime(post, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert post.stat().st_size == st.st_size and post.stat().st_mtime_ns == st.st_mtime_ns
    rebuilt = build(site, "public")
    assert str(post) in reads and rebuilt != first
    assert rebuilt == build(site, "cold")


def test_a_digest_is_taken_from_the_stamp_only_for_a_file_unchanged_for_a_while(tmp_path):
    """Two writes within one tick of the file system's clock can leave the same stat: a file changed
    just before it was looked at is read again next time, whatever the stamp says."""
    from kxsj.incremental.stamp import RACY_NS, SourceFiles

    path = tmp_path / "post.md"
    path.write_bytes("正文".encode())
    st = path.stat()
    real = hashlib.sha256(path.read_bytes()).hexdigest()
    known = {str(path): [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, "0" * 64]}
    changed_at = max(st.st_mtime_ns, st.st_ctime_ns)

    files = SourceFiles(known)
    files.now = changed_at + RACY_NS // 2
    assert files.line(str(path)) == f"{path} {real}" and str(path) not in files.seen

    files = SourceFiles(known)
    files.now = changed_at + RACY_NS * 2
    assert files.line(str(path)) == f"{path} {'0' * 64}", "a stable file's stat is enough"
    assert files.seen[str(path)][-1] == "0" * 64

    known[str(path)][2] += 1  # another change time: read again
    files = SourceFiles(known)
    files.now = changed_at + RACY_NS * 2
    assert files.line(str(path)) == f"{path} {real}"


def test_a_build_with_nothing_to_do_does_not_read_the_configuration(site, monkeypatch):
    """kxsj.yml is one of the stamp's inputs: it is read only once the build is known to run."""
    import kxsj.build

    first = build(site, "public")
    monkeypatch.setattr(kxsj.build, "load_config", lambda root: pytest.fail("kxsj.yml was read"))
    assert build(site, "public") == first


def test_skipped_build_reports_the_same_diagnostics(site):
    (site / "posts" / "broken.md").write_text("---\ntitle: [unclosed\n---\n正文\n", encoding="utf-8")
    opts = BuildOptions(site, site / "posts", site / "public")
    first = build_site(opts)
    again = build_site(opts)
    assert first.diagnostics and [str(d) for d in again.diagnostics] == [str(d) for d in first.diagnostics]
    assert (again.posts, again.pages, again.ok, again.written) == (first.posts, first.pages, first.ok, first.written)


def test_the_stamp_records_the_output_an_in_place_update_left(site):
    """After an in-place update the stamp's manifest comes from the update's own walk: it must be the output as it is."""
    build(site, "public")
    post = sorted((site / "posts").glob("*.txt"))[0]
    post.write_bytes(post.read_bytes().replace("点击阅读全文".encode(), "改动。\n\n点击阅读全文".encode(), 1))
    (site / "public" / "stray.html").write_text("not part of the site", encoding="utf-8")  # removed by the update
    build(site, "public")
    import json

    from kxsj.incremental import stamp
    from kxsj.incremental.sealed import read_sealed

    saved = json.loads(bytes(read_sealed(site / "public" / CACHE_DIR / stamp.STAMP_FILE, stamp.LABEL)))["manifest"]
    assert not (site / "public" / "stray.html").exists()
    assert saved == stamp.output_manifest(site / "public")
    assert "index.html" in saved and not any(rel.startswith(CACHE_DIR) for rel in saved)


def test_library_versions_are_those_importlib_metadata_gives():
    """The cache keys read versions from the ``.dist-info`` folder names: they must be the installed versions."""
    from importlib import metadata

    from kxsj.incremental import stamp
    from kxsj.incremental.keys import MARKDOWN_LIBRARIES, TEMPLATE_LIBRARIES

    names = {*MARKDOWN_LIBRARIES, *stamp._STAMP_LIBRARIES, *TEMPLATE_LIBRARIES, "PyYAML", "no-such-library-kxsj"}
    for name in sorted(names):
        try:
            expected = metadata.version(name)
        except metadata.PackageNotFoundError:
            expected = "?"
        assert keys.library_version(name) == f"{name}={expected}"
