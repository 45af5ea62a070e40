"""What a new user runs, run as written: the README's Quick start and the Pages workflow (issue 16).

Each test takes a fresh copy of the repository (what a clone of this
checkout holds: the files git tracks, and new files it does not ignore),
runs the commands exactly as the README or the workflow spell them, in a
fresh virtual environment, and looks at the site they leave.  They install
from the package index, as a user's first run does, so they take about a
minute each.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"
PAGES_ADDRESS = "https://example.github.io/kxsj"
"""What ``actions/configure-pages`` gives as ``base_url`` for a project site: no trailing slash."""

pytestmark = pytest.mark.slow


def fresh_clone(dest: Path) -> Path:
    """The files a clone of this checkout would have, copied to ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode("utf-8").split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the work tree is not in a clone of it either
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def sh(command: str, cwd: Path, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout,
    )


def clean_env(path_first: list[str] = ()) -> dict[str, str]:
    """This environment without what would leak the test's own installation into the new one."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_BREAK_SYSTEM_PACKAGES")}
    venv_bin = str(Path(sys.prefix) / "bin")
    rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    env["PATH"] = os.pathsep.join([*path_first, *rest])
    return env


def quick_start() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^## Quick start\n\n```sh\n(.*?)```", readme, re.S | re.M)
    assert block, "the README opens with a Quick start block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def system_python() -> Path | None:
    """A Python that refuses ``pip install`` outside a venv (PEP 668), as Debian's and Ubuntu's do."""
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        stdlib = subprocess.run(
            [candidate, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
            capture_output=True, text=True,
        ).stdout.strip()
        if stdlib and (Path(stdlib) / "EXTERNALLY-MANAGED").is_file():
            return Path(candidate)
    return None


def assert_searchable_site(public: Path) -> None:
    assert (public / "index.html").is_file()
    assert (public / "pagefind" / "pagefind.js").is_file(), "the site has no search index"
    assert list((public / "pagefind").glob("index/*.pf_index")), "the search index is empty"


def test_quick_start_commands_are_two_lines():
    assert len(quick_start()) == 2


def test_the_first_quick_start_command_builds_a_searchable_site(tmp_path):
    clone = fresh_clone(tmp_path / "kxsj")
    python = system_python()
    first_dir: list[str] = []
    if python is not None:
        # The stock Debian/Ubuntu case: `python3` is the system's, which refuses
        # a plain `pip install` (checked here, so the case is really the one meant).
        first_dir = [str(tmp_path / "bin")]
        (tmp_path / "bin").mkdir()
        (tmp_path / "bin" / "python3").symlink_to(python)
        refused = sh("python3 -m pip install --dry-run --no-deps .", clone, clean_env(first_dir), timeout=120)
        assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr, refused.stderr
    done = sh(quick_start()[0], clone, clean_env(first_dir))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "0 warnings" in done.stdout, done.stdout[-2000:]
    assert_searchable_site(clone / "public")


# --- the Pages workflow ------------------------------------------------------


def build_steps() -> list[dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return workflow["jobs"]["build"]["steps"]


def as_run_here(command: str) -> str:
    """A step's ``run:`` with the one expression it may use, the Pages address, filled in."""
    command = command.replace("${{ steps.pages.outputs.base_url }}", PAGES_ADDRESS)
    assert "${{" not in command, f"the test does not know what to put for: {command}"
    return command


def run_workflow(clone: Path, runner_temp: Path, steps: list[dict]) -> Path:
    """The build job's steps on a fresh clone, as GitHub's runner would run them.

    ``actions/checkout`` is the clone itself, ``actions/setup-python`` a fresh
    venv first on PATH, ``actions/cache`` restores nothing (a first push),
    ``actions/configure-pages`` gives ``PAGES_ADDRESS``; every ``run:`` step
    runs as written.  Returns what ``upload-pages-artifact`` would upload, as
    it was at that step.
    """
    venv = runner_temp / "python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = clean_env([str(venv / "bin")])
    env["RUNNER_TEMP"] = str(runner_temp)
    uploaded = None
    for step in steps:
        if "run" in step:
            done = sh(as_run_here(step["run"]), clone, env)
            assert done.returncode == 0, f"step {step.get('name')!r} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        elif step.get("uses", "").startswith("actions/upload-pages-artifact@"):
            uploaded = runner_temp / "artifact"
            shutil.copytree(clone / step["with"]["path"], uploaded, symlinks=True)
    assert uploaded is not None, "the job uploads no artifact"
    return uploaded


def test_the_pages_workflow_publishes_a_searchable_site(tmp_path):
    clone = fresh_clone(tmp_path / "kxsj")
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    uploaded = run_workflow(clone, runner_temp, build_steps())
    assert_searchable_site(uploaded)
    assert not (uploaded / ".kxsj-cache").exists(), "the published site carries kxsj's caches"
    home = (uploaded / "index.html").read_text(encoding="utf-8")
    assert f'href="{PAGES_ADDRESS}/static/css/site.css"' in home or 'href="/kxsj/static/css/site.css"' in home, home[:2000]
    assert (clone / "public" / ".kxsj-cache").is_dir(), "the caches are not put back for the next run"


def test_the_workflow_run_fails_where_the_install_gives_no_search(tmp_path):
    """The workflow test can fail: with Pagefind gone after the install step, the strict build stops."""
    clone = fresh_clone(tmp_path / "kxsj")
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    steps = build_steps()
    installs = [i for i, s in enumerate(steps) if "run" in s and "pip install" in s["run"]]
    assert len(installs) == 1, "expected one install step"
    broken = [dict(s) for s in steps]
    broken[installs[0]]["run"] += "\npip uninstall -y pagefind-bin-extended"
    with pytest.raises(AssertionError, match="Build the site|Pagefind is not installed"):
        run_workflow(clone, runner_temp, broken)
