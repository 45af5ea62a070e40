"""Site configuration: ``kxsj.yml`` at the site root, every key optional.

Modelled on MkDocs' config validation: each key has a type, a default and a
sentence saying what it is for, and a bad value gets a message that says what
to write instead.  An absent file means all defaults (Zola's zero-config start).
"""

from __future__ import annotations

import difflib
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Optional

from kxsj.model import Diagnostic

CONFIG_NAME = "kxsj.yml"


@dataclass
class Config:
    """Every key of ``kxsj.yml`` with its default."""

    title: str = "kxsj"
    """Site title, shown in the header, the feed and the page titles."""
    description: str = ""
    """One line under the title and in the feed's subtitle."""
    author: str = ""
    """Author shown in citations and the feed; posts may name their own."""
    base_url: str = ""
    """Absolute address the site is served from (``https://user.github.io/repo/``).
    Empty: links are root-relative, as ``kxsj serve`` wants."""
    language: str = "zh-CN"
    """The pages' ``lang`` attribute."""
    page_size: int = 10
    """Posts per page on the home page and other paginated lists."""
    mathjax: str = "local"
    """``local`` uses the copy vendored in ``static/``; a URL loads MathJax from there."""
    metadata: str = "meta.yml"
    """Metadata file for listing dumps, relative to the posts folder."""
    search: bool = True
    """Index the site with Pagefind at build time."""
    feed_size: int = 20
    """How many newest posts the Atom feed holds."""
    original_site: str = ""
    """Name of the site the archive was scraped from, for "full text at …" notes."""
    include_dotfiles: bool = False
    """Publish files of ``static/`` whose names start with ``.`` (``.env`` stays private by default)."""
    render_timeout: int = 10
    """Seconds one post's Markdown may take to render; a post over it is reported and left out."""
    keep: list = field(default_factory=lambda: ["CNAME", ".nojekyll"])
    """Files of the output folder that kxsj did not write and must keep (``CNAME``, ``.nojekyll``, ``docs/*.pdf``)."""
    original_url: str = ""
    """Address of that site (``https://kexue.fm``): links to its posts (``…/archives/N``)
    go to the local page when post N is in the archive."""
    line_breaks: str = "joined"
    """How a newline inside a paragraph is shown: ``joined`` (Chinese lines joined,
    except after 。？！：；), ``space`` (kept, shown as a space) or ``br`` (a line break)."""
    comments: dict = field(default_factory=dict)
    """Comments under each post (never on list pages): ``provider: giscus``,
    ``waline`` or ``twikoo`` with that provider's settings (``kxsj.comments``,
    README "Comments").  Empty: no comments."""

    # --- reader ---
    sidebar: bool = True
    """Show the sidebar (newest posts, categories, tag cloud, monthly archive) on post
    and list pages; it adds about 15 kB to each of them (``kxsj.render.sidebar``)."""
    # --- math typesetting (kxsj.render.mathbuild) ---
    math: str = "browser"
    """Where formulas are typeset: ``build`` (by MathJax 3.2.2 in ``kxsj build``; pages
    carry the result and load no MathJax) or ``browser`` (by MathJax in each reader's browser)."""

    # Where the values came from, for messages; not a key.
    path: Optional[str] = field(default=None, repr=False, compare=False)

    def site_url(self, path: str) -> str:
        """Address of a site-relative ``path`` (``/archives/1/``) under ``base_url``."""
        path = path if path.startswith("/") else "/" + path
        if not self.base_url:
            return path
        return self.base_url.rstrip("/") + path

    @property
    def base_path(self) -> str:
        """The path part of ``base_url`` without a trailing slash (``/repo`` or ``""``)."""
        if not self.base_url:
            return ""
        from urllib.parse import urlsplit

        return urlsplit(self.base_url).path.rstrip("/")


KEYS = {f.name: f for f in fields(Config) if f.name != "path"}


def _default(key: str):
    f = KEYS[key]
    return f.default_factory() if f.default_factory is not MISSING else f.default


def _expected(kind: type) -> str:
    return {
        str: "a string",
        int: "a whole number",
        bool: "true or false",
        list: "a list of strings",
    }[kind]


