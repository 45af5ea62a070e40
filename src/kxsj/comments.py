"""The ``comments`` key of ``kxsj.yml``: giscus, Waline or Twikoo under each post.

::

    comments:
      provider: giscus          # or waline, twikoo; absent: no comments
      repo: user/blog-comments
      repo_id: R_kgDO…
      category: Announcements
      category_id: DIC_kwDO…

``check_comments`` turns what the file says into the settings
``templates/_comments.html`` prints (every optional setting filled with
its default, and ``init``: the object for Waline's or Twikoo's init), or ``{}`` (no comments) with an error naming
``kxsj.yml:line`` and what to write.  Values only ever reach the page as
HTML attributes or as JSON inside a ``<script>`` (Jinja's ``tojson``),
escaped either way.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from kxsj.model import Diagnostic

PROVIDERS = ("giscus", "waline", "twikoo")


def _text(value: Any) -> Optional[str]:
    if isinstance(value, bool) or isinstance(value, (dict, list)) or value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> Optional[str]:
    """giscus's ``"0"``/``"1"`` from true/false/0/1."""
    if value in (True, 1, "1", "true"):
        return "1"
    if value in (False, 0, "0", "false"):
        return "0"
    return None


def _url(value: Any) -> Optional[str]:
    text = _text(value)
    return text if text and re.fullmatch(r"https?://[^\s\"'<>]+", text) else None


def _choice(*allowed: str) -> Callable[[Any], Optional[str]]:
    def check(value: Any) -> Optional[str]:
        text = _text(value)
        return text if text in allowed else None

    check.allowed = allowed  # type: ignore[attr-defined]
    return check


def _repo(value: Any) -> Optional[str]:
    text = _text(value)
    return text if text and re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", text) else None


# provider -> setting -> (required?, check, default, what to write)
_SETTINGS: dict[str, dict[str, tuple]] = {
    "giscus": {
        "repo": (True, _repo, None, "the repository as `owner/name`"),
        "repo_id": (True, _text, None, "`data-repo-id` from giscus.app's snippet"),
        "category": (True, _text, None, "the discussion category's name (`data-category`)"),
        "category_id": (True, _text, None, "`data-category-id` from giscus.app's snippet"),
        "mapping": (False, _choice("pathname", "url", "title", "og:title", "specific", "number"), "pathname", "one of pathname, url, title, og:title, specific, number"),
        "term": (False, _text, "", "the discussion term for mapping `specific` or `number`"),
        "strict": (False, _flag, "0", "true or false"),
        "reactions_enabled": (False, _flag, "1", "true or false"),
        "emit_metadata": (False, _flag, "0", "true or false"),
        "input_position": (False, _choice("top", "bottom"), "bottom", "top or bottom"),
        "theme": (False, _text, "preferred_color_scheme", "a giscus theme name or a CSS address"),
        "lang": (False, _text, None, "a giscus language code such as zh-CN"),
        "loading": (False, _choice("lazy", "eager"), "lazy", "lazy or eager"),
        "src": (False, _url, "https://giscus.app/client.js", "an http(s) address of client.js"),
    },
    "waline": {
        "server_url": (True, _url, None, "your Waline server's http(s) address"),
        "lang": (False, _text, None, "a Waline language code such as zh-CN"),
        "dark": (False, _text, "auto", "`auto`, a CSS selector, or empty"),
        "src": (False, _url, "https://unpkg.com/@waline/client@v3/dist/waline.js", "an http(s) address of waline.js (the ES module)"),
        "css": (False, _url, "https://unpkg.com/@waline/client@v3/dist/waline.css", "an http(s) address of waline.css"),
    },
    "twikoo": {
        "env_id": (True, _text, None, "the environment id (Tencent CloudBase) or your Twikoo server's address"),
        "region": (False, _text, "", "the CloudBase region, e.g. ap-guangzhou"),
        "lang": (False, _text, None, "a Twikoo language code such as zh-CN"),
        "src": (False, _url, "https://cdn.jsdelivr.net/npm/twikoo@1.6.44/dist/twikoo.all.min.js", "an http(s) address of twikoo.all.min.js, the version of your Twikoo backend"),
    },
}
_COMMON = {"provider", "options"}


