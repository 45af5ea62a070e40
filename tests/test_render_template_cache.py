"""Compiled templates: kept in the user's cache folder, never in the output, used only for the very source and configuration they were compiled from."""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2.bccache import bc_magic

from kxsj.assets import asset_dirs
from kxsj.build import BuildOptions, build_site
from kxsj.config import Config
from kxsj.incremental.store import CACHE_DIR
from kxsj.incremental.templates import TemplateCodeCache


def render_with(home: Path, templates: Path, name: str = "page.html", config: Config | None = None, **context):
    cache = TemplateCodeCache(config or Config(), home=home)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), bytecode_cache=cache)
    return env.get_template(name).render(**context), cache


def test_a_saved_template_is_loaded_not_compiled_and_renders_the_same(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "base.html").write_text("<title>{% block t %}{% endblock %}</title>", encoding="utf-8")
    (templates / "page.html").write_text('{% extends "base.html" %}{% block t %}{{ x }}{% endblock %}', encoding="utf-8")
    first, cache = render_with(tmp_path / "home", templates, x="一")
    assert (cache.compiled, cache.loaded) == (2, 0)
    assert len(list((tmp_path / "home").rglob("*.bin"))) == 2

    again, cache = render_with(tmp_path / "home", templates, x="一")
    assert again == first == "<title>一</title>"
    assert (cache.compiled, cache.loaded) == (0, 2)

    # Another configuration (here another base_url) is another folder: Jinja folds filters into the code.
    _, cache = render_with(tmp_path / "home", templates, config=Config(base_url="https://x.org/repo/"), x="一")
    assert (cache.compiled, cache.loaded) == (2, 0)


def test_a_changed_damaged_or_foreign_template_file_is_compiled_again(tmp_path, monkeypatch):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("old {{ x }}", encoding="utf-8")
    home = tmp_path / "home"
    render_with(home, templates, x=1)

    (templates / "page.html").write_text("new {{ x }}", encoding="utf-8")
    text, cache = render_with(home, templates, x=1)
    assert text == "new 1" and (cache.compiled, cache.loaded) == (1, 0)

    (templates / "page.html").write_text("old {{ x }}", encoding="utf-8")
    render_with(home, templates, x=1)
    (path,) = home.rglob("*.bin")
    genuine = path.read_bytes()
    # Empty, foreign, cut short, Jinja's own format without the seal, one byte flipped.
    for damage in (b"", b"garbage", genuine[: len(genuine) // 2], bc_magic + b"\xff\x00garbage", genuine[:-1] + bytes([genuine[-1] ^ 0xFF])):
        path.write_bytes(damage)
        text, cache = render_with(home, templates, x=1)
        assert text == "old 1" and (cache.compiled, cache.loaded) == (1, 0), damage

    # Sealed under another key: not the user's own, so not run.
    monkeypatch.setenv("KXSJ_CACHE_KEY", "someone else")
    render_with(home, templates, x=1)
    foreign = path.read_bytes()
    monkeypatch.delenv("KXSJ_CACHE_KEY")
    path.write_bytes(foreign)
    _, cache = render_with(home, templates, x=1)
    assert (cache.compiled, cache.loaded) == (1, 0)


def test_builds_reuse_compiled_templates_outside_the_output_and_a_site_template_change_reaches_the_pages(tmp_site, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with open(tmp_site / "kxsj.yml", "a", encoding="utf-8") as f:
        f.write("\nsearch: false\n")
    made: list[TemplateCodeCache] = []
    real_init = TemplateCodeCache.__init__
    monkeypatch.setattr(TemplateCodeCache, "__init__", lambda self, *a, **k: made.append(self) or real_init(self, *a, **k))
    options = BuildOptions(tmp_site, tmp_site / "posts", tmp_site / "public")
    assert build_site(options).written
    assert made[-1].compiled > 0 and made[-1].loaded == 0
    assert made[-1].folder.is_relative_to(tmp_path / "xdg" / "kxsj")
    assert not list((tmp_site / "public" / CACHE_DIR).rglob("templates")), "no compiled code in the output"

    post = sorted((tmp_site / "posts").glob("*.txt"))[0]
    post.write_bytes(post.read_bytes().replace("点击阅读全文".encode(), "改动。\n\n点击阅读全文".encode(), 1))
    assert build_site(options).written
    assert made[-1].compiled == 0 and made[-1].loaded > 0, "an edit build compiles no template"

    ours = tmp_site / "templates"
    ours.mkdir(exist_ok=True)
    shipped = asset_dirs("templates", None)[-1]
    (ours / "404.html").write_text((shipped / "404.html").read_text(encoding="utf-8").replace("页面不存在</h1>", "本站自己的404</h1>"), encoding="utf-8")
    assert build_site(options).written
    assert "本站自己的404" in (tmp_site / "public" / "404.html").read_text(encoding="utf-8")
    assert made[-1].compiled >= 1
