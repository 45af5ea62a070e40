"""Compiled templates kept in the output: used only for the very source they were compiled from."""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2.bccache import bc_magic

from kxsj.assets import asset_dirs
from kxsj.build import BuildOptions, build_site
from kxsj.render.cache import CACHE_DIR
from kxsj.render.template_cache import FOLDER, TemplateCodeCache


def render_with(out: Path, templates: Path, name: str = "page.html", **context) -> tuple[str, TemplateCodeCache]:
    cache = TemplateCodeCache(out)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), bytecode_cache=cache)
    return env.get_template(name).render(**context), cache


def test_a_saved_template_is_loaded_not_compiled_and_renders_the_same(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "base.html").write_text("<title>{% block t %}{% endblock %}</title>", encoding="utf-8")
    (templates / "page.html").write_text('{% extends "base.html" %}{% block t %}{{ x }}{% endblock %}', encoding="utf-8")
    first, cache = render_with(tmp_path / "a", templates, x="一")
    assert (cache.compiled, cache.loaded) == (2, 0)
    cache.save_into(tmp_path / "b")  # written into the new output only
    assert not (tmp_path / "a" / CACHE_DIR).exists()
    assert len(list((tmp_path / "b" / CACHE_DIR / FOLDER).rglob("*.bin"))) == 2

    again, cache = render_with(tmp_path / "b", templates, x="一")
    assert again == first == "<title>一</title>"
    assert (cache.compiled, cache.loaded) == (0, 2)


def test_a_changed_or_damaged_template_file_is_compiled_again(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("old {{ x }}", encoding="utf-8")
    _, cache = render_with(tmp_path / "a", templates, x=1)
    cache.save_into(tmp_path / "out")

    (templates / "page.html").write_text("new {{ x }}", encoding="utf-8")
    text, cache = render_with(tmp_path / "out", templates, x=1)
    assert text == "new 1" and (cache.compiled, cache.loaded) == (1, 0)

    (templates / "page.html").write_text("old {{ x }}", encoding="utf-8")
    # Empty, foreign, cut short, and Jinja's header followed by garbage where its checksum belongs.
    for damage in (b"", b"garbage", None, bc_magic + b"\xff\x00garbage"):
        for path in (tmp_path / "out" / CACHE_DIR / FOLDER).rglob("*.bin"):
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2] if damage is None else damage)
        text, cache = render_with(tmp_path / "out", templates, x=1)
        assert text == "old 1" and (cache.compiled, cache.loaded) == (1, 0), damage


def test_builds_reuse_compiled_templates_and_a_site_template_change_reaches_the_pages(tmp_site, monkeypatch):
    with open(tmp_site / "kxsj.yml", "a", encoding="utf-8") as f:
        f.write("\nsearch: false\n")
    counts = []
    real_save = TemplateCodeCache.save_into
    monkeypatch.setattr(TemplateCodeCache, "save_into", lambda self, out: counts.append((self.compiled, self.loaded)) or real_save(self, out))
    options = BuildOptions(tmp_site, tmp_site / "posts", tmp_site / "public")
    assert build_site(options).written
    compiled, loaded = counts[-1]
    assert compiled > 0 and loaded == 0

    post = sorted((tmp_site / "posts").glob("*.txt"))[0]
    post.write_bytes(post.read_bytes().replace("点击阅读全文".encode(), "改动。\n\n点击阅读全文".encode(), 1))
    assert build_site(options).written
    assert counts[-1][0] == 0 and counts[-1][1] > 0, "an edit build compiles no template"

    ours = tmp_site / "templates"
    ours.mkdir(exist_ok=True)
    shipped = asset_dirs("templates", None)[-1]
    (ours / "404.html").write_text((shipped / "404.html").read_text(encoding="utf-8").replace("页面不存在</h1>", "本站自己的404</h1>"), encoding="utf-8")
    assert build_site(options).written
    assert "本站自己的404" in (tmp_site / "public" / "404.html").read_text(encoding="utf-8")
    assert counts[-1][0] >= 1
