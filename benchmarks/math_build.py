#!/usr/bin/env python3
"""``math: build`` against ``math: browser``: build cost, page weight, time to formulas visible.

Four measurements (issue 18), each printed as a table row:

1. ``formula``: CPU ms per formula of the build-time MathJax, rendering the
   130 corpus posts' bodies with ``BodyRenderer(math="build")`` minus the same
   with ``math="browser"``, in one process (the first post, which starts V8,
   timed on its own as ``engine start``).
2. ``cold``: ``kxsj build`` of the ``benchmarks/run.py`` corpus (1,400 posts
   by default) from nothing, in both modes: wall time and CPU time of the
   build and its worker processes (the machine is shared, so CPU time is the
   number to compare), then ``warm`` (nothing changed) and ``edit`` (one body
   changed).
3. ``bytes``: the heaviest corpus post's page as served: its HTML, and the
   scripts, stylesheets and fonts it loads (Chromium's transfer sizes,
   uncompressed).
4. ``visible``: time from navigation until every formula is shown, in
   Debian's Chromium (``/usr/bin/chromium``), without and with 4x CPU
   throttling (CDP ``Emulation.setCPUThrottlingRate``).  ``browser``: until
   ``MathJax.startup.promise`` resolves (read once MathJax's own script has
   run: before that ``window.MathJax`` is only the configuration), then
   ``document.fonts.ready``; ``build``: until the page's load event and
   ``document.fonts.ready`` (the formulas are in the HTML).  Recorded in the
   page (``performance.now()``, from navigation start).  A post's blocks far
   from the screen are laid out only as the reader nears them (site.css:
   ``content-visibility``), so this is the first screen's formulas; what
   laying out all the others at once then costs is printed beside it.

Usage::

    python benchmarks/math_build.py                  # everything, 1,400 posts
    python benchmarks/math_build.py --quick          # 300 posts, one run each
    python benchmarks/math_build.py --only formula,visible
    python benchmarks/math_build.py --only bytes,visible --quick   # one page, a minute
"""

from __future__ import annotations

import argparse
import http.server
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "src"))

import run as bench  # noqa: E402  (benchmarks/run.py: the corpus generator)

CORPUS = REPO.parent / "shared" / "corpus" / "md"
MODES = ("browser", "build")


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def formula_cost() -> None:
    from kxsj.render.markdown import BodyRenderer
    from kxsj.render import mathbuild

    bodies = [bench.read_sources(CORPUS)[i].body for i in range(len(bench.read_sources(CORPUS)))]
    renderers = {m: BodyRenderer(math=m) for m in MODES}
    t = time.process_time()
    renderers["build"].render("$x$")
    print(f"engine start (V8 + bundle): {1000 * (time.process_time() - t):.0f} ms CPU")
    spent, formulas = {}, 0
    for memo in (False, True):
        for mode in MODES:
            mathbuild.clear_memo()
            if not memo:
                mathbuild._MEMO_LIMIT = 0
            t = time.process_time()
            for body in bodies:
                html = renderers[mode].render(body).html
                if mode == "browser" and not memo:
                    formulas += len(mathbuild.fragments(html))
            spent[mode, memo] = time.process_time() - t
            mathbuild._MEMO_LIMIT = 50_000
    for memo in (False, True):
        extra = spent["build", memo] - spent["browser", memo]
        print(f"formula ({'memo' if memo else 'no memo'}): {len(bodies)} posts, {formulas} formulas, "
              f"browser {spent['browser', memo]:.1f} s, build {spent['build', memo]:.1f} s CPU: "
              f"{1000 * extra / formulas:.2f} ms per formula")


def _site(n: int, mode: str) -> Path:
    base = bench.prepare(n, bench.read_sources(CORPUS))
    site = base / f"kxsj-math-{mode}"
    if not site.exists():
        shutil.copytree(base / "kxsj", site)
        with open(site / "kxsj.yml", "a", encoding="utf-8") as f:
            f.write(f"\nmath: {mode}\n")
    return site


