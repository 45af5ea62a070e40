"""``kxsj serve`` in headless Chromium: a saved post reloads itself, typeset; errors show over it.

The real command serves a copy of the bundled site plus one Markdown post;
the test edits files on disk and watches the open tab, as a writer would.
"""

from __future__ import annotations

import json

from test_serve_live import start_server  # noqa: F401  (fixture)

POST = """---
title: "实时预览的测试文章"
date: 2024-07-01
tags: [预览]
slug: live-post
---
第一版正文，带一个公式 $E=mc^2$。

$$\\int_0^1 x\\,dx = \\frac{1}{2}$$
"""

SECOND = POST.replace("第一版正文", "第二版正文").replace("$E=mc^2$", "$a^2+b^2=c^2$")
BROKEN = SECOND.replace('title: "实时预览的测试文章"', 'title: "引号没有闭合\ntags: [预览')
THIRD = SECOND.replace("第二版正文", "第三版正文")


def wait_text(page, text: str, timeout: float = 15_000) -> None:
    page.wait_for_function("t => document.body && document.body.innerText.includes(t)", arg=text, timeout=timeout)


def assert_typeset(page) -> None:
    page.wait_for_selector("mjx-container", timeout=20_000)
    assert page.locator("mjx-merror").count() == 0


def test_saved_post_reloads_typeset_and_errors_show_as_overlay(tmp_site, start_server, page, run_kxsj):  # noqa: F811
    post = tmp_site / "posts" / "live.md"
    post.write_text(POST, encoding="utf-8")
    server = start_server(tmp_site)
    url = server.url + "posts/live-post/"

    page.goto(url)
    wait_text(page, "第一版正文")
    assert_typeset(page)
    page.evaluate("window.__kxsjBeforeSave = true")

    post.write_text(SECOND, encoding="utf-8")
    wait_text(page, "第二版正文")
    assert page.evaluate("window.__kxsjBeforeSave === undefined")  # a real reload, not a patch
    assert_typeset(page)
    formula = page.locator(".arithmatex mjx-container").first  # the new formula, typeset (math: build: by kxsj serve)
    assert formula.get_attribute("data-tex") == "a^2+b^2=c^2"
    assert formula.locator("mjx-c").count() >= 7

    post.write_text(BROKEN, encoding="utf-8")
    overlay = page.wait_for_selector("#kxsj-overlay", timeout=15_000)
    text = overlay.text_content()
    assert "live.md:" in text and "error" in text
    answer = page.request.get(url)
    assert answer.status == 200 and "第二版正文" in answer.text()  # last good page still served
    assert page.request.get(server.url).status == 200

    post.write_text(THIRD, encoding="utf-8")
    wait_text(page, "第三版正文")
    page.wait_for_selector("#kxsj-overlay", state="detached", timeout=15_000)
    assert_typeset(page)

    # A listing dump, edited once: its post reloads the same way.
    listed = json.loads(run_kxsj("list", "--json", "--root", tmp_site, cwd=tmp_site).stdout)
    ogan = next(p for p in listed if p["title"].startswith("O-GAN"))
    dump = tmp_site / ogan["source"][0].rsplit(":", 1)[0]
    page.goto(server.url.rstrip("/") + ogan["url"])
    wait_text(page, "笔者最近的一个工作")
    dump.write_text(dump.read_text(encoding="utf-8").replace("笔者最近的一个工作", "笔者最近的一个新工作", 1), encoding="utf-8")
    wait_text(page, "笔者最近的一个新工作")
    assert [e for e in page.kxsj_errors if "_kxsj/events" not in e] == []
