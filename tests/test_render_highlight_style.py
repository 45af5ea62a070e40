"""``ClassModeStyle`` (no token styles) highlights code exactly like Pygments' default.

The renderer hands Pygments a style without token styles so that no
per-block stylesheet is built; that is only right while the HTML uses CSS
classes and never reads the stylesheet.  Checked by rendering code blocks
of several languages and forms, and the corpus posts that have code, with
both styles; and the check is shown able to fail: with inline styles
(``noclasses``) the two styles do differ.
"""

from __future__ import annotations

import markdown
import pytest
from pygments.formatters import HtmlFormatter
from pymdownx.highlight import HighlightExtension

from kxsj.load.markdown_posts import split_front_matter
from kxsj.render.markdown import BodyRenderer, ClassModeStyle, _extensions

CODE = [
    "```python\ndef f(x):\n    return x ** 2  # square\n\nprint(f'{f(3)}')\n```",
    "```bash\nfor i in $(seq 3); do echo \"$i\" > /tmp/x; done\n```",
    "```html\n<div class=\"a\">&amp; <b>x</b></div>\n<!-- c -->\n```",
    "```javascript\nconst a = [1, 2].map(x => x * 2); // $x$\n```",
    "```cpp\n#include <vector>\nint main() { return 0; }\n```",
    "```nosuchlanguage\nplain *text* $x$\n```",
    "```\nno language at all\n```",
    '```python hl_lines="1 3" linenums="1"\na = 1\nb = 2\nc = 3\n```',
    '```python linenums="5 2"\na = 1\nb = 2\nc = 3\n```',
    '```python title="demo.py"\nimport os\n```',
    "```{.python #code-id}\nx = {'k': [1, 2]}\n```",
    "~~~sql\nSELECT * FROM t WHERE a > 1;\n~~~",
    "> ```python\n> x = 1\n> ```",
    "- item\n\n    ```python\n    y = 2\n    ```",
    "text\n\n    indented = 'code block'\n    print(indented)\n\nmore",
]


def _markdown(**highlight) -> markdown.Markdown:
    extensions, configs = _extensions()
    configs["pymdownx.highlight"] = {**configs["pymdownx.highlight"], **highlight}
    return markdown.Markdown(extensions=extensions, extension_configs=configs, output_format="html")


def _render_all(md: markdown.Markdown, texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        md.reset()
        out.append(md.convert(text))
    return out


@pytest.fixture(scope="module")
def code_bodies(shared_dir) -> list[str]:
    bodies = [
        split_front_matter(path.read_text(encoding="utf-8"))[1]
        for path in sorted((shared_dir / "corpus" / "md").glob("*.md"))
    ]
    with_code = [b for b in bodies if "```" in b or "~~~" in b]
    assert len(with_code) > 10
    return CODE + with_code


def test_renderer_uses_class_mode_style():
    found = [e for e in BodyRenderer()._md.registeredExtensions if isinstance(e, HighlightExtension)]
    configs = found[0].getConfigs()
    assert configs["noclasses"] is False and configs["pygments_style"] is ClassModeStyle
    assert HtmlFormatter(style=ClassModeStyle).class2style == {}
    assert HtmlFormatter(style="default").class2style != {}


def test_code_highlights_the_same_as_with_the_default_style(code_bodies):
    ours = _render_all(_markdown(), code_bodies)
    default = _render_all(_markdown(pygments_style="default"), code_bodies)
    assert ours == default
    assert sum(html.count("<span class=") for html in ours) > 100  # Pygments did run


def test_with_inline_styles_the_style_would_matter():
    """The comparison above can fail: here the style is the output."""
    inline_ours = _render_all(_markdown(noclasses=True, pygments_style=ClassModeStyle), CODE[:3])
    inline_default = _render_all(_markdown(noclasses=True, pygments_style="default"), CODE[:3])
    assert inline_ours != inline_default