def load_config(root: Path) -> tuple[Config, list[Diagnostic]]:
    """Read ``ROOT/kxsj.yml`` if present; return the config and what was wrong.

    A bad key never stops the build: it keeps its default and the message
    (an error for a wrong value, a warning for an unknown key) says what to fix.
    """
    path = root / CONFIG_NAME
    config = Config()
    diags: list[Diagnostic] = []
    if not path.is_file():
        return config, diags
    shown = str(path)
    config.path = shown
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        diags.append(
            Diagnostic(shown, 1, "error", f"not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8")
        )
        return config, diags
    except OSError as exc:
        diags.append(Diagnostic(shown, 1, "error", f"cannot read it ({exc.strerror or exc}); all keys keep their defaults"))
        return config, diags
    import yaml  # here, not at the top: a build with nothing to do never reads kxsj.yml

    from kxsj.yamltext import error_line, key_lines, parse_yaml

    try:
        data, node = parse_yaml(text)
    except yaml.YAMLError as exc:
        line = error_line(exc)
        diags.append(
            Diagnostic(shown, line, "error", f"not valid YAML: {getattr(exc, 'problem', exc)}; fix the syntax (all keys are optional)")
        )
        return config, diags
    if data is None:
        return config, diags
    if not isinstance(data, dict):
        diags.append(Diagnostic(shown, 1, "error", "must be a mapping of keys to values, e.g. `title: 科学空间`"))
        return config, diags

    lines = key_lines(node)
    for key, value in data.items():
        _apply_key(config, key, value, shown, lines.get(str(key), 1), diags)
    _check_values(config, shown, lines, diags, node)
    return config, diags


def _apply_key(config: Config, key, value, shown: str, line: int, diags: list[Diagnostic]) -> None:
    """Set ``key`` on ``config`` if its value has the right type; else say what is wrong."""
    if key not in KEYS:
        close = difflib.get_close_matches(str(key), KEYS, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(KEYS)}"
        diags.append(Diagnostic(shown, line, "warning", f"unknown key `{key}` ignored; {hint}"))
        return
    kind = type(_default(key))
    if value is None:
        return
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**6):
        diags.append(Diagnostic(shown, line, "error", f"`{key}` must be a positive whole number, got {value!r}; default {KEYS[key].default} used"))
        return
    if kind is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            diags.append(Diagnostic(shown, line, "error", f"`{key}` must be {_expected(kind)}, e.g. `{key}: [CNAME, .nojekyll]`"))
            return
        setattr(config, key, [v.strip() for v in value])
        return
    if kind is bool and not isinstance(value, bool):
        diags.append(Diagnostic(shown, line, "error", f"`{key}` must be true or false, got {value!r}"))
        return
    if kind is str:
        if isinstance(value, (dict, list)):
            diags.append(Diagnostic(shown, line, "error", f"`{key}` must be {_expected(kind)}, got {type(value).__name__}"))
            return
        value = str(value)
    setattr(config, key, value)


def _check_values(config: Config, shown: str, lines: dict[str, int], diags: list[Diagnostic], node=None) -> None:
    """Values of the right type that are still wrong get their default back, with a message."""
    if config.base_url:
        try:
            config.base_url = normalise_base_url(config.base_url)
        except ValueError as exc:
            diags.append(Diagnostic(shown, lines.get("base_url", 1), "error", f"`base_url` {exc}"))
            config.base_url = ""
    from kxsj.render.context import LINE_BREAKS

    if config.line_breaks not in LINE_BREAKS:
        diags.append(Diagnostic(shown, lines.get("line_breaks", 1), "error", f"`line_breaks` must be one of {', '.join(LINE_BREAKS)}, got {config.line_breaks!r}; `{LINE_BREAKS[0]}` used"))
        config.line_breaks = LINE_BREAKS[0]
    if config.original_url:
        from urllib.parse import urlsplit

        if urlsplit(config.original_url).scheme not in ("http", "https") or not urlsplit(config.original_url).netloc:
            diags.append(Diagnostic(shown, lines.get("original_url", 1), "error", f"`original_url` must be an http(s) address like https://kexue.fm, got {config.original_url!r}"))
            config.original_url = ""
    from kxsj.comments import check_comments, mapping_lines

    config.comments = check_comments(config.comments, mapping_lines(node, "comments"), lines.get("comments", 1), shown, config.language, diags)
    from kxsj.render.context import check_math_mode

    diags.extend(check_math_mode(config, shown, lines.get("math", 1)))
    if config.mathjax != "local" and not str(config.mathjax).startswith(("http://", "https://", "/")):
        diags.append(Diagnostic(shown, lines.get("mathjax", 1), "error", f"`mathjax` must be `local` or the address of tex-chtml.js, got {config.mathjax!r}"))
        config.mathjax = "local"


def normalise_base_url(value: str) -> str:
    """``base_url`` or ``--base-url`` checked, with the trailing slash added; ``ValueError`` says what is wrong.

    Every link, the feed and the sitemap start with it, so only an absolute
    ``http(s)`` address with a host and nothing else is taken: no query,
    fragment or ``user:password@`` (``javascript:alert(1)`` would reach the
    feed's links), no spaces or control characters.  Empty stays empty.
    """
    if not value:
        return ""
    from urllib.parse import urlsplit

    example = "like https://user.github.io/repo/"
    try:
        parts = urlsplit(value)
        parts.port  # raises ValueError for a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an absolute http(s) address {example}, got {value!r}")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"must not hold spaces or control characters, got {value!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold a user name or password (`user:pass@`); give the address alone")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError(f"must not hold a query (`?…`) or fragment (`#…`), got {value!r}; give the address {example}")
    return value if value.endswith("/") else value + "/"
