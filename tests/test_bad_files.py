"""Bad files in ``posts/``: a clear ``path:line`` message each, and the rest of the site built (issue 8).

Every case goes through the real ``kxsj build`` on a copy of the bundled
archive: without ``--strict`` the build succeeds (exit 0) with the good posts'
pages present; with ``--strict`` it fails (exit 1) and leaves the previous
output exactly as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_atomic_output import tree_digest

GOOD_MD = "---\ntitle: 好文章\ndate: 2024-01-02\nslug: good\n---\n正文 $x^2$\n"

# name -> (bytes, or a callable writing the file; the message expected on stderr)
BAD_FILES = {
    "broken.md": (b"---\ntitle: [unclosed\ndate: 2024-01-01\n---\nbody\n",
                  r"posts/broken\.md:[23]: error: front matter is not valid YAML"),
    "gbk.txt": ("1 Mar\n\n标题\n\n中文正文\n".encode("gbk"),
                r"posts/gbk\.txt:3: error: not UTF-8 .*GBK.*iconv -f GB18030 -t UTF-8"),
    "scan.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
                r"posts/scan\.md:1: error: binary file .*remove it"),
    "empty.md": (b"", r"posts/empty\.md:1: warning: empty file"),
    "blank.txt": (b"\n  \n\r\n", r"posts/blank\.txt:1: warning: empty file"),
    "huge.txt": (None, r"posts/huge\.txt:1: error: file is 50\.\d MB, over the 10 MB limit .*split it"),
    "feb30.md": (b"---\ntitle: bad day\ndate: 2023-02-30\n---\nbody\n",
                 r"posts/feb30\.md:3: error: `date` 2023-02-30 does not exist"),
    "feb30.txt": ("30 Feb\n\n坏日期\n\n正文。\n\n1 Mar\n\n同一文件里的好文章\n\n正文。\n".encode(),
                  r"posts/feb30\.txt:1: error: `30 Feb` is not a date"),
    "same-a.md": (b"---\ntitle: same one\ndate: 2024-01-01\nslug: same\n---\none\n", None),
    "same-b.md": (b"---\ntitle: same two\ndate: 2024-02-01\nslug: same\n---\ntwo\n",
                  r"posts/same-b\.md:1: warning: .*wants /posts/same/, already used by .*same one.* it gets /posts/same-2/"),
}
UNMATCHED_META = '- id: 99999\n  date: 2020-01-01\n  title: "不存在的文章"\n'
UNMATCHED_MESSAGE = r"posts/meta\.yml:(\d+): warning: metadata entry id 99999 《不存在的文章》 matches no post"


def write_huge(path: Path) -> None:
    """A 50 MB dump of real text (not a sparse file: the size must be honest)."""
    line = ("这是一行很长的文字，" * 40 + "\n").encode()
    with path.open("wb") as f:
        f.write("1 Mar\n\n巨大的文件\n\n".encode())
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            f.write(line)


def add_bad_files(site: Path) -> None:
    posts = site / "posts"
    (posts / "good.md").write_text(GOOD_MD, encoding="utf-8")
    for name, (data, _msg) in BAD_FILES.items():
        if data is None:
            write_huge(posts / name)
        else:
            (posts / name).write_bytes(data)
    with (posts / "meta.yml").open("a", encoding="utf-8") as f:
        f.write(UNMATCHED_META)


def assert_no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr


@pytest.fixture
def bad_site(tmp_site):
    add_bad_files(tmp_site)
    return tmp_site


def test_each_bad_file_gets_a_path_line_message_and_the_site_is_built(bad_site, run_kxsj):
    proc = run_kxsj("build", cwd=bad_site)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name, (_data, expected) in BAD_FILES.items():
        if expected:
            assert re.search(expected, proc.stderr), f"{name}: no message like {expected!r} in\n{proc.stderr}"
    m = re.search(UNMATCHED_MESSAGE, proc.stderr)
    meta_lines = (bad_site / "posts/meta.yml").read_text(encoding="utf-8").split("\n")
    assert m and meta_lines[int(m.group(1)) - 1] == "- id: 99999", proc.stderr
    # Each problem is reported once, on its own line.
    problems = [ln for ln in proc.stderr.splitlines() if re.match(r"posts/\S+:\d+: (error|warning): ", ln)]
    assert len(problems) == len(set(problems))

    public = bad_site / "public"
    # The bundled archive, the good new post and the good post beside the bad date are all there.
    for page in ["archives/8757/index.html", "posts/good/index.html", "index.html", "feed.xml", "sitemap.xml"]:
        assert (public / page).is_file(), page
    html = "\n".join(p.read_text(encoding="utf-8") for p in public.rglob("index.html"))
    assert "同一文件里的好文章" in html
    # Two posts with the same slug: both kept, the older keeps the address.
    assert "same one" in (public / "posts/same/index.html").read_text(encoding="utf-8")
    assert "same two" in (public / "posts/same-2/index.html").read_text(encoding="utf-8")
    # Nothing of the refused files was published.
    assert "巨大的文件" not in html and "中文正文" not in html and "坏日期" not in html


def test_same_slug_addresses_are_stable_when_a_newer_post_is_added(bad_site, run_kxsj):
    """Adding a third post that wants the same slug moves neither of the first two."""
    (bad_site / "posts/same-c.md").write_bytes(b"---\ntitle: same three\ndate: 2024-03-01\nslug: same\n---\nthree\n")
    proc = run_kxsj("build", cwd=bad_site)
    assert proc.returncode == 0, proc.stderr
    public = bad_site / "public"
    assert "same one" in (public / "posts/same/index.html").read_text(encoding="utf-8")
    assert "same two" in (public / "posts/same-2/index.html").read_text(encoding="utf-8")
    assert "same three" in (public / "posts/same-3/index.html").read_text(encoding="utf-8")


def test_strict_build_fails_on_bad_files_and_keeps_the_previous_output(tmp_site, run_kxsj):
    first = run_kxsj("build", "--strict", cwd=tmp_site)
    assert first.returncode == 0, first.stdout + first.stderr
    before = tree_digest(tmp_site / "public")
    add_bad_files(tmp_site)
    proc = run_kxsj("build", "--strict", cwd=tmp_site)
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED, kept the previous output" in proc.stdout
    assert re.search(BAD_FILES["gbk.txt"][1], proc.stderr)
    assert tree_digest(tmp_site / "public") == before
    assert sorted(p.name for p in tmp_site.iterdir()) == ["kxsj.yml", "posts", "public"]


@pytest.mark.parametrize("meta", [
    "- id: 1\n  title: [oops\n",          # not YAML
    "title: a mapping, not a list\n",     # YAML, wrong shape
    "- just a string\n- id: 2\n",         # entries that are not mappings
    "- id: x\n  date: 2021-02-30\n  title: 有\n  tags: {a: 1}\n",  # bad field values
])
def test_broken_metadata_file_is_reported_and_the_posts_still_build(tmp_site, run_kxsj, meta):
    (tmp_site / "posts/meta.yml").write_text(meta, encoding="utf-8")
    proc = run_kxsj("build", cwd=tmp_site)
    assert_no_traceback(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^posts/meta\.yml:\d+: error: ", proc.stderr, re.M), proc.stderr
    # Without metadata the dumps still load: every post of the archive is built.
    assert re.match(r"built 36 posts, ", proc.stdout), proc.stdout
    assert any("WGAN" in p.read_text(encoding="utf-8") for p in (tmp_site / "public/posts").rglob("index.html"))


def test_kxsj_check_and_list_survive_the_same_bad_files(bad_site, run_kxsj):
    check = run_kxsj("check", cwd=bad_site)
    assert_no_traceback(check)
    assert check.returncode == 1  # errors in the input: check says so
    assert re.search(BAD_FILES["scan.md"][1], check.stdout)
    listed = run_kxsj("list", "--json", cwd=bad_site)
    assert_no_traceback(listed)
    assert listed.returncode == 0 and "好文章" in listed.stdout
