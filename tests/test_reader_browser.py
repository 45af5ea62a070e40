"""Reader features in Chromium: the dark theme (system and switch, remembered
across pages), a long post's contents and heading anchors, copy buttons, the
sidebar, and no page wider than a phone.  Screenshots of each state go to
the test's temporary folder (phone and desktop, light and dark)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from kxsj.build import BuildOptions, build_site

REPO = Path(__file__).resolve().parents[1]
LONG_POST = "6280"  # 17 headings in three levels, many formulas
PHONE, DESKTOP = 390, 1280

CODE_POST = """---
title: 代码块测试
date: 2024-02-03
categories: [信息时代]
tags: [代码]
---
没有语言的代码块：

```
x = 1 < 2  # 原样
print("你好")
```

Python 代码块：

```python
def f(x):
    return x ** 2
```

公式 $E = mc^2$ 与表格：

| 甲 | 乙 |
|----|----|
| 1  | 2  |

> 引用的一段话。
"""

WAIT_FOR_MATHJAX = "() => window.MathJax && MathJax.startup && MathJax.startup.promise"


@pytest.fixture(scope="module")
def served(tmp_path_factory, shared_dir, session_serve_dir):
    root = tmp_path_factory.mktemp("reader-site")
    shutil.copytree(REPO / "posts", root / "posts")
    shutil.copy(shared_dir / "corpus" / "md" / f"{LONG_POST}.md", root / "posts" / f"{LONG_POST}.md")
    (root / "posts" / "code.md").write_text(CODE_POST, encoding="utf-8")
    report = build_site(BuildOptions(root=root, posts_dir=root / "posts", out_dir=root / "public"))
    assert report.written, [str(d) for d in report.diagnostics]
    return session_serve_dir(root / "public"), root / "public"


def _code_url(out: Path) -> str:
    for page in (out / "posts").rglob("index.html"):
        if "代码块测试" in page.read_text(encoding="utf-8"):
            return page.parent.relative_to(out).as_posix() + "/"
    raise AssertionError("the code post was not built")


def _open(browser, url: str, tmp_path: Path, shot: str = "", width: int = DESKTOP, **context):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, **context)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    if page.locator("#MathJax-script").count():  # pages without a formula load no MathJax
        page.wait_for_function(WAIT_FOR_MATHJAX, timeout=60000)
        page.evaluate("() => MathJax.startup.promise")
    if shot:
        page.screenshot(path=str(tmp_path / f"{shot}.png"))
    page.kxsj_errors = errors
    return ctx, page


BRIGHTNESS = """(sel) => {
  const el = document.querySelector(sel);
  let c = getComputedStyle(el).backgroundColor;
  for (let e = el; c === 'rgba(0, 0, 0, 0)' && e; e = e.parentElement) c = getComputedStyle(e).backgroundColor;
  const [r, g, b] = c.match(/[\\d.]+/g).map(Number);
  return (r + g + b) / 3;
}"""

TEXT_BRIGHTNESS = """(sel) => {
  const [r, g, b] = getComputedStyle(document.querySelector(sel)).color.match(/[\\d.]+/g).map(Number);
  return (r + g + b) / 3;
}"""


def _colours(page) -> dict:
    return {
        "page": page.evaluate(BRIGHTNESS, "body"),
        "text": page.evaluate(TEXT_BRIGHTNESS, ".post-body p"),
        "code": page.evaluate(BRIGHTNESS, ".highlight pre"),
        "keyword": page.evaluate("() => getComputedStyle(document.querySelector('.highlight .k')).color"),
        "math": page.evaluate(TEXT_BRIGHTNESS, "mjx-container"),
        "bibtex": page.evaluate(BRIGHTNESS, "pre.bibtex"),
        "table": page.evaluate("() => getComputedStyle(document.querySelector('.post-body td')).borderTopColor"),
    }


def test_dark_theme_follows_the_system(browser, served, tmp_path):
    base, out = served
    url = base + _code_url(out)
    seen = {}
    for scheme in ("light", "dark"):
        ctx, page = _open(browser, url, tmp_path, f"code-{scheme}", color_scheme=scheme)
        seen[scheme] = _colours(page)
        assert page.evaluate("() => document.documentElement.dataset.theme") == scheme
        assert page.kxsj_errors == []
        ctx.close()
    light, dark = seen["light"], seen["dark"]
    assert light["page"] > 200 and dark["page"] < 60
    assert light["text"] < 100 and dark["text"] > 150, "text must contrast with the page in both"
    assert dark["math"] > 150, "MathJax output must take the dark theme's text colour"
    assert light["code"] > 200 and dark["code"] < 60
    assert dark["bibtex"] < 60
    assert light["keyword"] != dark["keyword"], "the dark code palette did not apply"
    assert light["table"] != dark["table"]


def test_theme_switch_is_remembered_across_pages_without_a_flash(browser, served, tmp_path):
    base, out = served
    ctx, page = _open(browser, base + _code_url(out), tmp_path, color_scheme="light")
    toggle = page.locator("[data-theme-toggle]")
    assert toggle.is_visible() and toggle.inner_text().strip() == "跟随系统"
    toggle.click()
    assert page.evaluate("() => document.documentElement.dataset.theme") == "light"
    toggle.click()
    assert toggle.inner_text().strip() == "深色"
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    assert page.evaluate(BRIGHTNESS, "body") < 60
    # The next page is dark from its first paint: its theme is set before the CSS loads.
    page.evaluate("() => { window.__themeSeen = null; }")
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => {"
        " window.__firstTheme = document.documentElement.dataset.theme;"
        " window.__firstBackground = getComputedStyle(document.body).backgroundColor; })"
    )
    page.click(".sidebar-categories a")
    page.wait_for_load_state("domcontentloaded")
    assert page.evaluate("() => window.__firstTheme") == "dark"
    assert page.evaluate(BRIGHTNESS, "body") < 60
    page.screenshot(path=str(tmp_path / "list-dark.png"))
    toggle = page.locator("[data-theme-toggle]")
    toggle.click()  # 深色 -> 跟随系统: the light system wins again
    assert toggle.inner_text().strip() == "跟随系统"
    page.reload()
    assert page.evaluate("() => document.documentElement.dataset.theme") == "light"
    assert page.evaluate("() => localStorage.getItem('kxsj-theme')") is None
    ctx.close()


def test_long_post_shows_its_contents_and_heading_anchors(browser, served, tmp_path):
    base, out = served
    source = (REPO.parent / "shared" / "corpus" / "md" / f"{LONG_POST}.md").read_text(encoding="utf-8")
    headings = len(re.findall(r"^#{1,6} ", source, re.M))
    assert headings >= 3
    url = base + f"archives/{LONG_POST}/"

    ctx, page = _open(browser, url, tmp_path, "toc-desktop")
    toc = page.locator(".site-sidebar details.toc-auto")
    assert toc.is_visible() and toc.get_attribute("open") is not None, "a wide screen shows the contents beside the text"
    links = toc.locator(".toc a")
    assert links.count() == headings
    box = toc.bounding_box()
    assert box["x"] > page.locator(".post-body").bounding_box()["x"] + 300
    target = unquote(links.nth(3).get_attribute("href"))
    links.nth(3).click()
    assert unquote(page.evaluate("() => location.hash")) == target
    heading = page.locator(f"[id='{target[1:]}']")
    top = heading.bounding_box()["y"]
    assert 0 <= top < 200, "the heading must be scrolled into view"
    assert page.locator(".site-sidebar details.toc-auto").bounding_box()["y"] < 900, "the contents stay in view"
    page.wait_for_function(  # the entry of the section now read is marked
        "(t) => { const a = document.querySelectorAll('.site-sidebar .toc a[aria-current]');"
        " return a.length === 1 && decodeURIComponent(a[0].getAttribute('href')) === t; }",
        arg=target, timeout=5000,
    )
    anchor = heading.locator("a.headerlink")
    assert anchor.get_attribute("href") == target
    assert page.evaluate("(a) => getComputedStyle(a, '::before').content", anchor.element_handle()) == '"#"'
    heading.hover()
    assert float(anchor.evaluate("(a) => getComputedStyle(a).opacity")) == 1
    page.mouse.move(0, 0)
    assert page.evaluate("() => document.querySelectorAll('.post-body details.toc-auto').length") == 0
    ctx.close()

    ctx, page = _open(browser, url, tmp_path, "toc-phone", width=PHONE)
    toc = page.locator(".post-body details.toc-auto")
    assert toc.is_visible() and toc.get_attribute("open") is None, "a phone shows the contents folded above the text"
    assert not toc.locator(".toc a").first.is_visible()
    toc.locator("summary").click()
    assert toc.locator(".toc a").count() == headings and toc.locator(".toc a").first.is_visible()
    page.screenshot(path=str(tmp_path / "toc-phone-open.png"))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE
    ctx.close()


def test_copy_buttons_copy_code_and_bibtex(browser, served, tmp_path):
    base, out = served
    ctx, page = _open(browser, base + _code_url(out), tmp_path, permissions=["clipboard-read", "clipboard-write"])
    blocks = page.locator(".post-body .highlight")
    assert blocks.count() == 2 and page.locator(".post-body .copy-button").count() == 2
    plain = blocks.nth(0)
    plain.locator(".copy-button").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == 'x = 1 < 2  # 原样\nprint("你好")\n'
    assert plain.locator(".copy-button").inner_text() == "已复制"
    bib = page.locator(".citation .copy-button")
    bib.click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("@online{") and "代码块测试" in copied
    assert copied == page.locator("pre.bibtex code").inner_text()
    ctx.close()


def test_copy_without_the_clipboard_api_falls_back(browser, served, tmp_path):
    base, out = served
    ctx = browser.new_context()
    ctx.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});"
        "document.addEventListener('copy', (e) => { const t = e.target;"
        " window.__copied = t && 'value' in t ? t.value.substring(t.selectionStart, t.selectionEnd) : String(getSelection()); });"
    )
    page = ctx.new_page()
    page.goto(base + _code_url(out))
    button = page.locator(".post-body .highlight").nth(1).locator(".copy-button")
    button.click()
    copied = page.evaluate("() => window.__copied")
    label = button.inner_text()
    if label == "已复制":
        assert copied == "def f(x):\n    return x ** 2\n"
    else:  # copying refused: the code is left selected for Ctrl+C
        assert label == "请按 Ctrl+C"
        assert page.evaluate("() => String(getSelection())") == "def f(x):\n    return x ** 2\n"
    ctx.close()


def _listed(page, selector: str) -> list[str]:
    return page.evaluate(f"() => [...document.querySelectorAll({selector!r})].map(a => a.textContent.trim())")


def test_sidebar_on_post_and_list_pages_lists_what_the_site_has(browser, served, tmp_path):
    base, out = served
    ctx, page = _open(browser, base + "categories/", tmp_path)
    categories = _listed(page, ".terms a")
    page.goto(base + "tags/")
    tags = _listed(page, ".terms a")
    page.goto(base + "archives/")
    months = page.evaluate(
        "() => [...document.querySelectorAll('a[href*=\"/date/\"]')].map(a => a.getAttribute('href'))"
        ".filter(h => /\\/date\\/\\d{4}\\/\\d{2}\\/$/.test(h))"
    )
    page.goto(base)
    home = _listed(page, ".post-card .post-title a")
    ctx.close()
    for path, shot in ((f"archives/{LONG_POST}/", "sidebar-post"), ("", "sidebar-list")):
        for width in (DESKTOP, PHONE):
            ctx, page = _open(browser, base + path, tmp_path, f"{shot}-{width}", width=width)
            sidebar = page.locator(".site-sidebar")
            assert sidebar.count() == 1
            assert _listed(page, ".sidebar-categories a") == categories  # biggest first, as on /categories/
            assert sorted(_listed(page, ".tag-cloud a")) == sorted(tags[:60])
            assert _listed(page, ".sidebar-recent a") == home[:8]
            sidebar_months = page.evaluate(
                "() => [...document.querySelectorAll('.sidebar-months a')].map(a => a.getAttribute('href'))"
            )
            assert sorted(sidebar_months) == sorted(months)
            main, side = page.locator("main").bounding_box(), sidebar.bounding_box()
            if width == DESKTOP:
                assert side["x"] >= main["x"] + main["width"], "beside the text on a wide screen"
            else:
                assert side["y"] >= main["y"] + main["height"], "below the text on a phone"
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            ctx.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_page_is_wider_than_a_phone(browser, served, tmp_path, scheme):
    base, out = served
    for path in ("", f"archives/{LONG_POST}/", _code_url(out), "search/", "tags/"):
        ctx, page = _open(browser, base + path, tmp_path, f"phone-{scheme}-{path.strip('/').replace('/', '-') or 'home'}",
                          width=PHONE, color_scheme=scheme)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE, path
        assert page.kxsj_errors == [], path
        ctx.close()
