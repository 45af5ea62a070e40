"""A post's own files beside it (issue 20): published next to its page, linked
from the page and from its excerpt, under a sub-path too; missing ones warned
with ``path:line``; images lazy and sized; site paths under the base URL."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest

from kxsj.build import BuildOptions, build_site
from kxsj.imagesize import image_size, read_size

BASE = "https://example.github.io/kxsj/"


def png(width: int, height: int) -> bytes:
    """A real PNG of ``width`` x ``height`` red pixels."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _post(folder: Path, name: str, body: str, slug: str, date: str = "2024-01-02") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"---\ntitle: {slug}的标题\ndate: {date}\nslug: {slug}\n---\n{body}", encoding="utf-8")
    return path


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    _post(site / "posts" / "bundle", "index.md", "看图 ![示意图](fig.png) 与 [数据](data/table.csv)\n\n<!--more-->\n\n正文。\n", "bundle")
    (site / "posts" / "bundle" / "fig.png").write_bytes(png(30, 20))
    (site / "posts" / "bundle" / "data").mkdir()
    (site / "posts" / "bundle" / "data" / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (site / "posts" / "bundle" / ".secret").write_text("no", encoding="utf-8")
    _post(site / "posts", "side.md", "![一](side/one.png) ![二](two.png)\n\n![远](https://example.org/r.png)\n", "side-slug", "2024-01-03")
    (site / "posts" / "side").mkdir()
    (site / "posts" / "side" / "one.png").write_bytes(png(7, 5))
    (site / "posts" / "side" / "two.png").write_bytes(png(9, 4))
    return site


def _build(site: Path, base_url=None, strict=False):
    return build_site(BuildOptions(root=site, posts_dir=site / "posts", out_dir=site / "public", base_url=base_url, strict=strict))


def _images(html: str) -> list[dict[str, str]]:
    from html.parser import HTMLParser

    found: list[dict[str, str]] = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                found.append(dict(attrs))

    P().feed(html)
    return found


def test_bundle_and_sibling_folder_files_are_published_beside_the_page(tmp_path):
    site = _site(tmp_path)
    report = _build(site, strict=True)
    assert report.ok, [str(d) for d in report.diagnostics]
    out = site / "public"
    assert (out / "posts/bundle/fig.png").read_bytes() == (site / "posts/bundle/fig.png").read_bytes()
    assert (out / "posts/bundle/data/table.csv").is_file()
    assert not (out / "posts/bundle/.secret").exists()
    assert (out / "posts/side-slug/one.png").is_file() and (out / "posts/side-slug/two.png").is_file()
    page = (out / "posts/bundle/index.html").read_text(encoding="utf-8")
    assert 'href="/posts/bundle/data/table.csv"' in page
    side = {img["alt"]: img for img in _images((out / "posts/side-slug/index.html").read_text(encoding="utf-8"))}
    # Written as an editor sees it (side/one.png from side.md) or as the page does (two.png): both the file beside the page.
    assert side["一"]["src"] == "/posts/side-slug/one.png" and (side["一"]["width"], side["一"]["height"]) == ("7", "5")
    assert side["二"]["src"] == "/posts/side-slug/two.png" and (side["二"]["width"], side["二"]["height"]) == ("9", "4")
    remote = side["远"]
    assert remote["src"] == "https://example.org/r.png" and "width" not in remote and remote["loading"] == "lazy"


def test_image_on_page_and_in_excerpt_under_a_base_url(tmp_path):
    site = _site(tmp_path)
    assert _build(site, base_url=BASE, strict=True).ok
    out = site / "public"
    for listing in ("index.html", "posts/bundle/index.html"):
        imgs = [i for i in _images((out / listing).read_text(encoding="utf-8")) if i.get("alt") == "示意图"]
        assert imgs, listing
        img = imgs[0]
        assert img["src"] == "/kxsj/posts/bundle/fig.png", (listing, img)
        assert (img["width"], img["height"], img["loading"], img["decoding"]) == ("30", "20", "lazy", "async")


def test_served_under_the_subpath_no_image_is_broken(tmp_path, serve_dir):
    from tests.test_publish_subpath import crawl

    site = _site(tmp_path)
    assert _build(site, base_url=BASE, strict=True).ok
    local = serve_dir(site / "public", "/kxsj/")
    done = crawl(local, BASE)
    assert not done.broken, done.broken
    fig = local + "posts/bundle/fig.png"
    assert fig in done.images[local] and fig in done.images[local + "posts/bundle/"]
    assert fig in done.seen


def test_missing_local_file_warns_with_path_and_line(tmp_path, run_kxsj):
    site = tmp_path / "site"
    md = _post(site / "posts", "p.md", "第一行\n\n![缺图](nothere.png)\n\n[缺件](/static/nope.pdf) [站内](/archives/1/)\n", "p")
    (site / "posts" / "lonely.png").write_bytes(png(2, 2))
    _post(site / "posts", "q.md", "![旁边](lonely.png)\n", "q")
    for command in (["build", "--strict"], ["check", "--strict"]):
        proc = run_kxsj(*command, "--root", str(site), cwd=site)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert re.search(r"posts/p\.md:8: warning: image `nothere\.png`", proc.stdout + proc.stderr), proc.stderr
        assert re.search(r"posts/p\.md:10: warning: link `/static/nope\.pdf`", proc.stdout + proc.stderr), proc.stderr
        assert re.search(r"posts/q\.md:6: warning: image `lonely\.png`: .*not published", proc.stdout + proc.stderr), proc.stderr
        assert "/archives/1/" not in proc.stdout + proc.stderr
    assert md.is_file()


def test_code_is_not_checked_for_links(tmp_path):
    site = tmp_path / "site"
    _post(site / "posts", "p.md", "```\n![x](nothere.png)\n```\n\n`![y](no.png)`\n", "p")
    report = _build(site, strict=True)
    assert report.ok, [str(d) for d in report.diagnostics]


def test_next_build_follows_changed_added_and_removed_files(tmp_path):
    site = _site(tmp_path)
    out = site / "public"
    assert _build(site).ok
    (site / "posts/bundle/fig.png").write_bytes(png(40, 10))
    (site / "posts/bundle/new.txt.bin").write_bytes(b"\x00new")
    (site / "posts/bundle/data/table.csv").unlink()
    assert _build(site).ok
    assert (out / "posts/bundle/fig.png").read_bytes() == png(40, 10)
    assert (out / "posts/bundle/new.txt.bin").read_bytes() == b"\x00new"
    assert not (out / "posts/bundle/data/table.csv").exists()
    img = [i for i in _images((out / "posts/bundle/index.html").read_text(encoding="utf-8")) if i.get("alt") == "示意图"][0]
    assert (img["width"], img["height"]) == ("40", "10")
    # A file planted in the output with the source's name is replaced by the source's bytes.
    (out / "posts/bundle/fig.png").write_bytes(b"planted")
    (site / "posts/bundle/index.md").write_text((site / "posts/bundle/index.md").read_text(encoding="utf-8") + "\n再一段。\n", encoding="utf-8")
    report = _build(site)
    assert report.written
    assert [d.message for d in report.diagnostics if d.level == "warning"] == ["link `data/table.csv`: no file " + d.message.rsplit(" ", 1)[1] for d in report.diagnostics if d.level == "warning"]
    assert len([d for d in report.diagnostics if d.level == "warning"]) == 1
    assert (out / "posts/bundle/fig.png").read_bytes() == png(40, 10)


def test_site_paths_in_bodies_get_the_base_path(tmp_path):
    site = tmp_path / "site"
    _post(site / "posts", "p.md", "![标](/static/img/logo.png) [文](/archives/1/) [外](https://a.example/x) [内](#sec)\n", "p")
    (site / "static/img").mkdir(parents=True)
    (site / "static/img/logo.png").write_bytes(png(12, 8))
    assert _build(site, base_url="https://alice.github.io/blog/", strict=True).ok
    page = (site / "public/posts/p/index.html").read_text(encoding="utf-8")
    assert 'src="/blog/static/img/logo.png"' in page and 'width="12"' in page and 'height="8"' in page
    assert 'href="/blog/archives/1/"' in page
    assert 'href="https://a.example/x"' in page and 'href="#sec"' in page
    assert _build(site, strict=True).ok  # without a base URL: root-relative again
    assert 'src="/static/img/logo.png"' in (site / "public/posts/p/index.html").read_text(encoding="utf-8")


def test_image_in_browser_loads_under_the_subpath(tmp_path, serve_dir, page):
    site = _site(tmp_path)
    assert _build(site, base_url=BASE, strict=True).ok
    local = serve_dir(site / "public", "/kxsj/")
    for url in (local + "posts/bundle/", local):
        page.goto(url)
        img = page.locator('img[alt="示意图"]').first
        img.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete", arg=img.element_handle())
        assert img.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [30, 20]


# -- the header reader -------------------------------------------------------


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    exif = b"\xff\xe1" + struct.pack(">H", 2 + 300) + b"\xff\xc0" * 150  # a frame marker inside a segment is not one
    sof = b"\xff\xc2" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + exif + b"\xff\xff" + sof + b"\xff\xd9"


def _webp(kind: bytes, payload: bytes) -> bytes:
    chunk = kind + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def test_header_reader_sizes(tmp_path):
    import io

    cases = {
        "a.png": (png(123, 45), (123, 45)),
        "b.gif": (b"GIF89a" + struct.pack("<HH", 640, 480) + b"\x00" * 30, (640, 480)),
        "c.jpg": (_jpeg(1024, 768), (1024, 768)),
        "d.webp": (_webp(b"VP8X", b"\x00" * 4 + (999).to_bytes(3, "little") + (499).to_bytes(3, "little")), (1000, 500)),
        "e.webp": (_webp(b"VP8 ", b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", 300, 200) + b"\x00" * 8), (300, 200)),
        "f.webp": (_webp(b"VP8L", b"\x2f" + ((63) | (31 << 14)).to_bytes(4, "little") + b"\x00" * 8), (64, 32)),
    }
    for name, (data, size) in cases.items():
        (tmp_path / name).write_bytes(data)
        assert image_size(tmp_path / name) == size, name
        assert read_size(io.BytesIO(data)) == size, name


def test_header_reader_refuses_what_it_cannot_read(tmp_path):
    for name, data in {
        "empty.png": b"",
        "text.png": b"hello, not an image",
        "cut.png": png(5, 5)[:20],
        "cut.jpg": _jpeg(10, 10)[:40],
        "svg.svg": b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
        "zero.gif": b"GIF89a\x00\x00\x00\x00" + b"\x00" * 20,
        "endless.jpg": b"\xff\xd8" + b"\xff\xe1\xff\xff" + b"\x00" * 70000,
    }.items():
        (tmp_path / name).write_bytes(data)
        assert image_size(tmp_path / name) is None, name
    assert image_size(tmp_path / "absent.png") is None


def test_an_index_md_at_the_top_of_posts_is_not_a_bundle_of_them_all(tmp_path):
    site = tmp_path / "site"
    _post(site / "posts", "index.md", "首页一样的文章\n", "top")
    (site / "posts" / "notes.pdf").write_bytes(b"%PDF-1.4 private")
    report = _build(site, strict=True)
    assert report.ok, [str(d) for d in report.diagnostics]
    assert not list((site / "public").rglob("notes.pdf"))


def test_link_check_never_hangs_on_hostile_lines():
    """Brackets, backticks and half links by the hundred thousand: one pass each (a quadratic scan takes hours)."""
    import time

    from kxsj.load.assets import references

    for text in ("[" * 400_000, "`" * 400_000, "` ``" * 100_000, "](" * 200_000, "![a](" * 80_000, "[\\]" * 130_000):
        start = time.monotonic()
        found = list(references(text))
        assert time.monotonic() - start < 20, text[:10]
        assert all(isinstance(url, str) for _, _, url in found)
    assert [(line, image, url) for line, image, url in references("x\n![a](b.png) `[c](d.png)` [e](f.pdf)")] == [
        (1, True, "b.png"), (1, False, "f.pdf")]


def test_preview_serves_a_posts_files_and_follows_their_changes(tmp_path):
    from kxsj.serve.preview import PreviewSite

    site = _site(tmp_path)
    preview = PreviewSite(site, site / "posts")
    preview.build()

    def fig():
        return [i for i in _images(preview.pages["/posts/bundle/"].decode("utf-8")) if i.get("alt") == "示意图"][0]

    assert preview.pages["/posts/bundle/fig.png"] == png(30, 20)
    assert (fig()["src"], fig()["width"]) == ("/posts/bundle/fig.png", "30")
    (site / "posts/bundle/fig.png").write_bytes(png(50, 20))
    preview.build([site / "posts/bundle/fig.png"])
    assert preview.pages["/posts/bundle/fig.png"] == png(50, 20) and fig()["width"] == "50"
    md = site / "posts/bundle/index.md"
    md.write_text(md.read_text(encoding="utf-8").replace("正文。", "正文。![缺](gone.png)"), encoding="utf-8")
    result = preview.build([md])  # only the text changed: the quick path
    assert fig()["width"] == "50" and "/posts/bundle/fig.png" in preview.pages
    assert any("gone.png" in d.message for d in result.diagnostics)
    md.write_text(md.read_text(encoding="utf-8").replace("![缺](gone.png)", ""), encoding="utf-8")
    result = preview.build([md])
    assert not any("gone.png" in d.message for d in result.diagnostics)


def test_links_to_pages_and_to_post_files(tmp_path):
    site = tmp_path / "site"
    _post(site / "posts", "p.md", "[上一篇](../q/) 与 [源文件](q.md)\n", "p")
    _post(site / "posts", "q.md", "正文\n", "q")
    report = _build(site)
    warnings = [str(d) for d in report.diagnostics if d.level == "warning"]
    assert len(warnings) == 1 and "posts/p.md:6: warning: link `q.md` names a post's file" in warnings[0], warnings


def test_thousands_of_missing_files_are_counted_not_listed(tmp_path):
    site = tmp_path / "site"
    _post(site / "posts", "p.md", "".join(f"![{i}](missing-{i}.png)\n" for i in range(3000)), "p")
    report = _build(site)
    warnings = [d for d in report.diagnostics if d.level == "warning" and d.path.endswith("p.md")]
    assert len(warnings) == 21, [str(d) for d in report.diagnostics if d not in warnings]
    assert warnings[0].line == 6 and warnings[19].line == 25
    assert "2,980 more" in warnings[-1].message


def test_texts_without_code_or_links_are_answered_without_the_line_walk():
    """``_masked`` returns a text with no backtick and no ``~~~`` as it is, and
    ``references`` finds nothing in a text with no ``](`` and no ``]:``, without
    walking it: each shortcut gives what the walk gives."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kxsj.load.assets import _mask_lines, _masked, _walk_references, references

    pieces = st.sampled_from(["[", "]", "(", ")", ":", "!", " ", "a", "\n", "~", "~~", "~~~", "`", "```", "x](y", "[r]: u",
                              "中文", "    "])

    @settings(max_examples=400, deadline=None)
    @given(st.lists(pieces, max_size=30).map("".join))
    def check(text):
        assert _masked(text) == _mask_lines(text)
        assert list(references(text)) == list(_walk_references(text))

    check()


def test_an_edit_build_finds_the_links_of_the_edited_text_only_and_warns_as_a_fresh_build(tmp_path, monkeypatch):
    """The links each text holds are kept (store namespace ``refs``): after one edit only that text is scanned."""
    from conftest import count_calls

    import kxsj.load.assets as assets

    site = _site(tmp_path)
    _post(site / "posts", "p.md", "第一行\n\n![缺图](nothere.png)\n\n[缺件](/static/nope.pdf)\n", "p")
    for n in range(5):
        _post(site / "posts", f"plain{n}.md", f"第{n}篇，[外链](https://example.org/{n}) 与 [站内](/archives/{n}/)。\n", f"plain{n}")
    assert _build(site).ok
    side = site / "posts/side.md"
    side.write_text(side.read_text(encoding="utf-8").replace("![二](two.png)", "![二](two.png) ![三](three.png)"), encoding="utf-8")
    calls = count_calls(monkeypatch, assets, "_walk_references")
    report = _build(site)
    assert calls[0] == 1  # the edited body; every other text's links came from the store
    fresh = build_site(BuildOptions(root=site, posts_dir=site / "posts", out_dir=tmp_path / "fresh", cache=False))
    assert calls[0] > 1
    warnings = sorted(str(d) for d in report.diagnostics if d.level == "warning")
    assert warnings == sorted(str(d) for d in fresh.diagnostics if d.level == "warning")
    assert any("three.png" in w for w in warnings) and any("nothere.png" in w for w in warnings)
    for page in ("posts/bundle/index.html", "posts/side-slug/index.html", "posts/p/index.html"):
        assert (site / "public" / page).read_bytes() == (tmp_path / "fresh" / page).read_bytes()


OWN_FILES_CASE = r"""
import hashlib, json, os, sys
from pathlib import Path
from kxsj.build import BuildOptions, build_site
from kxsj.incremental import workers
site, log = Path(sys.argv[1]), sys.argv[2]
made, early = [], []
real_render, real_start = workers.default_render, workers.start_early_workers
def default_render(context):  # the pool's workers are forked from here: they run this too, in their own memory
    made.append(os.getpid())
    render = real_render(context)
    def logged(text):  # every process appends each text it renders: whether it had a context line, how it goes on, its hash
        context, _, rest = text.partition("\n") if text.startswith("<!--kxsj:page ") else ("", "", text)
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps([bool(context), rest[:12], hashlib.sha256(text.encode()).hexdigest()]) + "\n")
        return render(text)
    return logged
def start(context):
    real_start(context)
    early.append(workers._early is not None)
workers.default_render, workers.start_early_workers = default_render, start
ok = build_site(BuildOptions(site, site / "posts", site / "public")).ok
print(json.dumps({"ok": ok, "early": early, "here": made.count(os.getpid())}))
"""


def test_posts_with_their_own_files_render_with_the_others_not_one_by_one_after(tmp_path):
    """A build from nothing renders the texts that get their files' context line in its workers, as it does the rest,
    and renders each text once: not also as it was before its post's files were attached."""
    import json
    import subprocess
    import sys

    from kxsj.incremental.session import EARLY_WORKERS_FILES
    from kxsj.incremental.workers import cores

    site = tmp_path / "site"
    for i in range(EARLY_WORKERS_FILES + 8):
        own = i % 2 == 0
        body = f"第{i}篇，$x_{i}$。\n\n" + (f"![图](fig.png)\n\n<!--more-->\n\n后文{i}。\n" if own else f"后文{i}。\n")
        _post(site / "posts" / f"p{i}" if own else site / "posts", "index.md" if own else f"p{i}.md", body, f"p{i}", f"2024-01-{i % 28 + 1:02d}")
        if own:
            (site / "posts" / f"p{i}" / "fig.png").write_bytes(png(4 + i, 3))
    # A folder of its own, but no link to its files: no context line; its texts are held, then rendered as they are.
    _post(site / "posts" / "q", "index.md", "第q篇，[外链](https://example.org/q)。\n", "q")
    (site / "posts" / "q" / "notes.csv").write_text("a,b\n", encoding="utf-8")
    log = tmp_path / "rendered.jsonl"
    done = subprocess.run([sys.executable, "-c", OWN_FILES_CASE, str(site), str(log)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"]
    if cores() < 2 or result["early"] != [True]:
        pytest.skip("one core: no workers")
    assert result["here"] == 0  # not one body rendered in the build's own process
    rendered = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len({digest for _, _, digest in rendered}) == len(rendered)  # no text rendered twice
    for i in range(EARLY_WORKERS_FILES + 8):
        texts = [context for context, start, _ in rendered if start.startswith(f"第{i}篇，")]
        assert texts and all(texts) if i % 2 == 0 else texts and not any(texts), (i, texts)
    q = [context for context, start, _ in rendered if start.startswith("第q篇")]
    assert q and not any(q)
    fresh = tmp_path / "fresh"
    assert build_site(BuildOptions(site, site / "posts", fresh, cache=False)).ok

    def pages(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file() and not p.parts[len(folder.parts)].startswith(".kxsj")}

    built = pages(site / "public")
    assert built == pages(fresh)
    assert {"src": "/posts/p0/fig.png", "width": "4", "height": "3"}.items() <= _images(built["posts/p0/index.html"].decode())[0].items()


def test_the_links_memo_looks_up_only_texts_that_can_hold_a_link(monkeypatch):
    """An empty excerpt or a text with no ``](`` or ``]:`` is answered at once, not from the store (a lookup costs more)."""
    from kxsj.incremental.bodies import reference_finder
    from kxsj.incremental.store import Namespace, Store
    from kxsj.load.assets import references

    asked: list[str] = []
    real_get = Namespace.get
    monkeypatch.setattr(Namespace, "get", lambda self, text: asked.append(text) or real_get(self, text))
    found = reference_finder(Store(None))
    assert found("") == [] and found("没有链接的正文，$x_1$ 与 [方括号] 之外。\n") == []
    assert asked == []
    linked = "看 [图](fig.png)。\n\n[ref]: https://example.org/\n"
    assert found(linked) == list(references(linked)) == found(linked)
    assert asked == [linked, linked]
