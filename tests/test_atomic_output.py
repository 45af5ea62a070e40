"""A build that fails or is cut short leaves the previous site as it was (issue 8).

Real ``kxsj build`` processes on a 1,000-post site get SIGINT (Ctrl-C),
SIGTERM and SIGKILL in the middle of rendering and of writing; afterwards the
previous ``public/`` is byte-identical (a digest of the whole tree), nothing
outside the output folder was written or removed (a digest of the site root
and a listing of its parent), and a later build cleans up what a SIGKILL left.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kxsj.write.output import MARKER, clean_stale, write_output

POSTS = 1000


def tree_digest(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """``relative path -> sha256`` of every file (and link target) below ``folder``."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        rel_dir = here.relative_to(folder)
        dirnames[:] = sorted(d for d in dirnames if str(rel_dir / d) not in skip)
        for name in dirnames + filenames:
            path = here / name
            rel = str(rel_dir / name)
            if rel in skip:
                continue
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


def make_big_site(root: Path, shared_dir: Path, count: int = POSTS) -> None:
    """``count`` real posts: the corpus's Markdown files copied with new ids and titles."""
    posts = root / "posts"
    posts.mkdir(parents=True)
    (root / "kxsj.yml").write_text("title: 大站\nsearch: false\n", encoding="utf-8")
    sources = sorted((shared_dir / "corpus/md").glob("*.md"))
    for n in range(count):
        src, copy = sources[n % len(sources)], n // len(sources)
        text = src.read_text(encoding="utf-8")
        text = re.sub(r"^id: (\d+)$", lambda m: f"id: {int(m.group(1)) * 10 + copy}", text, count=1, flags=re.M)
        text = re.sub(r'^title: "(.*)"$', lambda m: f'title: "{m.group(1)}（{copy}）"', text, count=1, flags=re.M)
        (posts / f"{copy}-{src.name}").write_text(text, encoding="utf-8")


def kxsj_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kxsj", *args]


def kxsj_env() -> dict[str, str]:
    import kxsj

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(kxsj.__file__).resolve().parents[1]), env.get("PYTHONPATH", "")) if p)
    return env


@pytest.fixture(scope="module")
def built_big_site(tmp_path_factory, shared_dir) -> Path:
    """A 1,000-post site with a first good build, shared by the tests (copied per test)."""
    root = tmp_path_factory.mktemp("big") / "site"
    make_big_site(root, shared_dir)
    done = subprocess.run(kxsj_command("build"), cwd=root, env=kxsj_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@pytest.fixture
def big_site(built_big_site, tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(built_big_site, root, symlinks=True)
    # A change, so that a completed build would differ from the previous output.
    (root / "posts/0-10040.md").write_text(
        (root / "posts/0-10040.md").read_text(encoding="utf-8").replace("在这个系列", "改过的开头，在这个系列", 1),
        encoding="utf-8",
    )
    return root


def change_every_page(root: Path) -> None:
    """A new site title: every page is written again, so the write stage lasts long enough to be cut.

    (After a one-post edit an in-place update writes a handful of files in
    milliseconds; its commit is cut at every step in ``test_write_in_place``.)
    """
    config = root / "kxsj.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("大站", "大站（新）"), encoding="utf-8")


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".public."))


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, "the build ended before it could be interrupted: " + proc.stderr.read()
        assert time.monotonic() < deadline, "timed out waiting for the build to reach the write stage"
        time.sleep(0.002)


