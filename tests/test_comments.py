"""The ``comments`` key: giscus, Waline or Twikoo on post pages only; bad settings
are errors naming kxsj.yml:line.  Markup only: nothing here touches the network."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import REPO
from kxsj.build import BuildOptions, build_site
from kxsj.config import load_config

GISCUS = """\
comments:
  provider: giscus
  repo: kxsj/comments
  repo_id: R_kgDOabc
  category: Announcements
  category_id: DIC_kwDOxyz
  theme: dark
"""


def config_of(tmp_path, text: str):
    (tmp_path / "kxsj.yml").write_text(text, encoding="utf-8")
    config, diags = load_config(tmp_path)
    return config, [str(d) for d in diags]


def test_off_by_default(tmp_path):
    config, diags = config_of(tmp_path, "title: x\n")
    assert config.comments == {} and diags == []


def test_giscus_settings_are_filled_with_their_defaults(tmp_path):
    config, diags = config_of(tmp_path, "language: en\n" + GISCUS)
    assert diags == []
    c = config.comments
    assert (c["provider"], c["repo"], c["mapping"], c["theme"], c["lang"], c["strict"]) == ("giscus", "kxsj/comments", "pathname", "dark", "en", "0")


def test_an_unknown_provider_is_an_error_naming_the_line(tmp_path):
    config, diags = config_of(tmp_path, "title: x\ncomments:\n  provider: disqus\n")
    assert config.comments == {}
    assert diags == [f"{tmp_path / 'kxsj.yml'}:3: error: `comments.provider` must be one of giscus, waline, twikoo, got 'disqus'; comments are off until it is fixed"]


def test_missing_and_bad_settings_are_errors_naming_the_line(tmp_path):
    text = "title: x\ncomments:\n  provider: giscus\n  repo: not a repo\n  category: A\n  category_id: B\n  colour: red\n"
    config, diags = config_of(tmp_path, text)
    assert config.comments == {}
    where = tmp_path / "kxsj.yml"
    assert f"{where}:2: error: `comments` with provider giscus needs `repo_id`" in "\n".join(diags)
    assert any(d.startswith(f"{where}:4: error: `comments.repo` must be the repository as `owner/name`") for d in diags)
    assert any(d.startswith(f"{where}:7: warning: `comments.colour` is not a giscus setting") for d in diags)
    for text in ("comments: giscus\n", "comments:\n  repo: a/b\n", "comments:\n  provider: waline\n", "comments:\n  provider: twikoo\n  env_id: e\n  src: javascript:alert(1)\n"):
        config, diags = config_of(tmp_path, text)
        assert config.comments == {} and diags and all(":" in d and " error: " in d for d in diags if "error" in d), text


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The bundled archive with comments, built; ``build(yml)`` builds it with another setting."""
    where = tmp_path_factory.mktemp("comments")

    def build(extra: str, name: str):
        root = where / name
        shutil.copytree(REPO / "posts", root / "posts")
        (root / "kxsj.yml").write_text((REPO / "kxsj.yml").read_text(encoding="utf-8") + "\nsearch: false\n" + extra, encoding="utf-8")
        out = root / "public"
        report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=out))
        assert report.written and not report.count("error"), [str(d) for d in report.diagnostics]
        return out

    return build


def test_giscus_script_is_on_post_pages_and_nowhere_else(site):
    out = site(GISCUS, "giscus")
    pages = list(out.rglob("*.html"))
    with_script = {p for p in pages if "giscus.app/client.js" in p.read_text(encoding="utf-8")}
    posts = {p for p in pages if re.fullmatch(r"archives/\d+/index.html", p.relative_to(out).as_posix())}
    assert len(posts) == 36 and with_script == posts
    page = (out / "archives" / "9228" / "index.html").read_text(encoding="utf-8")
    script = re.search(r'<script src="https://giscus.app/client.js"[^>]*>', page).group(0)
    for attr in ('data-repo="kxsj/comments"', 'data-repo-id="R_kgDOabc"', 'data-category="Announcements"',
                 'data-category-id="DIC_kwDOxyz"', 'data-mapping="pathname"', 'data-theme="dark"',
                 'data-lang="zh-CN"', 'crossorigin="anonymous"', "async"):
        assert attr in script, attr
    for rel in ("index.html", "tag/GAN/index.html", "search/index.html", "404.html", "series/index.html"):
        assert "giscus" not in (out / rel).read_text(encoding="utf-8"), rel


def test_waline_and_twikoo_embeds(site):
    out = site("comments:\n  provider: waline\n  server_url: https://waline.example.com\n  options: {pageview: true}\n", "waline")
    page = (out / "archives" / "9228" / "index.html").read_text(encoding="utf-8")
    module = re.search(r'<script type="module">(.*?)</script>', page, re.S).group(1)
    assert 'import { init } from "https://unpkg.com/@waline/client@v3/dist/waline.js";' in module
    options = json.loads(re.search(r"init\((\{.*\})\);", module).group(1))
    assert options == {"el": "#waline", "serverURL": "https://waline.example.com", "lang": "zh-CN", "dark": "auto", "pageview": True}
    assert '<div id="waline"></div>' in page and 'href="https://unpkg.com/@waline/client@v3/dist/waline.css"' in page
    assert "waline" not in (out / "index.html").read_text(encoding="utf-8")

    out = site("comments:\n  provider: twikoo\n  env_id: https://twikoo.example.com/</script>\n  region: ap-guangzhou\n", "twikoo")
    page = (out / "archives" / "9228" / "index.html").read_text(encoding="utf-8")
    assert '<div id="tcomment"></div>' in page and "twikoo.all.min.js" in page
    call = re.search(r"<script>twikoo\.init\((\{.*?\})\);</script>", page).group(1)
    assert "</script>" not in call  # the value cannot end the script
    assert json.loads(call) == {"envId": "https://twikoo.example.com/</script>", "el": "#tcomment", "lang": "zh-CN", "region": "ap-guangzhou"}
    assert "twikoo" not in (out / "tag" / "GAN" / "index.html").read_text(encoding="utf-8")
