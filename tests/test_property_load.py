"""Property tests: no dump text makes the loader raise or lose a line (issue 8).

The generator writes dumps in the grammar of the scrapes (``15 Nov`` date
lines, titles, ``By 苏剑林 | 2021-04-11 | …位读者 | 引用…`` bylines, paragraphs,
``点击阅读全文...``, ``最近评论``, ``$…$``, ``$$…$$`` and ``\\begin{equation}``
over several lines) mixed with noise (CJK, ``$``, backslashes, Markdown and
HTML characters, date-like lines, blank runs, ``\\r\\n``, a BOM, NUL bytes).

"Content line" is defined here, not by the loader: every line the generator
wrote as text carries a unique marker ``Q<n>Z`` (noise never holds ``Q`` or
``Z``).  A content line must land in exactly one post (title or body) and,
rendered, on exactly one page.  The only lines allowed to go missing are those
the loader says it dropped: the sidebar after ``最近评论`` (an info), and a post
whose date does not exist (an error at its header line).
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kxsj.enrich import enrich
from kxsj.load import load_posts
from kxsj.load.dumps import parse_dump
from kxsj.render.markdown import BodyRenderer

MARKER = re.compile(r"Q(\d+)Z")
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS_IN = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

NOISE_CHARS = st.sampled_from(
    list("中文字的是了在有$\\{}*_#<>&`[]()!|-+=.,;:0123456789 \t\u3000xyab")
    + ["$$", "\\$", "\\\\", "http://a.cn/x_y", "\ufeff", "。", "，", "：", "<script>", "&amp;", "\\begin{equation}", "\\end{equation}"]
)
WORDS = st.sampled_from(["深度学习", "苏剑林", "概率", "模型", "GAN", "的", "Transformer", "矩阵", "梯度", "一个"])
TEX = st.sampled_from(["x", "y_{k}", "\\alpha", "\\frac{1}{2}", "e^{i\\pi}", "+", "=", "\\sum_{i=1}^n", "a<b", "c&d", "*", "_"])


@dataclass
class Doc:
    """A generated dump: its lines, and which of them the loader may drop."""

    lines: list[str] = field(default_factory=list)
    content: dict[int, int] = field(default_factory=dict)  # marker -> line number (1-based)
    excused: dict[int, tuple[str, int]] = field(default_factory=dict)  # marker -> (why, header line)
    mode: tuple[str, int] | None = None  # ("bad date" | "sidebar", line) while lines may be dropped
    next_marker: int = 0

    def add(self, text: str) -> None:
        self.lines.append(text)

    def marked(self, text: str, at: int | None = None) -> str:
        """``text`` with a fresh marker inserted at ``at`` (end by default), recorded as content."""
        n = self.next_marker
        self.next_marker += 1
        at = len(text) if at is None else min(at, len(text))
        line_no = len(self.lines) + 1
        if self.mode is None:
            self.content[n] = line_no
        else:
            self.excused[n] = self.mode
        return text[:at] + f"Q{n}Z" + text[at:]

    def header(self, bad: bool, line_no: int) -> None:
        if self.mode and self.mode[0] == "sidebar":
            return
        self.mode = ("bad date", line_no) if bad else None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@st.composite
def dumps(draw, max_items: int = 14) -> Doc:
    doc = Doc()
    for _ in range(draw(st.integers(0, max_items))):
        for _ in range(draw(st.integers(0, 2))):
            doc.add(draw(st.sampled_from(["", "", " ", "\u3000"])))
        kind = draw(st.sampled_from(
            ["date", "date", "bad date", "search", "title", "para", "para", "inline", "display", "env",
             "stub", "noise", "noise", "datelike", "sidebar"]
        ))
        if kind in ("date", "bad date"):
            month = draw(st.integers(1, 12))
            if kind == "date":
                day = draw(st.integers(1, DAYS_IN[month - 1]))
            else:
                day = draw(st.sampled_from([0, 30, 31, 32, 99])) if month == 2 else draw(st.sampled_from([0, DAYS_IN[month - 1] + 1, 99]))
            pad = draw(st.sampled_from(["", " ", "\u3000", "\t"]))
            doc.header(kind == "bad date", len(doc.lines) + 1)
            doc.add(f"{pad}{day} {MONTHS[month - 1]}{pad}")
        elif kind == "search":
            bad = draw(st.booleans()) and draw(st.booleans())
            date = "2021-02-30" if bad else f"20{draw(st.integers(10, 24))}-{draw(st.integers(1, 12))}-{draw(st.integers(1, 28))}"
            doc.header(bad, len(doc.lines) + 1)
            doc.add(doc.marked("".join(draw(st.lists(WORDS, min_size=1, max_size=4)))))
            rest = doc.marked("".join(draw(st.lists(WORDS, max_size=5)))) if draw(st.booleans()) else ""
            doc.add(f"By 苏剑林 | {date} | {draw(st.integers(0, 99999))}位读者 | 引用{rest}")
        elif kind == "title":
            doc.add(doc.marked("".join(draw(st.lists(WORDS, min_size=1, max_size=5)))))
        elif kind == "para":
            words = draw(st.lists(WORDS, min_size=1, max_size=12))
            doc.add(doc.marked("，".join(words) + "。", draw(st.integers(0, 40))))
        elif kind == "inline":
            tex = " ".join(draw(st.lists(TEX, min_size=1, max_size=5)))
            before = f"设${tex} " if draw(st.booleans()) else "设"
            after = "$为" if before != "设" else f"${tex}$为"
            doc.add(doc.marked(before + after + draw(WORDS), len(before)))
        elif kind in ("display", "env"):
            opener, closer = ("$$", "$$") if kind == "display" else ("\\begin{equation}", "\\end{equation}")
            doc.add(opener)
            for _ in range(draw(st.integers(1, 4))):
                if draw(st.booleans()):
                    doc.add("")
                doc.add(doc.marked(" ".join(draw(st.lists(TEX, min_size=1, max_size=6))) + " "))
            doc.add(closer)
        elif kind == "stub":
            doc.add(draw(st.sampled_from(["点击阅读全文...", "点击阅读全文…", " 点击阅读全文 ", "点击阅读全文……"])))
        elif kind == "noise":
            chars = draw(st.lists(NOISE_CHARS, max_size=30))
            doc.add(doc.marked("".join(chars), draw(st.integers(0, 30))))
        elif kind == "datelike":
            shape = draw(st.sampled_from(["15 Nov 2021", "Nov 15", "15 November", "15  Nov.", "2021-11-15", "1 Jan 点击阅读全文"]))
            doc.add(doc.marked(shape + " "))
        elif kind == "sidebar":
            if doc.mode is None or doc.mode[0] != "sidebar":
                doc.mode = ("sidebar", len(doc.lines) + 1)
            doc.add(draw(st.sampled_from(["最近评论", " 最近评论\u3000"])))
    return doc


def marker_counts(texts) -> collections.Counter:
    return collections.Counter(int(m) for t in texts for m in MARKER.findall(t))


def assert_every_content_line_once(doc: Doc, counts: collections.Counter, diags) -> None:
    where = {(d.line, d.level) for d in diags}
    for n, line in doc.content.items():
        assert counts[n] == 1, f"content line {line} (Q{n}Z) landed {counts[n]} times:\n{doc.text}"
    for n, (why, header) in doc.excused.items():
        assert counts[n] <= 1, f"line with Q{n}Z duplicated:\n{doc.text}"
        if counts[n] == 0 and why == "bad date":
            assert (header, "error") in where, f"post at line {header} dropped without an error:\n{doc.text}"


EXAMPLES = collections.Counter()


@settings(max_examples=400, deadline=None)
@given(doc=dumps())
def test_parse_dump_never_raises_and_keeps_every_content_line(doc):
    EXAMPLES["parse_dump"] += 1
    diags = []
    entries = parse_dump(doc.text, "posts/x.txt", diags)
    texts = [ln.text for e in entries for ln in ([e.title] if e.title else []) + e.lines]
    counts = marker_counts(texts)
    assert_every_content_line_once(doc, counts, diags)
    assert set(counts) <= set(doc.content) | set(doc.excused), "a marker appeared out of nowhere"
    for d in diags:
        assert d.path == "posts/x.txt" and 0 <= d.line <= len(doc.lines) + 1
    # Raw text with \r\n and stray control characters must not raise either.
    parse_dump("\ufeff" + doc.text.replace("\n", "\r\n") + "\x00", "posts/x.txt", [])


class _Text(HTMLParser):
    """The text a reader sees: character data, no tags or attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