def _build(site: Path) -> tuple[float, float]:
    cpu, wall = _cpu_children(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "kxsj", "build", "--root", str(site)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    return time.perf_counter() - wall, _cpu_children() - cpu


def build_cost(n: int) -> None:
    for mode in MODES:
        site = _site(n, mode)
        shutil.rmtree(site / "public", ignore_errors=True)
        cold = _build(site)
        warm = _build(site)
        post = sorted((site / "posts").glob("*.md"))[n // 2]
        text = post.read_text(encoding="utf-8")
        post.write_text(text + "\n\n改了一句。\n", encoding="utf-8")
        edit = _build(site)
        post.write_text(text, encoding="utf-8")
        print(f"{n} posts, math: {mode}: cold {cold[0]:.1f} s wall / {cold[1]:.1f} s CPU; "
              f"warm {warm[0]:.1f} / {warm[1]:.1f}; edit {edit[0]:.1f} / {edit[1]:.1f}")


def heaviest() -> Path:
    return max(CORPUS.glob("*.md"), key=lambda p: len(re.findall(r"\$|\\begin\{", p.read_text(encoding="utf-8"))))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):  # a page closed mid-response
            super().handle_error(request, client_address)


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = partial(_QuietHandler, directory=str(folder))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def one_post_site(mode: str, source: Path, out: Path) -> str:
    """Build a site of ``source`` alone with ``math: mode``; its page's path."""
    site = out / mode
    shutil.rmtree(site, ignore_errors=True)
    (site / "posts").mkdir(parents=True)
    shutil.copy(source, site / "posts" / source.name)
    (site / "kxsj.yml").write_text(f"title: bench\nsearch: false\nmath: {mode}\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "kxsj", "build", "--root", str(site)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    page = next((site / "public" / "archives").glob("*/index.html"))
    return "/" + page.parent.relative_to(site / "public").as_posix() + "/"


# Run in the page before its own scripts: ``window.kxsjVisible`` resolves to
# ``performance.now()`` (milliseconds since navigation began) once every
# formula is drawn.  ``browser``: when ``MathJax.startup.promise`` resolves;
# it exists only once MathJax's own (deferred) script has run -- before that
# ``window.MathJax`` is mathjax-config.js's configuration, with no promise --
# so it is read in that script's load event (capturing: a script's load event
# does not bubble).  ``build``: at the page's load event (stylesheets
# loaded).  Then, in both, a layout (so the fonts the formulas use are
# requested) and ``document.fonts.ready``.
_VISIBLE = """
window.kxsjVisible = new Promise(resolve => {
  const drawn = () => { void document.body.offsetHeight; document.fonts.ready.then(() => resolve(performance.now())); };
  if (%r === 'browser') {
    document.addEventListener('load', e => {
      if (e.target.id === 'MathJax-script') MathJax.startup.promise.then(drawn);
    }, true);
  } else {
    addEventListener('load', drawn);
  }
});
"""

# Then: how long laying out every formula of the page takes, once the first
# screen is shown.  site.css lets the browser skip the layout of a post's
# blocks far from the screen (content-visibility) until the reader scrolls
# near them, so ``visible`` is the first screen's formulas drawn; this is
# the rest, forced at once (a reader pays it a screenful at a time).
_REST = """() => {
  const t = performance.now();
  for (const el of document.querySelectorAll('mjx-container')) el.getBoundingClientRect();
  return performance.now() - t;
}"""


def _record_size(got: dict, request) -> None:
    try:
        got[request.url] = request.sizes()["responseBodySize"]
    except Exception:  # a request still finishing as the page was closed: not one of its own
        pass


def visible_and_bytes(out: Path, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    source = heaviest()
    print(f"heaviest post: {source.name}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        for mode in MODES:
            path = one_post_site(mode, source, out)
            server, root = _serve(out / mode / "public")
            try:
                for rate in (1, 4):
                    times, rest, sizes = [], [], {}
                    for _ in range(runs):
                        page = browser.new_page()
                        cdp = page.context.new_cdp_session(page)
                        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
                        got: dict[str, int] = {}
                        page.on("requestfinished", partial(_record_size, got))
                        page.add_init_script(_VISIBLE % mode)
                        page.goto(root + path, wait_until="commit")
                        times.append(page.evaluate("() => window.kxsjVisible"))
                        rest.append(page.evaluate(_REST))
                        page.wait_for_load_state("load")
                        sizes = got
                        page.close()
                    times.sort()
                    rest.sort()
                    print(f"visible, math: {mode}, CPU x{rate}: median {times[len(times) // 2] / 1000:.2f} s of {runs} runs; "
                          f"then laying out the rest of the page: {rest[len(rest) // 2] / 1000:.2f} s")
                html = sum(v for k, v in sizes.items() if k.rstrip("/").endswith(path.rstrip("/")))
                kinds = {ext: sum(v for k, v in sizes.items() if k.endswith(ext)) for ext in (".js", ".css", ".woff")}
                print(f"bytes, math: {mode}: page HTML {html:,}, scripts {kinds['.js']:,}, stylesheets {kinds['.css']:,}, "
                      f"fonts {kinds['.woff']:,}, total {sum(sizes.values()):,}")
            finally:
                server.shutdown()
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1400)
    parser.add_argument("--quick", action="store_true", help="300 posts, 3 page loads")
    parser.add_argument("--only", default="formula,cold,visible", help="any of formula, cold, visible (bytes: the same as visible)")
    args = parser.parse_args(argv)
    only = args.only.split(",")
    n, runs = (300, 3) if args.quick else (args.posts, 7)
    if "formula" in only:
        formula_cost()
    if "cold" in only:
        build_cost(n)
    if "visible" in only or "bytes" in only:
        visible_and_bytes(HERE / "work" / "math-page", runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
