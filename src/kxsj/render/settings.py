"""The site settings that change what HTML a Markdown body gives, for this process.

The build's body renderer is made in several places (the build, its worker
processes, the helper, the dev server), all through
``kxsj.render.markdown.configured_renderer``; the build sets these once from
the site's ``kxsj.yml`` (``use_config``) before it makes any of them, and
worker processes forked after that inherit them.  ``BodyRenderer()`` made
directly does not read them.  The render
cache's key names them (``kxsj.render.cache.renderer_key``), so HTML made
under other settings is never reused.  Kept free of heavy imports: the
cache key is computed on builds that render nothing.
"""

from __future__ import annotations

LINE_BREAKS = ("joined", "space", "br")
"""The values of ``line_breaks``, the default first (``kxsj.render.cjk`` says what each does)."""

MATH_MODES = ("browser", "build")
"""The values of ``math``, the default first (``kxsj.render.mathbuild``)."""

_current = {"line_breaks": LINE_BREAKS[0], "math": MATH_MODES[0]}


def use_config(config) -> None:
    """Render with ``config``'s settings (a ``kxsj.config.Config``) from now on, in this process."""
    line_breaks = getattr(config, "line_breaks", LINE_BREAKS[0])
    _current["line_breaks"] = line_breaks if line_breaks in LINE_BREAKS else LINE_BREAKS[0]
    math = getattr(config, "math", MATH_MODES[0])
    _current["math"] = math if math in MATH_MODES else MATH_MODES[0]


def render_settings() -> dict[str, str]:
    """The settings renderers made now use: name -> value.

    Under ``math: build`` also ``math_engine``, the build-time MathJax's
    version (a digest of its bundle), so the render cache's key names it.
    """
    settings = dict(_current)
    if settings["math"] == "build":
        from kxsj.render.mathengine import engine_version

        settings["math_engine"] = engine_version()
    return settings
