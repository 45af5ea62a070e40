"""The README's commands work as written (issue: publishing; standards: Quick start)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def sh_blocks() -> list[list[str]]:
    return [
        [ln.strip() for ln in block.splitlines() if ln.strip()]
        for block in re.findall(r"```sh\n(.*?)```", README, re.S)
    ]


def test_readme_opens_with_quick_start_of_exactly_two_one_line_commands():
    first_heading = re.search(r"^## (.+)$", README, re.M).group(1)
    assert first_heading == "Quick start"
    quick = sh_blocks()[0]
    assert len(quick) == 2
    assert quick[0].endswith("pip install . && kxsj build")
    assert quick[1].endswith("pip install '.[test]' && python -m pytest")


def test_ci_runs_the_readmes_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert sh_blocks()[0][1] in ci


def test_every_kxsj_command_in_the_readme_runs(run_kxsj, tmp_site):
    commands = [shlex.split(ln.split("#")[0]) for block in sh_blocks() for ln in block if ln.startswith("kxsj ")]
    commands += [shlex.split(c.split("&&")[-1]) for c in sh_blocks()[0] if "kxsj " in c]
    assert commands
    for argv in commands:
        if argv[1] == "serve":
            # the live server is driven by the serve tests; here: its options parse
            proc = run_kxsj(*argv[1:], "--help", cwd=tmp_site)
        else:
            proc = run_kxsj(*argv[1:], cwd=tmp_site)
        assert proc.returncode == 0, f"{argv}: {proc.stdout}{proc.stderr}"
    assert (tmp_site / "public" / "index.html").is_file()


def test_commands_and_options_in_the_table_exist(run_kxsj, tmp_site):
    rows = re.findall(r"^\| `kxsj (\w+)([^`]*)` \|", README, re.M)
    assert {r[0] for r in rows} == {"build", "serve", "list", "check", "init", "new"}
    for command, options in rows:
        helptext = run_kxsj(command, "--help", cwd=tmp_site).stdout
        for option in re.findall(r"--[a-z-]+", options):
            assert option in helptext, f"kxsj {command} has no {option}"


def test_config_keys_in_the_readme_are_the_real_ones():
    from kxsj.config import KEYS

    section = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \| ", section, re.M))
    assert documented == set(KEYS)
