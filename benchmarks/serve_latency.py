#!/usr/bin/env python3
"""Save-to-served latency of ``kxsj serve`` (issue 4: < 100 ms at 36 posts, < 300 ms at 1,400; issue 6: < 100 ms at 1,400).

For each archive size it makes a throw-away copy of a site, starts the real
``python -m kxsj serve`` on it, then edits one post ``--edits`` times (a new
sentence each time, 0.4 s apart so saves are not coalesced) and polls the
post's URL every 5 ms until the new sentence is served.  The time from the
write returning to the first response holding the sentence is one sample;
it includes the watcher (a save is handed over once its file is closed,
see ``kxsj.serve.watch``), the rebuild and the HTTP answer.  Prints median
and worst, the server's own rebuild times, and each goal: issue 4's for
the worst sample, issue 6's for the median.

Sites:

* ``36``: the bundled archive (``posts/``: five listing dumps); a dump is
  edited, as a user fixing a scraped post would.
* any other N: N Markdown posts copied from ``shared/corpus/md/`` (post
  ``i % 130``'s body) with a new id, a numbered title and a date ``3 i``
  days after 2009-01-01, deterministic; post ``N // 2`` is edited (``--post newest``: the newest).

Both sites get the bundled ``kxsj.yml`` with ``math:`` set by ``--math``
(default ``browser``, what the goals were set for; ``build`` typesets the
edited post's formulas with MathJax on every save: see
``benchmarks/math_build.py``).

Usage::

    python benchmarks/serve_latency.py                  # 36 and 1,400 posts
    python benchmarks/serve_latency.py --sizes 1400 --edits 40
    python benchmarks/serve_latency.py --sizes 1400 --math build
    python benchmarks/serve_latency.py --sizes 1400 --post newest   # the post the feed shows
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BUNDLED_POSTS = 36


def write_config(site: Path, math: str) -> None:
    """The bundled ``kxsj.yml`` with ``math: <math>``."""
    text = re.sub(r"^math:.*\n?", "", (REPO / "kxsj.yml").read_text(encoding="utf-8"), flags=re.M)
    (site / "kxsj.yml").write_text(text.rstrip("\n") + f"\nmath: {math}\n", encoding="utf-8")


def make_corpus_site(site: Path, n: int, post: str = "middle") -> tuple[Path, str, str]:
    """N Markdown posts from the shared corpus; returns (file to edit, its URL, text to replace).

    ``post``: ``middle`` edits post ``n // 2``; ``newest`` the newest, which
    the home page and the feed show (writing a new post is editing it).
    """
    sources = sorted((SHARED / "corpus" / "md").glob("*.md"))
    posts = site / "posts"
    posts.mkdir(parents=True)
    start = dt.date(2009, 1, 1)
    for i in range(n):
        head, body = sources[i % len(sources)].read_text(encoding="utf-8").split("\n---\n", 1)
        new_id = 20000 + i
        head = re.sub(r"^title: .*$", f'title: "文章{i:05d}"', head, flags=re.M)
        head = re.sub(r"^date: .*$", f"date: {(start + dt.timedelta(days=3 * i)).isoformat()}", head, flags=re.M)
        head = re.sub(r"^id: .*$", f"id: {new_id}", head, flags=re.M)
        head = re.sub(r"^url: .*$", f"url: https://kexue.fm/archives/{new_id}", head, flags=re.M)
        (posts / f"{new_id}.md").write_text(f"{head}\n---\n{body}", encoding="utf-8")
    edited = n - 1 if post == "newest" else n // 2
    return posts / f"{20000 + edited}.md", f"/archives/{20000 + edited}/", "\n---\n"


def make_bundled_site(site: Path) -> tuple[Path, str, str]:
    """The bundled archive; returns the O-GAN post's dump, its URL and a sentence of it."""
    shutil.copytree(REPO / "posts", site / "posts")
    dump = site / "posts" / "001_c2a2170592dad9eb.txt"
    return dump, "/archives/6409/", "本文来给大家分享一下笔者最近的一个工作"


class Server:
    def __init__(self, root: Path):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kxsj", "serve", "--root", str(root), "--port", "0"],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
        )
        self.lines: list[str] = []
        self.url_ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()
        if not self.url_ready.wait(600):
            raise SystemExit("kxsj serve did not start:\n" + "\n".join(self.lines))

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            m = re.search(r"serving (http://\S+)/", line)
            if m:
                self.url = m.group(1)
                self.url_ready.set()

    def fetch(self, path: str) -> str:
        try:
            with urllib.request.urlopen(self.url + urllib.parse.quote(path), timeout=5) as r:
                return r.read().decode("utf-8")
        except urllib.error.HTTPError:
            return ""

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)


def measure(n: int, edits: int, math: str = "browser", post: str = "middle") -> dict:
    with tempfile.TemporaryDirectory(prefix="kxsj-serve-bench-") as tmp:
        site = Path(tmp)
        target, url, anchor = make_bundled_site(site) if n == BUNDLED_POSTS else make_corpus_site(site, n, post)
        write_config(site, math)
        server = Server(site)
        try:
            original = target.read_text(encoding="utf-8")
            assert anchor in original and server.fetch(url), f"{url} not served"
            samples = []
            for i in range(edits):
                marker = f"第{i}次编辑加入的句子"
                edited = original.replace(anchor, anchor + (marker if n == BUNDLED_POSTS else f"\n{marker}\n\n"), 1)
                target.write_text(edited, encoding="utf-8")
                saved = time.perf_counter()
                while marker not in server.fetch(url):
                    if time.perf_counter() - saved > 30:
                        raise SystemExit(f"edit {i} never appeared at {url}")
                    time.sleep(0.005)
                samples.append((time.perf_counter() - saved) * 1000)
                time.sleep(0.4)
            rebuilds = [float(m.group(1)) for line in server.lines if (m := re.match(r"rebuilt in (\d+) ms", line))]
            built = next((line for line in server.lines if line.startswith("built ")), "")
        finally:
            server.stop()
    return {"posts": n, "samples": samples, "rebuilds": rebuilds, "first_build": built}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[BUNDLED_POSTS, 1400])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--math", choices=["browser", "build"], default="browser")
    parser.add_argument("--post", choices=["middle", "newest"], default="middle",
                        help="which post of an N-post site is edited (newest: it is on the home page and in the feed)")
    args = parser.parse_args()
    # (issue, statistic, limit in ms) per archive size
    goals = {
        BUNDLED_POSTS: [("issue 4", "worst", 100)],
        1400: [("issue 4", "worst", 300), ("issue 6", "median", 100), ("issue 23", "median", 60)],
    }
    for n in args.sizes:
        r = measure(n, args.edits, args.math, args.post)
        s = r["samples"]
        measured = {"worst": max(s), "median": statistics.median(s)}
        verdict = "".join(
            f"; {issue} ({stat} < {limit} ms) " + ("OK" if measured[stat] < limit else "OVER")
            for issue, stat, limit in goals.get(n, [])
        )
        print(
            f"{n:>6} posts, math: {args.math}, {args.post if n != BUNDLED_POSTS else 'bundled'} post: save -> served median {statistics.median(s):6.1f} ms, worst {max(s):6.1f} ms "
            f"({len(s)} edits); server rebuild median {statistics.median(r['rebuilds']) if r['rebuilds'] else float('nan'):.0f} ms, "
            f"worst {max(r['rebuilds'], default=float('nan')):.0f} ms; first: {r['first_build']}{verdict}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
