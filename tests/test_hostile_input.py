"""Hostile input (issue 22): nothing leaks, hangs or crashes; every input ends as a diagnostic.

Each test builds a small site with one or more bad inputs beside a good
post, and checks three things: the bad input is named in a ``path:line``
diagnostic, the good post is still built, and ``--strict`` fails.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.config import normalise_base_url
from kxsj.codescan import marker_outside_code
from kxsj.load.files import iter_post_files
from kxsj.load.markdown_posts import MORE
from kxsj.render import budget
from kxsj.write.lock import output_lock

GOOD = "---\ntitle: 好文章\ndate: 2021-01-01\nslug: good\n---\n正文 $x$\n"


@pytest.fixture(autouse=True)
def _in_site(tmp_path, monkeypatch):
    """Diagnostics name files relative to the current folder: the site's."""
    (tmp_path / "site").mkdir()
    monkeypatch.chdir(tmp_path / "site")


def make_site(tmp_path: Path, config: str = "") -> Path:
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "static").mkdir()
    (root / "kxsj.yml").write_text("title: t\nsearch: false\n" + config, encoding="utf-8")
    (root / "posts" / "good.md").write_text(GOOD, encoding="utf-8")
    return root


def build(root: Path, strict: bool = False, **kw):
    report = build_site(BuildOptions(root, root / "posts", root / "public", strict=strict, **kw))
    return report, [str(d) for d in report.diagnostics]


def good_built(root: Path) -> bool:
    return (root / "public" / "posts" / "good" / "index.html").is_file()


def post(root: Path, name: str, front: str, body: str = "x\n") -> Path:
    path = root / "posts" / name
    path.write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")
    return path


# -- nothing hangs, nothing crashes: files that are not regular files ---------


def test_fifo_socket_device_link_lock_file_and_loop_are_skipped_with_warnings(tmp_path):
    root = make_site(tmp_path)
    posts = root / "posts"
    os.mkfifo(posts / "fifo.md")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(posts / "sock.md"))
    (posts / "zero.md").symlink_to("/dev/zero")
    (posts / ".#good.md").symlink_to("user@host.1234:1")  # an Emacs lock file: a dangling link
    (posts / "loop1.md").symlink_to("loop2.md")
    (posts / "loop2.md").symlink_to("loop1.md")
    inside = root / "dev-null-link.md"
    inside.symlink_to("/dev/null")
    (posts / "null.md").symlink_to(inside)  # a link inside the site to a device outside it
    try:
        report, lines = build(root)
    finally:
        sock.close()
    assert good_built(root)
    text = "\n".join(lines)
    assert "posts/fifo.md: warning: a FIFO" in text
    assert "posts/sock.md: warning: a socket" in text
    assert "posts/zero.md: warning: symlink to /dev/zero, outside the site" in text
    assert "posts/loop1.md: warning: symlink loop" in text and "posts/loop2.md: warning: symlink loop" in text
    assert "posts/null.md: warning" in text
    assert ".#good.md" not in text  # editor files are not posts
    assert not build(root, strict=True)[0].ok


def test_unreadable_folder_is_reported_not_silently_dropped(tmp_path, monkeypatch):
    root = make_site(tmp_path)
    locked = root / "posts" / "locked"
    locked.mkdir()
    post(root, "locked/a.md", "title: a\ndate: 2021-01-02")
    real = os.scandir

    def scandir(path):
        if os.fspath(path) == str(locked):
            raise PermissionError(errno.EACCES, "Permission denied", str(locked))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    diags = []
    found = list(iter_post_files(root / "posts", root, diags))
    assert found == [root / "posts" / "good.md"]
    assert [d.level for d in diags] == ["warning"] and "locked" in diags[0].path and "Permission denied" in diags[0].message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file whatever its mode")
def test_unreadable_file_is_an_error_naming_it(tmp_path):
    root = make_site(tmp_path)
    bad = post(root, "secret.md", "title: s\ndate: 2021-01-02")
    bad.chmod(0)
    report, lines = build(root)
    assert good_built(root) and any(line.startswith("posts/secret.md:1: error: cannot read") for line in lines)


# -- front matter that broke the loader -------------------------------------


