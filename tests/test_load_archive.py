"""The bundled archive and the corpus load into faithful posts (issue: the archive loads)."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from kxsj.enrich import enrich
from kxsj.load import load_posts
from kxsj.load.dumps import BYLINE, DATE_LINE, MORE_STUB, SIDEBAR

REPO = Path(__file__).resolve().parents[1]
POSTS = REPO / "posts"


def nf(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@pytest.fixture(scope="module")
def bundled():
    result = load_posts(POSTS, root=REPO)
    result.posts = enrich(result.posts, diags=result.diagnostics)
    return result


@pytest.fixture(scope="module")
def meta(shared_dir):
    return yaml.safe_load((shared_dir / "kexue-meta.yml").read_text(encoding="utf-8"))


def by_id(result, ident):
    [post] = [p for p in result.posts if p.original_id == ident]
    return post


def test_bundled_archive_has_the_36_posts_with_verified_facts(bundled, meta):
    assert len(bundled.posts) == 36
    assert not [d for d in bundled.diagnostics if d.level in ("error", "warning")]
    facts = {m["id"]: m for m in meta}
    assert {p.original_id for p in bundled.posts} == set(facts)
    for post in bundled.posts:
        m = facts[post.original_id]
        assert post.title == m["title"]
        assert post.date.iso() == str(m["date"])
        assert post.tags == m["tags"]
        assert post.categories == m["categories"]
        assert post.original_url == m["url"]
    dates = [p.date.sort_key() for p in bundled.posts]
    assert dates == sorted(dates, reverse=True), "newest first"


def test_lost_titles_get_the_true_title_and_the_line_stays_in_the_body(bundled, meta):
    lost = [m for m in meta if m.get("opens_with")]
    assert len(lost) == 3
    for m in lost:
        post = by_id(bundled, m["id"])
        assert post.title == m["title"]
        first_body_line = post.body.split("\n\n")[0]
        assert nf(md_plain(first_body_line)).startswith(nf(m["opens_with"]))


def test_duplicates_merge_and_keep_every_source(bundled):
    wgan = by_id(bundled, 8757)
    assert [s.path.rsplit("/", 1)[-1][:3] for s in wgan.source] == ["000", "002"]
    nine = by_id(bundled, 9257)
    assert sorted(s.path.rsplit("/", 1)[-1][:3] for s in nine.source) == ["000", "003"]
    assert nine.date.iso() == "2022-08-30"
    # the longest excerpt wins: the search copy keeps the 、 the listing lost
    assert "DALL·E 2、Imagen" in nine.body
    assert len({p.url for p in bundled.posts}) == 36


def test_series_are_recognised_with_chinese_numerals(bundled):
    series = {p.original_id: p.series for p in bundled.posts if p.series}
    assert (series[9379].name, series[9379].number) == ("生成扩散模型漫谈", 15)
    assert (series[8907].name, series[8907].number) == ("多任务学习漫谈", 3)
    assert (series[4233].name, series[4233].number) == ("SVD分解", 3)
    assert (series[1134].name, series[1134].number) == ("自然极值", 8)
    assert 8757 not in series and 8802 not in series


def test_search_format_gives_full_date_author_and_glued_first_paragraph(bundled):
    post = by_id(bundled, 8321)
    assert post.date.iso() == "2021-04-11"
    assert post.author == "苏剑林"
    assert post.body.startswith("一月份的时候")
    assert "最近评论" not in by_id(bundled, 9969).body
    assert "位读者" not in post.body


def test_listing_format_stub_marks_has_more_and_is_dropped(bundled):
    for post in bundled.posts:
        assert "点击阅读全文" not in post.body
        assert post.has_more


def test_code_shaped_lines_become_a_code_block(bundled):
    body = by_id(bundled, 7031).body
    assert "```python\ntokens = {}\n\nfor text in read_texts():\n    for token in tokenize(text):\n        tokens[token] = tokens.get(token, 0) + 1\n```" in body


def test_repeated_caption_line_is_kept_once_as_figure_caption(bundled):
    body = by_id(bundled, 6409).body
    assert body.count("FFHQ线性插值效果图") == 1
    assert '<figcaption markdown="span">FFHQ线性插值效果图</figcaption>' in body


def test_urls_become_links(bundled):
    body = by_id(bundled, 6409).body
    assert "<https://github.com/bojone/o-gan>" in body
    assert "<http://deeplearning.stanford.edu/wiki/index.php/UFLDL教程>" in by_id(bundled, 3331).body


def test_multiline_formula_stays_one_block(bundled):
    body = by_id(bundled, 9079).body
    block = [b for b in body.split("\n\n") if "\\begin{aligned}" in b]
    assert len(block) == 1
    assert block[0].startswith("\\begin{equation}\\begin{aligned}\n")
    assert block[0].endswith("\\end{aligned}\\end{equation}")
    assert "(\\text{SVD分解})" in block[0], "formula text is kept byte-for-byte"


# --- nothing lost --------------------------------------------------------------

def _owner_lines(path: Path):
    """(line number, text, header line number) for every content line of a dump.

    Written independently of the loader: a header is a ``D Mon`` line or a
    title line followed by a ``By … | 引用`` line; chrome is the stub, the
    byline's prefix and everything from ``最近评论`` on.
    """
    lines = path.read_text(encoding="utf-8").split("\n")
    header = None
    out = []
    for i, line in enumerate(lines):
        if SIDEBAR.match(line):
            break
        if DATE_LINE.match(line):
            header = i + 1
            continue
        if i + 1 < len(lines) and line.strip() and BYLINE.match(lines[i + 1]):
            header = i + 1
            out.append((i + 1, line.strip(), header))
            continue
        m = BYLINE.match(line)
        if m:
            if m.group("rest").strip():
                out.append((i + 1, m.group("rest").strip(), header))
            continue
        if not line.strip() or MORE_STUB.match(line):
            continue
        out.append((i + 1, line.strip(), header))
    return out


def md_plain(text: str) -> str:
    """Dump Markdown back to its text: backslash escapes and entities undone."""
    return html.unescape(re.sub(r"\\([\\`*_{}\[\]$#+\-.!<>|~])", r"\1", text))


def _squash(text: str) -> str:
    t = nf(md_plain(text))
    return "".join(ch for ch in t if not ch.isspace() and unicodedata.category(ch)[0] not in "PS")


def _assert_nothing_lost(posts_dir: Path, result) -> int:
    by_source = {}
    for post in result.posts:
        for src in post.source:
            by_source.setdefault((Path(src.path).name, src.line), []).append(post)
    checked = 0
    for dump in sorted(posts_dir.glob("*.txt")):
        for no, text, header in _owner_lines(dump):
            owners = by_source.get((dump.name, header), [])
            assert len(owners) == 1, f"{dump.name}:{no} belongs to {len(owners)} posts"
            post = owners[0]
            assert _squash(text) in _squash(post.title + post.body), f"{dump.name}:{no} lost: {text[:40]}"
            checked += 1
    return checked


def test_nothing_lost_from_the_seeds(shared_dir):
    seeds = shared_dir / "seeds"
    result = load_posts(seeds)
    assert _assert_nothing_lost(seeds, result) >= 200


def test_nothing_lost_from_the_corpus_dumps(shared_dir):
    dumps = shared_dir / "corpus" / "dumps"
    result = load_posts(dumps)
    assert len(result.posts) == 130
    assert _assert_nothing_lost(dumps, result) > 500


# --- the corpus through the real command ------------------------------------

def test_list_json_corpus_dumps_titles_and_yearless_dates(run_kxsj, shared_dir):
    proc = run_kxsj("list", "--json", "--posts", str(shared_dir / "corpus" / "dumps"))
    assert proc.returncode == 0, proc.stderr
    posts = json.loads(proc.stdout)
    assert len(posts) == 130
    index = json.loads((shared_dir / "corpus" / "index.json").read_text(encoding="utf-8"))
    truth = {}
    for item in index:
        truth.setdefault(nf(item["title"]).replace(" ", ""), []).append(item["date"][5:])
    for post in posts:
        key = nf(post["title"]).replace(" ", "")
        assert key in truth, post["title"]
        assert re.fullmatch(r"--\d\d-\d\d", post["date"])
        assert post["date"][2:] in truth[key]
        assert post["has_more"] is True
        assert post["source"] and re.search(r"page-\d{3}\.txt:\d+$", post["source"][0])
        for key_name in ("slug", "url", "tags", "categories", "series", "original_url", "body"):
            assert key_name in post


def test_check_warns_once_per_missing_year(run_kxsj, shared_dir):
    proc = run_kxsj("check", "--posts", str(shared_dir / "corpus" / "dumps"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    year_lines = [ln for ln in proc.stdout.splitlines() if "year unknown" in ln]
    assert len(year_lines) == 130
    assert len({ln.split(": warning")[0] for ln in year_lines}) == 130
    # Besides the years: only the TeX a few dumps hold outside formulas.
    warnings = [ln for ln in proc.stdout.splitlines() if ": warning: " in ln and "TeX outside a formula" not in ln]
    assert warnings == year_lines
    # ready to paste: a metadata line with the month and day filled in
    assert re.search(r'- \{title: ".+", month_day: "\d{1,2} [A-Z][a-z]{2}", date: YYYY-\d\d-\d\d\}$', year_lines[0])


def test_list_json_corpus_markdown_keeps_front_matter(run_kxsj, shared_dir):
    proc = run_kxsj("list", "--json", "--posts", str(shared_dir / "corpus" / "md"))
    assert proc.returncode == 0, proc.stderr
    posts = json.loads(proc.stdout)
    assert len(posts) == 130
    index = {item["id"]: item for item in json.loads((shared_dir / "corpus" / "index.json").read_text(encoding="utf-8"))}
    for post in posts:
        ident = int(post["url"].strip("/").split("/")[-1])
        item = index[ident]
        assert post["title"] == item["title"]
        assert post["date"] == item["date"]
        assert post["tags"] == item["tags"]
        assert post["categories"] == [item["category"]]
        assert post["original_url"] == f"https://kexue.fm/archives/{ident}"
        assert "<!--more-->" not in post["body"]


def test_bundled_list_and_check_through_the_command(run_kxsj):
    proc = run_kxsj("list", "--root", str(REPO))
    assert proc.returncode == 0, proc.stderr
    assert "2021-11-15" in proc.stdout and "WGAN新方案：通过梯度归一化来实现L约束" in proc.stdout
    assert len([ln for ln in proc.stdout.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", ln)]) == 36
    check = run_kxsj("check", "--root", str(REPO), "--strict")
    assert check.returncode == 0, check.stdout + check.stderr
