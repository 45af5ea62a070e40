"""How rendering time grows with hostile paragraphs (issue 22): each size twice the last.

    python benchmarks/hostile_render.py [--max-size 64000]

For each input, the time to render one paragraph made of N repeats of a
unit: linear growth doubles the time with N, quadratic quadruples it.  The
render budget is switched off here, so the real times show.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kxsj.render import budget  # noqa: E402
from kxsj.render.markdown import BodyRenderer  # noqa: E402

CASES = {
    "unclosed links `[d](e `": lambda n: "[d](e " * n,
    "inline formulas `$x_i$`": lambda n: " ".join(f"$x_{{{i}}}$" for i in range(n)),
    "unclosed `\\(`": lambda n: "\\( a " * n,
    "money `$5`": lambda n: "$5 a " * n,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-size", type=int, default=32000)
    args = parser.parse_args()
    budget.set_budget(0)
    renderer = BodyRenderer()
    for name, make in CASES.items():
        n, last = 4000, None
        while n <= args.max_size:
            text = make(n)
            start = time.perf_counter()
            renderer.render(text)
            took = time.perf_counter() - start
            growth = f"  x{took / last:.1f}" if last else ""
            print(f"{name:28} n={n:>6} ({len(text) / 1024:>6.0f} KB) {took:7.2f} s{growth}", flush=True)
            last, n = took, n * 2


if __name__ == "__main__":
    main()