@pytest.mark.parametrize("name, front, line, level, words", [
    ("inf.md", "title: a\ndate: 2021-01-02\nid: .inf", 4, "warning", "post number"),
    ("true.md", "title: a\ndate: 2021-01-02\nid: true", 4, "warning", "post number"),
    ("neg.md", "title: a\ndate: 2021-01-02\nid: -3", 4, "warning", "post number"),
    ("big.md", "title: a\ndate: 2021-01-02\nid: " + "9" * 5000, 4, "error", "5,000 digits"),
    ("surrogate.md", 'title: "\\ud800"\ndate: 2021-01-02', 2, "error", "is half of a character pair"),
    ("intnone.md", "title: !!int\ndate: 2021-01-02", 2, "error", "cannot be read"),
])
def test_bad_front_matter_values_are_diagnostics_with_lines(tmp_path, name, front, line, level, words):
    root = make_site(tmp_path)
    post(root, name, front)
    report, lines = build(root)
    assert good_built(root)
    mine = [x for x in lines if x.startswith(f"posts/{name}:")]
    assert mine and mine[0].startswith(f"posts/{name}:{line}: {level}:") and words in mine[0] and "YamlLimitError" not in mine[0]
    assert not (root / "public" / "archives" / "1").exists()  # `id: true` is not post 1
    assert not build(root, strict=True)[0].ok


def test_non_utf8_file_name_and_long_tags_build(tmp_path):
    root = make_site(tmp_path)
    name = os.fsencode(root / "posts") + b"/bad\xff.md"
    with open(name, "wb") as f:
        f.write("---\ntitle: 坏名字\ndate: 2021-01-03\n---\nx\n".encode())
    post(root, "long.md", "title: " + "长" * 300 + "\ndate: 2021-01-04\ntags: [" + "标" * 150 + ", " + "签" * 150 + "]\ncategories: [" + "𠀀" * 100 + "]")
    report, lines = build(root)
    assert report.written and good_built(root), lines
    for folder in ("tag", "category"):
        names = os.listdir(root / "public" / folder)
        assert names and all(len(os.fsencode(n)) <= 255 for n in names)
    first = sorted(os.listdir(root / "public" / "tag"))
    build(root)
    assert sorted(os.listdir(root / "public" / "tag")) == first  # shortened the same way every time


def test_tags_per_post_are_capped_with_a_warning(tmp_path):
    root = make_site(tmp_path)
    post(root, "many.md", "title: many\ndate: 2021-01-05\ntags: [" + ", ".join(f"t{i}" for i in range(500)) + "]")
    report, lines = build(root)
    assert any(line.startswith("posts/many.md:1: warning:") and "500 tags" in line for line in lines)
    assert len(os.listdir(root / "public" / "tag")) == 100


# -- nothing leaks -----------------------------------------------------------


def test_static_links_outside_and_dotfiles_are_not_published(tmp_path):
    root = make_site(tmp_path)
    (root / "static" / "env.txt").symlink_to("/proc/self/environ")
    (root / "static" / ".env").write_text("SECRET=1\n")
    (root / "static" / ".git").mkdir()
    (root / "static" / ".git" / "config").write_text("x")
    (root / "static" / "ok.txt").write_text("ok")
    os.mkfifo(root / "static" / "pipe.txt")
    report, lines = build(root)
    published = root / "public" / "static"
    assert (published / "ok.txt").read_text() == "ok"
    assert not (published / "env.txt").exists() and not (published / ".env").exists() and not (published / ".git").exists()
    assert not (published / "pipe.txt").exists()
    assert any(line.startswith("static/env.txt: warning: symlink to") for line in lines), lines
    assert any("pipe.txt: warning: a FIFO" in line for line in lines)
    assert not build(root, strict=True)[0].ok


def test_include_dotfiles_publishes_them(tmp_path):
    root = make_site(tmp_path, "include_dotfiles: true\n")
    (root / "static" / ".well-known").mkdir()
    (root / "static" / ".well-known" / "security.txt").write_text("Contact: x")
    build(root)
    assert (root / "public" / "static" / ".well-known" / "security.txt").is_file()


def test_template_linked_outside_the_site_is_skipped(tmp_path):
    root = make_site(tmp_path)
    secret = tmp_path / "secret.html"
    secret.write_text("TOP-SECRET {{ 1 }}")
    (root / "templates").mkdir()
    (root / "templates" / "post.html").symlink_to(secret)
    report, lines = build(root)
    page = (root / "public" / "posts" / "good" / "index.html").read_text(encoding="utf-8")
    assert "TOP-SECRET" not in page and "正文" in page
    assert any(line.startswith("templates/post.html: warning: template skipped") for line in lines)


# -- nothing hangs: the render budget ----------------------------------------


def test_time_limit_interrupts_a_slow_render():
    import time

    with pytest.raises(budget.RenderTimeout, match="took longer than 0.2 s"):
        with budget.time_limit(0.2):
            time.sleep(5)


