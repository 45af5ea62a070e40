"""``kxsj build --strict`` and ``kxsj check --strict`` give one verdict (issue 16).

The Pages workflow publishes with ``build --strict``; a site that ``check
--strict`` rejects must not be published, and the reason must read the same
in both.
"""

from __future__ import annotations

import re

import pytest

POST = """---
title: 一个没配对的美元符号
date: 2024-03-01
slug: lone-dollar
---
第一段。

第二段里有一个 $x 没有闭合。
"""

CLEAN = """---
title: 干净的文章
date: 2024-03-02
slug: clean
---
公式 $x^2$ 与 $$y = 1$$ 都闭合了。
"""

LINE = re.compile(r"^\S+:\d+: (warning|error): .*$", re.M)


def findings(text: str) -> list[str]:
    """The ``path:line: level: message`` lines of a command's output."""
    return [m.group(0) for m in LINE.finditer(text)]


def make_site(tmp_path, posts: dict[str, str]):
    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    (site / "kxsj.yml").write_text("title: t\nsearch: false\n", encoding="utf-8")
    for name, text in posts.items():
        (site / "posts" / name).write_text(text, encoding="utf-8")
    return site


def test_an_unpaired_dollar_fails_build_strict_with_checks_message(run_kxsj, tmp_path):
    site = make_site(tmp_path, {"lone.md": POST, "clean.md": CLEAN})
    check = run_kxsj("check", "--strict", cwd=site)
    build = run_kxsj("build", "--strict", cwd=site)
    assert check.returncode == 1, check.stdout + check.stderr
    assert build.returncode == 1, build.stdout + build.stderr
    said_by_check = findings(check.stdout)
    assert said_by_check == findings(build.stderr)
    assert any(line.startswith("posts/lone.md:8: warning: `$` opens no formula") for line in said_by_check), said_by_check
    assert not (site / "public" / "index.html").exists(), "a failed strict build must not publish"


def test_without_strict_both_pass_and_still_say_it(run_kxsj, tmp_path):
    site = make_site(tmp_path, {"lone.md": POST, "clean.md": CLEAN})
    check = run_kxsj("check", cwd=site)
    build = run_kxsj("build", cwd=site)
    assert check.returncode == 0 and build.returncode == 0, build.stderr
    assert findings(check.stdout) == findings(build.stderr) != []


@pytest.mark.parametrize("drafts", [False, True])
def test_drafts_are_judged_alike(run_kxsj, tmp_path, drafts):
    """A broken draft fails both only when both are asked to include drafts."""
    draft = POST.replace("slug: lone-dollar", "slug: lone-dollar\ndraft: true")
    site = make_site(tmp_path, {"lone.md": draft, "clean.md": CLEAN})
    flag = ["--drafts"] if drafts else []
    check = run_kxsj("check", "--strict", *flag, cwd=site)
    build = run_kxsj("build", "--strict", *flag, cwd=site)
    assert check.returncode == build.returncode == (1 if drafts else 0), check.stdout + build.stderr
    assert findings(check.stdout) == findings(build.stderr)


def test_a_clean_site_passes_both(run_kxsj, tmp_path):
    site = make_site(tmp_path, {"clean.md": CLEAN})
    assert run_kxsj("check", "--strict", cwd=site).returncode == 0
    build = run_kxsj("build", "--strict", cwd=site)
    assert build.returncode == 0, build.stderr
    assert findings(build.stderr) == []


def test_a_rebuild_after_another_post_changed_still_reports_it(run_kxsj, tmp_path):
    """The lint of an unchanged file comes from the parse cache, and says the same."""
    site = make_site(tmp_path, {"lone.md": POST, "clean.md": CLEAN})
    first = run_kxsj("build", cwd=site)
    (site / "posts" / "clean.md").write_text(CLEAN.replace("都闭合了", "也都闭合了"), encoding="utf-8")
    second = run_kxsj("build", "--strict", cwd=site)
    check = run_kxsj("check", "--strict", cwd=site)
    assert second.returncode == check.returncode == 1
    assert findings(first.stderr) == findings(second.stderr) == findings(check.stdout) != []
