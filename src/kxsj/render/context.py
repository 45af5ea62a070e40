"""``RenderContext``: the site settings that change what HTML a Markdown body gives.

Made from ``kxsj.yml`` once per build (``RenderContext.from_config``) and
passed explicitly to whatever makes a body renderer: the build, its worker
processes, the dev server (``kxsj.render.markdown.configured_renderer``).
Every cache key of rendered HTML names it (``kxsj.incremental.keys``), so
HTML made under other settings is never reused.  Kept free of heavy
imports: keys are computed on builds that render nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

LINE_BREAKS = ("joined", "space", "br")
"""The values of ``line_breaks``, the default first (``kxsj.render.cjk`` says what each does)."""
MATH_MODES = ("browser", "build")
"""The values of ``math``, the default first (``kxsj.render.mathbuild``)."""


@dataclass(frozen=True)
class RenderContext:
    """What a body renderer is made with; the defaults are ``BodyRenderer()``'s."""

    line_breaks: str = LINE_BREAKS[0]
    base_path: str = ""
    """The path of ``base_url`` (``/repo``): site paths in bodies get it (``kxsj.render.page_links``)."""
    math: str = MATH_MODES[0]
    """``build``: formulas typeset by MathJax in the build (``kxsj.render.mathbuild``)."""
    math_engine: str = ""
    """Under ``math: build``, the build-time MathJax's version (a digest of its bundle), so keys name it."""

    @classmethod
    def from_config(cls, config) -> "RenderContext":
        """The settings of ``config`` (a ``kxsj.config.Config``, ``--base-url`` applied) that reach the body renderer."""
        line_breaks = getattr(config, "line_breaks", LINE_BREAKS[0])
        math = getattr(config, "math", MATH_MODES[0])
        math = math if math in MATH_MODES else MATH_MODES[0]
        engine = ""
        if math == "build":
            from kxsj.render.mathengine import engine_version

            engine = engine_version()
        return cls(
            line_breaks=line_breaks if line_breaks in LINE_BREAKS else LINE_BREAKS[0],
            base_path=getattr(config, "base_path", ""),
            math=math,
            math_engine=engine,
        )

    def options(self) -> dict[str, object]:
        """Keyword arguments of ``BodyRenderer``."""
        return asdict(self)

    def key_parts(self) -> list[str]:
        """How cache keys name these settings."""
        return [f"setting:{k}={v!r}" for k, v in sorted(self.options().items())]


def check_math_mode(config, shown: str, line: int) -> list:
    """``config.math`` checked (a ``Diagnostic`` per problem); an unusable value falls back to ``browser``."""
    from kxsj.model import Diagnostic
    from kxsj.render.mathengine import available

    if config.math not in MATH_MODES:
        bad = config.math
        config.math = MATH_MODES[0]
        return [Diagnostic(shown, line, "error", f"`math` must be one of {', '.join(MATH_MODES)}, got {bad!r}; `{config.math}` used")]
    if config.math == "build" and not available():
        config.math = "browser"
        return [Diagnostic(shown, line, "warning", "`math: build` needs the mini-racer package, which is not installed here (pip install mini-racer); formulas are typeset in the browser")]
    return []