def check_comments(value: Any, lines: dict[str, int], key_line: int, where: str, language: str,
                   diags: list[Diagnostic]) -> dict:
    """The settings for ``_comments.html``, or ``{}`` (no comments) with the errors in ``diags``.

    ``lines`` maps the keys under ``comments`` to their lines in ``where``;
    ``key_line`` is the line of ``comments:`` itself.  ``language`` (the
    site's) is the default ``lang``.
    """
    def error(line: int, message: str) -> dict:
        diags.append(Diagnostic(where, line, "error", f"{message}; comments are off until it is fixed"))
        return {}

    if value is None or value == {} or value is False:
        return {}
    if not isinstance(value, dict):
        return error(key_line, f"`comments` must be a mapping with a `provider` ({', '.join(PROVIDERS)}) and its settings, got {value!r}")
    provider = _text(value.get("provider"))
    if provider is None:
        return error(key_line, f"`comments` needs `provider: {' | '.join(PROVIDERS)}`")
    if provider not in PROVIDERS:
        return error(lines.get("provider", key_line), f"`comments.provider` must be one of {', '.join(PROVIDERS)}, got {provider!r}")
    settings = _SETTINGS[provider]
    out: dict[str, Any] = {"provider": provider}
    failed = False
    for name in value:
        if name not in settings and name not in _COMMON:
            hint = ", ".join(settings)
            diags.append(Diagnostic(where, lines.get(str(name), key_line), "warning", f"`comments.{name}` is not a {provider} setting and is ignored; {provider} takes {hint}"))
    for name, (required, check, default, what) in settings.items():
        raw = value.get(name)
        if raw is None or raw == "":
            if required:
                error(key_line, f"`comments` with provider {provider} needs `{name}`: {what}")
                failed = True
            out[name] = language if name == "lang" and default is None else default
            continue
        checked = check(raw)
        if checked is None:
            error(lines.get(name, key_line), f"`comments.{name}` must be {what}, got {raw!r}")
            failed = True
            continue
        out[name] = checked
    options = value.get("options", {})
    if provider != "giscus" and options:
        if not isinstance(options, dict) or not all(isinstance(v, (str, int, float, bool, type(None))) for v in options.values()):
            error(lines.get("options", key_line), f"`comments.options` must map {provider}'s init options to plain values, e.g. `options: {{pageview: true}}`")
            failed = True
        else:
            out["options"] = {str(k): v for k, v in options.items()}
    elif options:
        diags.append(Diagnostic(where, lines.get("options", key_line), "warning", "`comments.options` is for waline and twikoo; giscus takes its settings as keys of `comments`"))
    if failed:
        return {}
    out["init"] = init_options(out)
    return out


def init_options(comments: dict) -> dict:
    """The object passed to Waline's ``init`` or Twikoo's ``twikoo.init``."""
    provider = comments.get("provider")
    if provider == "waline":
        base = {"el": "#waline", "serverURL": comments["server_url"], "lang": comments["lang"], "dark": comments["dark"]}
    elif provider == "twikoo":
        base = {"envId": comments["env_id"], "el": "#tcomment", "lang": comments["lang"]}
        if comments.get("region"):
            base["region"] = comments["region"]
    else:
        return {}
    return {**comments.get("options", {}), **base}


def mapping_lines(root, key: str) -> dict[str, int]:
    """``{setting: line}`` for the mapping under ``key`` of the YAML node ``root`` (1-based lines)."""
    for item in getattr(root, "value", None) or []:
        if isinstance(item, tuple) and str(getattr(item[0], "value", "")) == key:
            value = item[1]
            if isinstance(getattr(value, "value", None), list):
                return {str(k.value): k.start_mark.line + 1 for k, _ in value.value if hasattr(k, "value")}
    return {}
