#!/usr/bin/env python3
"""CPU time of rendering post bodies, nothing else.

Why this exists: ``benchmarks/run.py`` times whole builds, where loading,
templates and writing hide what the Markdown pipeline itself costs.  This
renders every body of a folder of ``*.md`` posts with one ``BodyRenderer``
(as a build worker does) and prints the CPU seconds of the rendering alone,
so a change to the renderer can be measured and profiled on its own.

Usage::

    python benchmarks/render_bodies.py FOLDER [--repeat N] [--profile [N]]
    python benchmarks/render_bodies.py benchmarks/work/1400/kxsj/posts --repeat 3

It runs this tree's ``src/`` (not whatever kxsj is installed).  ``--repeat``
renders the whole folder N times with a fresh renderer each time and prints
every run and the minimum (the machine's noise only ever adds time).
``--profile`` prints the top N functions of one run by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from kxsj.load.markdown_posts import split_front_matter  # noqa: E402
from kxsj.render.markdown import BodyRenderer  # noqa: E402


def load_bodies(folder: Path) -> list[str]:
    """Every ``*.md`` body of ``folder``, in name order, front matter removed."""
    paths = sorted(folder.glob("*.md"))
    return [split_front_matter(p.read_text(encoding="utf-8"))[1] for p in paths]


def render_all(bodies: list[str]) -> float:
    """CPU seconds to render ``bodies`` with one fresh renderer (its build excluded)."""
    renderer = BodyRenderer()
    start = time.process_time()
    for body in bodies:
        renderer.render(body)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, nargs="?", const=40, default=0, metavar="N")
    args = parser.parse_args(argv)
    bodies = load_bodies(args.folder)
    if not bodies:
        parser.error(f"no *.md files in {args.folder}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(render_all, bodies)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        return 0
    runs = [render_all(bodies) for _ in range(args.repeat)]
    print(f"{len(bodies)} bodies: " + ", ".join(f"{r:.2f}" for r in runs) + " s CPU")
    print(f"min {min(runs):.3f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