_RENDERER: list[BodyRenderer] = []


def renderer() -> BodyRenderer:
    if not _RENDERER:
        _RENDERER.append(BodyRenderer())
    return _RENDERER[0]


def encode(doc: Doc, crlf: list[bool], bom: bool, nul: bool) -> bytes:
    out = []
    for i, line in enumerate(doc.lines):
        out.append(line + ("\r\n" if crlf[i % len(crlf)] else "\n"))
    data = "".join(out).encode("utf-8")
    if nul:
        data = data[: len(data) // 2] + b"\x00" + data[len(data) // 2 :]
    return (b"\xef\xbb\xbf" if bom else b"") + data


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    docs=st.lists(dumps(max_items=10), min_size=1, max_size=3),
    crlf=st.lists(st.booleans(), min_size=1, max_size=4),
    bom=st.booleans(),
    nul=st.integers(0, 15),
)
def test_load_posts_keeps_every_content_line_on_exactly_one_page(tmp_path_factory, docs, crlf, bom, nul):
    """Files on disk -> load -> enrich -> render: each content line on one page."""
    EXAMPLES["load_posts"] += 1
    root = tmp_path_factory.mktemp("site")
    posts_dir = root / "posts"
    posts_dir.mkdir()
    offset = 0
    binary = set()
    for i, doc in enumerate(docs):
        # Markers must be unique across files: shift this file's numbers.
        if offset:
            doc.lines = [MARKER.sub(lambda m: f"Q{int(m.group(1)) + offset}Z", ln) for ln in doc.lines]
            doc.content = {n + offset: v for n, v in doc.content.items()}
            doc.excused = {n + offset: v for n, v in doc.excused.items()}
        offset += doc.next_marker
        has_nul = nul == 0 and i == 0 and bool(doc.lines)
        (posts_dir / f"page-{i}.txt").write_bytes(encode(doc, crlf, bom, has_nul))
        if has_nul:
            binary.add(f"page-{i}.txt")

    result = load_posts(posts_dir, root=root)
    posts = enrich(result.posts, diags=result.diagnostics)
    assert len({p.url for p in posts}) == len(posts)
    for d in result.diagnostics:
        assert str(d).startswith(f"{d.path}:") and Path(d.path).name.startswith(("page-", "posts"))
    per_file = collections.defaultdict(list)
    for d in result.diagnostics:
        per_file[Path(d.path).name].append(d)

    counts = marker_counts(p.title + "\n" + p.body for p in posts)
    page_counts = marker_counts(visible_text(renderer().render(p.body).html) + p.title for p in posts)
    assert set(page_counts) <= set(range(offset)), "a marker appeared out of nowhere"
    for i, doc in enumerate(docs):
        name = f"page-{i}.txt"
        if name in binary:
            assert any("binary file" in d.message for d in per_file[name])
            assert not any(counts[n] for n in doc.content)
            continue
        assert_every_content_line_once(doc, counts, per_file[name])
        assert_every_content_line_once(doc, page_counts, per_file[name])


def test_zz_report_examples_tried(capsys):
    """Prints how many inputs the properties above were tried on (for the report)."""
    with capsys.disabled():
        print(f"\nproperty inputs tried: {dict(EXAMPLES)}")