def interrupt_build(root: Path, sig: int, during: str) -> subprocess.CompletedProcess:
    """Start ``kxsj build`` in ``root``; send ``sig`` while it renders or while it writes.

    The build runs in its own process group: Ctrl-C (SIGINT) goes to the whole
    group, as a terminal sends it; SIGTERM and SIGKILL go to the build's
    process only, as ``kill PID`` does.  Afterwards no process of the group
    (render workers included) may be left running.
    """
    proc = subprocess.Popen(kxsj_command("build"), cwd=root, env=kxsj_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        if during == "write":
            wait_for(lambda: any(n.startswith(".public.tmp-") for n in os.listdir(root)), proc)
            time.sleep(0.01)  # some files are in the temporary folder
        else:
            time.sleep(1.5)  # loading and rendering 1,000 posts takes several seconds
        assert proc.poll() is None, "the build ended before it could be interrupted"
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
        assert group_ends(proc.pid), "a process of the interrupted build is still running"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def group_ends(pgid: int, timeout: float = 15.0) -> bool:
    """Whether every process of the group has ended within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    os.killpg(pgid, signal.SIGKILL)  # do not leave them behind for the next test
    return False


def snapshot_around(root: Path) -> tuple[dict, list[str]]:
    """Everything the build may not touch: the site root minus ``public/`` (which holds the render cache too), and the root's parent."""
    return tree_digest(root, skip=("public",)), sorted(os.listdir(root.parent))


@pytest.mark.slow
@pytest.mark.parametrize("sig, during", [
    pytest.param(sig, during, id=f"{sig.name}-{during}")
    for sig in (signal.SIGINT, signal.SIGTERM) for during in ("render", "write")
])
def test_interrupted_build_leaves_previous_output_and_nothing_else_changed(big_site, sig, during):
    if during == "render":  # without the previous build's cache every body and page is rendered: seconds of it
        shutil.rmtree(big_site / "public" / ".kxsj-cache")
    else:
        change_every_page(big_site)
    public_before = tree_digest(big_site / "public")
    around_before = snapshot_around(big_site)
    done = interrupt_build(big_site, sig, during)
    assert done.returncode in (130, -sig, 128 + sig), (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert tree_digest(big_site / "public") == public_before
    assert snapshot_around(big_site) == around_before
    assert leftovers(big_site) == []  # Ctrl-C and SIGTERM clean up their temporary folder


@pytest.mark.slow
def test_sigkill_mid_write_keeps_previous_output_and_next_build_cleans_up(big_site):
    change_every_page(big_site)
    public_before = tree_digest(big_site / "public")
    around_before = snapshot_around(big_site)
    done = interrupt_build(big_site, signal.SIGKILL, "write")
    assert done.returncode == -signal.SIGKILL
    assert tree_digest(big_site / "public") == public_before
    # Only the temporary folders (the new tree, the workers' page spool) were added beside the output.
    temporary = (".public.tmp-", ".public.spool-")
    around = {k: v for k, v in tree_digest(big_site, skip=("public",)).items() if not k.startswith(temporary)}
    assert around == around_before[0]
    stale = leftovers(big_site)
    assert stale and all(n.startswith(temporary) for n in stale)  # SIGKILL cannot clean up

    rebuilt = subprocess.run(kxsj_command("build"), cwd=big_site, env=kxsj_env(), capture_output=True, text=True, timeout=600)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert leftovers(big_site) == []
    assert "改过的开头" in (big_site / "public/archives/100400/index.html").read_text(encoding="utf-8")
    assert snapshot_around(big_site) == around_before


# --- fast checks of the pieces -------------------------------------------------


def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def fake_output(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("x", encoding="utf-8")
    (folder / "index.html").write_text(text, encoding="utf-8")
    return folder


def test_leftovers_of_dead_builds_are_removed_and_a_running_builds_kept(tmp_path):
    out = fake_output(tmp_path / "public", "current")
    dead, alive = dead_pid(), os.getppid()
    fake_output(tmp_path / f".public.tmp-{dead}-abc", "half written")
    fake_output(tmp_path / f".public.old-{dead}-def" / "public", "older")
    fake_output(tmp_path / f".public.tmp-{alive}-ghi", "someone else's build")
    (tmp_path / ".public.tmp-notmine").mkdir()  # not our naming: never touched
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    clean_stale(out)
    assert sorted(os.listdir(tmp_path)) == sorted([".public.tmp-notmine", f".public.tmp-{alive}-ghi", "notes.txt", "public"])
    assert (out / "index.html").read_text(encoding="utf-8") == "current"


def test_output_lost_between_the_two_renames_is_put_back_by_the_next_build(tmp_path):
    """SIGKILL between ``public -> .public.old-…/public`` and ``tmp -> public``."""
    dead = dead_pid()
    old = fake_output(tmp_path / f".public.old-{dead}-x" / "public", "previous site")
    before = tree_digest(old)
    fake_output(tmp_path / f".public.tmp-{dead}-y", "new, complete")
    out = tmp_path / "public"
    clean_stale(out)
    assert tree_digest(out) == before and sorted(os.listdir(tmp_path)) == ["public"]
    # And a build that then fails keeps that restored output.
    with pytest.raises(KeyboardInterrupt):
        write_output(interrupted_pages(), out)
    assert tree_digest(out) == before and sorted(os.listdir(tmp_path)) == ["public"]


class _Page:
    def __init__(self, path: str, content: bytes):
        self.path, self.content = path, content


def interrupted_pages():
    yield _Page("/a/", b"a")
    raise KeyboardInterrupt


def test_symlinks_out_of_the_site_are_not_followed(tmp_site, run_kxsj, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.md"
    secret.write_text("---\ntitle: 外面的秘密\ndate: 2024-01-01\n---\n不该发布\n", encoding="utf-8")
    (outside / "more").mkdir()
    (outside / "more/also.md").write_text("---\ntitle: 外面的另一篇\ndate: 2024-01-01\n---\n也不该\n", encoding="utf-8")
    (tmp_site / "posts/evil.md").symlink_to(secret)
    (tmp_site / "posts/linked").symlink_to(outside / "more", target_is_directory=True)
    (tmp_site / "notes").mkdir()
    (tmp_site / "notes/inside.md").write_text("---\ntitle: 站内链接\ndate: 2024-01-03\n---\n可以\n", encoding="utf-8")
    (tmp_site / "posts/inside.md").symlink_to(tmp_site / "notes/inside.md")
    outside_before = tree_digest(outside)
    proc = run_kxsj("build", cwd=tmp_site)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^posts/evil\.md: warning: symlink to .*outside the site, not followed", proc.stderr, re.M), proc.stderr
    assert re.search(r"^posts/linked: warning: symlinked folder not followed", proc.stderr, re.M), proc.stderr
    site_text = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_site / "public").rglob("*.html"))
    assert "外面的秘密" not in site_text and "外面的另一篇" not in site_text
    assert "站内链接" in site_text  # a link that stays inside the site is fine
    assert tree_digest(outside) == outside_before
