"""MathJax at build time: the site's MathJax 3.2.2, run in V8 inside this process.

``kxsj/data/mathjax-engine.js`` is mathjax-full 3.2.2's own components (the
ones the vendored ``static/mathjax/tex-chtml-full.js`` is made of, on
MathJax's liteDOM instead of a browser) configured as
``static/js/mathjax-config.js`` configures the pages, plus three functions
(``scripts/mathjax_bundle/kxsj.js``); ``scripts/build_mathjax_bundle.sh``
makes it.  V8 comes from the ``mini-racer`` wheel, so ``pip install`` is
all a user needs, and nothing is fetched while building.

One V8 context per process, made on first use: build workers are forked
processes, and a context never crosses a fork (``_context`` checks the
process id).  A call hands over the formulas of one post as *fragments*,
``(tag, html)`` pairs: the element name (``span``/``div``) and the
HTML-escaped text the Markdown renderer wrote into
``<tag class="arithmatex">``.  MathJax reads them as one page of its own,
so equation numbers start at (1) and ``\\label``/``\\eqref`` resolve within
the post, exactly as on a page typeset in the browser.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Optional, Sequence

BUNDLE = "mathjax-engine.js"
"""The engine's file in ``kxsj/data``."""
STYLESHEET = "mathjax/kxsj-chtml.css"
"""Where, under ``static/``, the stylesheet of the engine's CHTML output is (beside the fonts' folder)."""

Fragment = tuple[str, str]

_context: dict[str, object] = {}


class MathEngineError(RuntimeError):
    """The engine could not start or failed on a post (not a TeX error: those are shown in the formula)."""


def available() -> bool:
    """Whether V8 (the ``mini-racer`` wheel) is installed here.

    Found, not imported: every build checks the math mode, and a build with
    nothing to typeset (nothing changed) should not pay for loading V8.
    """
    from importlib.util import find_spec

    try:
        return find_spec("py_mini_racer") is not None
    except (ImportError, ValueError):
        return False


def _bundle_text() -> str:
    return resources.files("kxsj").joinpath("data", BUNDLE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def engine_version() -> str:
    """A short digest of the engine's bundle: part of the render cache key under ``math: build``."""
    return hashlib.sha256(_bundle_text().encode("utf-8")).hexdigest()[:16]


def _ctx():
    """This process's V8 context with the engine loaded, made on first use."""
    if _context.get("pid") != os.getpid():
        _context.clear()
        try:
            from py_mini_racer import MiniRacer
        except ImportError as e:  # pragma: no cover - the platform has no wheel
            raise MathEngineError("math: build needs the mini-racer package (pip install mini-racer)") from e
        ctx = MiniRacer()
        ctx.eval(_bundle_text())
        _context.update(pid=os.getpid(), ctx=ctx)
        atexit.register(_close, os.getpid())
    return _context["ctx"]


def _abandon_in_child() -> None:
    """After a fork: the parent's context is not this process's to use or close.

    Its V8 threads were not copied, so closing it (which Python would do when
    the last reference goes, at the latest at exit) waits for them forever.
    It is kept alive, never freed, and this process makes its own if it needs one.
    """
    ctx = _context.get("ctx")
    if ctx is not None:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(ctx))
    _context.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_abandon_in_child)


def release() -> None:
    """Close this process's context, if any (the next call makes a new one).

    Its V8 thread keeps ``kxsj.render.parallel.can_fork`` from forking, so
    the build's own process lets go of it once the feed is made.
    """
    _close(os.getpid())


def _close(pid: int) -> None:
    # Closed explicitly: left to the interpreter's shutdown, the context's
    # thread keeps the process from exiting.
    if _context.get("pid") == pid:
        _context.pop("ctx").close()
        _context.clear()


def _call(name: str, *args: str) -> str:
    try:
        return _ctx().call(name, *args)
    except MathEngineError:
        raise
    except Exception as e:  # a JavaScript exception: MathJax itself failed
        raise MathEngineError(f"MathJax failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from e


def typeset(fragments: Sequence[Fragment]) -> list[str]:
    """The CHTML of one post's math fragments, in order: each fragment's new inner HTML.

    Every ``mjx-container`` carries ``data-tex``, the TeX as written without
    its delimiters; a TeX error is shown in the formula (``mjx-merror``) as
    the browser shows it.
    """
    if not fragments:
        return []
    return json.loads(_call("kxsjTypeset", json.dumps(list(fragments), ensure_ascii=False)))


def mathml(fragments: Sequence[Fragment]) -> tuple[list[str], list[str]]:
    """One post's fragments with each formula as ``<kxsj-mml n="i"></kxsj-mml>``, and the MathML of each.

    The MathML's ``<annotation encoding="application/x-tex">`` holds the TeX as written.
    """
    if not fragments:
        return [], []
    out = json.loads(_call("kxsjMathML", json.dumps(list(fragments), ensure_ascii=False)))
    return out["html"], out["mml"]


def stylesheet() -> str:
    """The CSS every page typeset by the engine needs (all characters of MathJax's TeX font)."""
    return _call("kxsjStylesheet")


def mathjax_version() -> str:
    return _call("kxsjVersion")


def write_stylesheet(static_dir: Optional[Path] = None, data_dir: Optional[Path] = None) -> tuple[Path, Path]:
    """Write ``stylesheet()``, cut in two (``kxsj.render.mathcss.split``): the site's part to
    ``static/`` + ``STYLESHEET``, the character rules to ``kxsj/data/`` + ``mathcss.CHARS``
    (run by ``scripts/build_mathjax_bundle.sh``)."""
    from kxsj.render.mathcss import CHARS, split

    static_dir = static_dir or Path(__file__).resolve().parents[3] / "static"
    data_dir = data_dir or Path(__file__).resolve().parents[1] / "data"
    site, chars = split(stylesheet())
    path, chars_path = static_dir / STYLESHEET, data_dir / CHARS
    made = "Made by scripts/build_mathjax_bundle.sh from the CSS of MathJax 3.2.2's CHTML output"
    path.write_text(f"/* {made}: all but the characters' rules (each page has those it uses). */\n" + site, encoding="utf-8")
    chars_path.write_text(f"/* {made}: the characters' rules, one a line (kxsj.render.mathcss). */\n" + chars, encoding="utf-8")
    return path, chars_path
