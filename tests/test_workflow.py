"""The GitHub Pages workflow is valid and publishes what ``kxsj build`` makes.

A broken workflow only shows up after a push, on GitHub; actionlint catches
most of that here, and the structural checks pin the parts that publishing
depends on (permissions, the three Pages actions, the base URL handed to
``kxsj build``).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "pages.yml"
BASE_URL_ARG = "${{ steps.pages.outputs.base_url }}/"

# Oldest major of each action the workflow may use: the newest ones when it
# was written. A later bump passes; a downgrade does not.
MIN_MAJOR = {
    "actions/cache": 6,
    "actions/checkout": 7,
    "actions/setup-python": 7,
    "actions/configure-pages": 6,
    "actions/upload-pages-artifact": 5,
    "actions/deploy-pages": 5,
}


def actionlint(binary: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, "-no-color", str(path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def only_step(job: dict, action: str) -> dict:
    found = steps_using(job, action)
    assert len(found) == 1, f"expected one {action} step, found {len(found)}"
    return found[0]


def test_actionlint_accepts_the_workflow(actionlint_path):
    result = actionlint(actionlint_path, WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


BREAKAGES = {
    "unknown step id": (
        "steps.pages.outputs.base_url",
        "steps.page.outputs.base_url",
        'property "page" is not defined',
    ),
    "needs a missing job": ("needs: build", "needs: bulid", 'needs job "bulid"'),
    "bad permission level": ("pages: write ", "pages: writ ", "writ"),
    "unknown action input": ("restore-keys:", "restore-key:", "restore-key"),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_actionlint_rejects_a_broken_copy(actionlint_path, tmp_path, name):
    """So a passing lint means something: the same check fails on known breakage."""
    old, new, expected = BREAKAGES[name]
    text = WORKFLOW.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in the workflow"
    broken = tmp_path / ".github" / "workflows" / "pages.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(text.replace(old, new), encoding="utf-8")
    result = actionlint(actionlint_path, broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout


def test_triggers_permissions_and_concurrency(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers
    # Nothing by default: the job that runs kxsj over the repository and the
    # restored cache cannot write to Pages or mint a token; only deploy can.
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read", "pages": "read"}
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_actions_are_current_majors(workflow):
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "uses" not in step:
                continue
            action, _, ref = step["uses"].partition("@")
            match = re.fullmatch(r"v(\d+)", ref)
            assert match, f"{step['uses']}: pin a major tag like @v5"
            assert int(match[1]) >= MIN_MAJOR.get(action, 0), step["uses"]
    used = {s["uses"].split("@")[0] for j in workflow["jobs"].values() for s in j["steps"] if "uses" in s}
    assert set(MIN_MAJOR) <= used


def test_build_job_builds_strictly_for_the_pages_address(workflow):
    build = workflow["jobs"]["build"]
    steps = build["steps"]
    python = only_step(build, "actions/setup-python")
    assert str(python["with"]["python-version"]) == "3.11"
    assert python["with"]["cache"] == "pip"

    configure = only_step(build, "actions/configure-pages")
    assert configure["id"] == "pages"

    # What the install and build steps do is tested by running them
    # (tests/test_first_run.py); here only that the build is strict and for
    # the address configure-pages gives.
    runs = [(i, shlex.split(s["run"])) for i, s in enumerate(steps) if "run" in s]
    builds = [(i, argv) for i, argv in runs if argv[:2] == ["kxsj", "build"]]
    assert len(builds) == 1, runs
    build_index, argv = builds[0]
    assert "--strict" in argv
    assert argv[argv.index("--base-url") + 1] == BASE_URL_ARG
    assert steps.index(configure) < build_index

    upload = only_step(build, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "public"
    assert steps.index(upload) > build_index


def test_ci_builds_start_from_the_previous_output_and_publish_no_cache(workflow):
    """The previous output (with ``.kxsj-cache``) is restored before the build;
    the cache is moved out of ``public/`` for the upload and back for the save."""
    build = workflow["jobs"]["build"]
    steps = build["steps"]
    cache = only_step(build, "actions/cache")
    assert cache["with"]["path"] == "public"
    assert cache["with"]["key"].startswith(cache["with"]["restore-keys"])
    runs = {i: shlex.split(s["run"]) for i, s in enumerate(steps) if "run" in s}
    (build_index,) = [i for i, argv in runs.items() if argv[:2] == ["kxsj", "build"]]
    upload = steps.index(only_step(build, "actions/upload-pages-artifact"))
    moves = {i: argv for i, argv in runs.items() if argv[0] == "mv"}
    out = [i for i, argv in moves.items() if argv[1] == "public/.kxsj-cache"]
    back = [i for i, argv in moves.items() if argv[2] == "public/.kxsj-cache"]
    assert len(out) == 1 and len(back) == 1, moves
    assert steps.index(cache) < build_index < out[0] < upload < back[0]
    assert moves[out[0]][2] == moves[back[0]][1]


def test_deploy_job_publishes_the_artifact(workflow):
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] in ("build", ["build"])
    assert deploy["environment"] == {
        "name": "github-pages",
        "url": "${{ steps.deployment.outputs.page_url }}",
    }
    assert only_step(deploy, "actions/deploy-pages")["id"] == "deployment"


def test_cli_accepts_the_flags_the_workflow_uses(run_kxsj):
    """The workflow calls ``kxsj build --strict --base-url``; both must exist."""
    result = run_kxsj("build", "--help")
    assert result.returncode == 0, result.stderr
    assert "--strict" in result.stdout and "--base-url" in result.stdout