def test_a_post_over_the_budget_is_reported_and_left_out(tmp_path, monkeypatch):
    root = make_site(tmp_path)
    # Quadratic inside Python-Markdown (each link re-scans the paragraph's brackets): seconds of work.
    post(root, "slow.md", "title: slow\ndate: 2021-01-06", "intro\n\n" + '[d]("e) ' * 6000 + "\n")
    real = budget.set_budget
    monkeypatch.setattr(budget, "set_budget", lambda seconds: real(0.05))
    report, lines = build(root)
    assert good_built(root)
    assert any(line.startswith("posts/slow.md:1: error:") and "took longer than 0.05 s" in line for line in lines), lines
    assert not list((root / "public" / "posts").glob("slow*"))


# -- wrong output ------------------------------------------------------------


def test_more_marker_inside_code_stays_code():
    body = "intro\n\n```html\n<!--more-->\ncode\n```\n\nafter\n<!--more-->\nrest\n"
    start, end = marker_outside_code(body, MORE)
    assert body[:start].endswith("after\n") and body[end:] == "\nrest\n"
    assert marker_outside_code("```\n<!--more-->\n```\n", MORE) is None


def test_unclosed_fence_is_a_warning_and_the_text_is_kept(tmp_path):
    root = make_site(tmp_path)
    post(root, "open.md", "title: open\ndate: 2021-01-07\nslug: open", "intro\n\n```python\nprint(1)\n")
    report, lines = build(root)
    assert any(line.startswith("posts/open.md:8: warning: code fence") for line in lines), lines
    assert "print(1)" in (root / "public" / "posts" / "open" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://u:p@x.org/", "https://x.org/?q=1", "https://x.org/#f", "ftp://x.org/", "https://x .org/", "/repo/"])
def test_bad_base_urls_are_refused(url):
    with pytest.raises(ValueError):
        normalise_base_url(url)


def test_good_base_url_gets_its_slash():
    assert normalise_base_url("https://user.github.io/repo") == "https://user.github.io/repo/"


@pytest.mark.parametrize("args", [["build", "--base-url", "javascript:alert(1)"], ["serve", "--port", "-5"], ["serve", "--port", "70000"]])
def test_bad_command_line_values_are_usage_errors(tmp_path, args):
    root = make_site(tmp_path)
    done = subprocess.run([sys.executable, "-m", "kxsj", *args], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "error: argument" in done.stderr


def test_base_url_in_config_is_checked_the_same_way(tmp_path):
    root = make_site(tmp_path, "base_url: https://u:p@x.org/\n")
    report, lines = build(root)
    assert any("kxsj.yml:3: error: `base_url` must not hold a user name" in line for line in lines), lines


# -- nothing lost, output folder ---------------------------------------------


def test_files_listed_in_keep_survive_builds(tmp_path):
    root = make_site(tmp_path, "keep: [CNAME, 'docs/*.pdf']\n")
    build(root)
    (root / "public" / "CNAME").write_text("example.org\n")
    (root / "public" / "docs").mkdir()
    (root / "public" / "docs" / "a.pdf").write_bytes(b"%PDF")
    (root / "public" / "notes.txt").write_text("mine")
    post(root, "new.md", "title: new\ndate: 2021-01-08")
    report, lines = build(root)  # in place
    assert (root / "public" / "CNAME").read_text() == "example.org\n"
    warned = [line for line in lines if "not written by kxsj" in line]
    assert len(warned) == 1 and warned[0].endswith("keep it (e.g. `keep: [CNAME, notes.txt]`)") and "notes.txt: warning:" in warned[0]
    root.joinpath("kxsj.yml").write_text("title: t\nsearch: false\nkeep: [CNAME, 'docs/*.pdf']\npage_size: 3\n")
    build(root)  # everything rendered again
    assert (root / "public" / "docs" / "a.pdf").read_bytes() == b"%PDF" and (root / "public" / "CNAME").is_file()


def test_a_second_build_into_the_same_output_says_so(tmp_path):
    root = make_site(tmp_path)
    with output_lock(root / "public"):
        report, lines = build(root)
    assert not report.written and any("another kxsj build is writing" in line for line in lines)
    assert build(root)[0].written  # the lock is gone with its holder


def test_new_output_folder_has_the_usual_mode(tmp_path):
    root = make_site(tmp_path)
    old = os.umask(0o022)
    try:
        build(root)
    finally:
        os.umask(old)
    assert stat.S_IMODE((root / "public").stat().st_mode) == 0o755


def test_full_disk_is_a_clear_error_and_the_old_output_stays(tmp_path, monkeypatch):
    root = make_site(tmp_path)
    build(root)
    before = (root / "public" / "posts" / "good" / "index.html").read_bytes()
    post(root, "new.md", "title: new\ndate: 2021-01-08")

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    monkeypatch.setattr("kxsj.write.update.open", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")), raising=False)
    report, lines = build(root)
    assert not report.written
    assert any("the disk is full" in line for line in lines), lines
    assert (root / "public" / "posts" / "good" / "index.html").read_bytes() == before
