"""The output folder is replaced all at once or not at all, and a wrong --out is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, BuildReport, build_site
from kxsj.progress import Progress as _Progress
from kxsj.model import Diagnostic, Post, PostDate
from kxsj.write import output
from kxsj.write.output import MARKER, OutputError, write_output


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


def post(n: int, title: str | None = None) -> Post:
    return Post(title=title or f"文章{n}", date=PostDate(2021, 1, n), body=f"正文 $x_{n}$", excerpt="", kind="markdown",
                url=f"/archives/{n}/", original_id=n)


@pytest.fixture
def site(tmp_path):
    """A site root with a posts folder, and a first good build in ``out/public``."""
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "kxsj.yml").write_text("search: false\n", encoding="utf-8")  # these tests are about files
    out = tmp_path / "out" / "public"
    report = build_site(BuildOptions(root, root / "posts", out), posts=[post(1), post(2)])
    assert report.ok and report.written
    return root, out


class Page:
    def __init__(self, path, content):
        self.path, self.content = path, content


def pages_then(exc: BaseException):
    """Some pages, then ``exc`` raised while the writer is still going."""
    yield Page("/a/", b"a")
    yield Page("/b/", b"b")
    raise exc


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_failed_write_leaves_previous_output_byte_identical_and_no_temp(site, exc):
    _, out = site
    before = snapshot(out)
    with pytest.raises(type(exc)):
        write_output(pages_then(exc), out)
    assert snapshot(out) == before
    assert siblings(out) == []


def test_failure_between_the_two_renames_puts_the_old_output_back(site, monkeypatch):
    _, out = site
    before = snapshot(out)
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append(src)
        if len(calls) == 2:  # old moved away, new not yet in
            raise KeyboardInterrupt
        real_rename(src, dst)

    monkeypatch.setattr(output.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        write_output([Page("/x/", b"x")], out)
    assert len(calls) == 3  # away, in (interrupted), back
    assert snapshot(out) == before
    assert siblings(out) == []


def test_sigterm_mid_write_leaves_previous_output_and_no_temp(site):
    _, out = site
    before = snapshot(out)
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from kxsj.write.output import write_output
        class Page:
            def __init__(self, path, content): self.path, self.content = path, content
        def pages():
            yield Page("/a/", b"a")
            os.kill(os.getpid(), signal.SIGTERM)
            yield Page("/b/", b"b")
        try:
            write_output(pages(), {str(out)!r})
        except KeyboardInterrupt:
            sys.exit(143)
        sys.exit(0)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 143, result.stderr
    assert snapshot(out) == before
    assert siblings(out) == []


def test_successful_rebuild_replaces_the_output_and_leaves_nothing_beside_it(site):
    root, out = site
    (out / "stale.html").write_text("old", encoding="utf-8")
    report = build_site(BuildOptions(root, root / "posts", out), posts=[post(3, "新文章")])
    assert report.ok
    assert not (out / "stale.html").exists() and not (out / "archives/1").exists()
    assert "新文章" in (out / "archives/3/index.html").read_text(encoding="utf-8")
    assert (out / MARKER).is_file()
    assert siblings(out) == []


@pytest.mark.parametrize(
    "where, expected",
    [
        (lambda root: root, "it is"),
        (lambda root: root / "posts", "it is"),
        (lambda root: root.parent, "it contains"),
        (lambda root: root / "posts" / "public", "is inside"),
    ],
)
def test_out_dir_that_would_destroy_input_is_refused(site, where, expected):
    root, _ = site
    (root / "posts" / "keep.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    before = snapshot(root.parent)
    out = where(root)
    report = build_site(BuildOptions(root, root / "posts", out), posts=[post(1)])
    assert not report.ok and not report.written
    [diag] = report.diagnostics
    assert diag.level == "error" and "refusing to write the site into" in diag.message and expected in diag.message
    assert snapshot(root.parent) == before


def test_non_empty_folder_without_marker_is_refused_and_untouched(site):
    root, _ = site
    mine = root.parent / "my-stuff"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious", encoding="utf-8")
    report = build_site(BuildOptions(root, root / "posts", mine), posts=[post(1)])
    assert not report.written
    assert "not empty and was not made by kxsj" in str(report.diagnostics[0])
    assert snapshot(mine) == {"thesis.tex": b"precious"}
    with pytest.raises(OutputError):
        write_output([Page("/x/", b"x")], mine)
    assert sorted(p.name for p in root.parent.iterdir()) == ["my-stuff", "out", "site"]


def test_strict_build_with_a_warning_keeps_the_previous_output(site):
    root, out = site
    before = snapshot(out)
    (root / "kxsj.yml").write_text("search: false\ntitel: typo\n", encoding="utf-8")  # unknown key: a warning
    report = build_site(BuildOptions(root, root / "posts", out, strict=True), posts=[post(5)])
    assert [d.level for d in report.diagnostics] == ["warning"]
    assert not report.ok and not report.written
    assert snapshot(out) == before and siblings(out) == []
    assert report.summary().startswith("FAILED")
    relaxed = build_site(BuildOptions(root, root / "posts", out), posts=[post(5)])
    assert relaxed.ok and (out / "archives/5/index.html").is_file()


def test_page_paths_cannot_leave_the_output(tmp_path):
    out = tmp_path / "public"
    with pytest.raises(OutputError):
        write_output([Page("/../escape/", b"x")], out)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_summary_line():
    report = BuildReport(36, 112, 0.8412, [Diagnostic("a", 1, "warning", "w")], True, Path("public"), True)
    assert report.summary() == "built 36 posts, 112 pages, 1 warning in 0.84 s -> public/"


def test_progress_shows_only_once_the_build_is_slow(capsys):
    quick = _Progress(True, time.monotonic())
    quick(1, 10)
    quick.finish()
    assert capsys.readouterr().err == ""
    slow = _Progress(True, time.monotonic() - 2)
    slow(3, 10)
    slow.finish()
    assert capsys.readouterr().err == "\rrendered 3/10 posts\n"
    off = _Progress(False, time.monotonic() - 2)
    off(3, 10)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("collecting", [True, False])
def test_a_build_gives_garbage_collection_back_as_it_found_it(tmp_path, monkeypatch, collecting):
    """The build pauses collection while it loads and freezes its posts: the caller gets both undone, even on failure."""
    import gc

    import kxsj.load

    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "posts" / "a.md").write_text("---\ntitle: 甲\ndate: 2024-05-06\n---\n正文 $x$\n", encoding="utf-8")
    (root / "kxsj.yml").write_text("search: false\n", encoding="utf-8")
    options = BuildOptions(root, root / "posts", tmp_path / "public")
    (gc.enable if collecting else gc.disable)()
    try:
        assert build_site(options).written
        assert gc.isenabled() == collecting and gc.get_freeze_count() == 0

        def broken(*args, **kwargs):
            raise RuntimeError("the disk went away mid-load")

        monkeypatch.setattr(kxsj.load, "load_posts", broken)
        (root / "posts" / "a.md").write_text("---\ntitle: 乙\ndate: 2024-05-06\n---\n正文\n", encoding="utf-8")
        with pytest.raises(RuntimeError):
            build_site(options)
        assert gc.isenabled() == collecting and gc.get_freeze_count() == 0
    finally:
        gc.enable()
