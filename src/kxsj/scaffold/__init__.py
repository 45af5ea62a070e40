"""Starting a site and a post: ``kxsj init DIR`` and ``kxsj new "标题"``.

``init_site`` writes a site that builds at once (``kxsj build --strict``
passes on it): one example post with a formula, ``kxsj.yml`` with every key
commented (``config_text``), ``.gitignore``, and the GitHub Pages workflow —
kxsj's own ``.github/workflows/pages.yml`` with its install step pointed at
where kxsj comes from (``install_spec``).  It uses the templates and static
files shipped with kxsj; a site overrides one by adding a file of the same
name under its own ``templates/`` or ``static/``.

Neither ever overwrites a file: ``ScaffoldError`` says what is in the way.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional

from kxsj import __version__
from kxsj.assets import shipped_dir
from kxsj.config import CONFIG_NAME
from kxsj.scaffold.config_text import config_text

WORKFLOW = Path(".github") / "workflows" / "pages.yml"
INSTALL_STEP = "run: pip install .\n"
"""The install step of kxsj's own workflow, which installs the checkout it runs in."""


class ScaffoldError(Exception):
    """What stops ``init_site`` or ``new_post``, said so that the user can act on it."""


def _data(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def shipped_workflow() -> str:
    """kxsj's own Pages workflow: packaged beside the templates, or at the root of a checkout."""
    packaged = shipped_dir("templates").parent / "workflows" / "pages.yml"
    for path in (packaged, Path(__file__).resolve().parents[3] / WORKFLOW):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise ScaffoldError(f"kxsj's Pages workflow is missing (looked in {packaged}); reinstall kxsj")


def install_spec() -> str:
    """What a new site's workflow installs: the same source kxsj came from when that was a
    git repository (PEP 610's ``direct_url.json``), else this version from the package index."""
    try:
        from importlib.metadata import distribution

        direct = distribution("kxsj").read_text("direct_url.json")
        info = json.loads(direct) if direct else {}
    except Exception:  # no metadata (a bare source checkout) or unreadable: the index it is
        info = {}
    vcs = info.get("vcs_info") if isinstance(info, dict) else None
    url = info.get("url", "") if isinstance(info, dict) else ""
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and url.startswith("https://"):
        commit = vcs.get("commit_id", "")
        return f"kxsj @ git+{url}" + (f"@{commit}" if re.fullmatch(r"[0-9a-f]{40}", commit or "") else "")
    return f"kxsj=={__version__}"


def site_workflow(spec: str) -> str:
    """kxsj's own workflow, installing ``spec`` instead of the checkout it runs in."""
    text = shipped_workflow()
    if text.count(INSTALL_STEP) != 1:
        raise ScaffoldError(f"kxsj's Pages workflow has no single `{INSTALL_STEP.strip()}` step to adapt; reinstall kxsj")
    if any(ch in spec for ch in "'\n\r"):
        raise ScaffoldError(f"install target {spec!r} must not hold quotes or line breaks")
    return text.replace(INSTALL_STEP, f"run: pip install '{spec}'\n")


def _write_new(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise ScaffoldError(f"{path} already exists; not overwritten") from None


def init_site(dest: Path, title: Optional[str] = None, spec: Optional[str] = None, today: Optional[_dt.date] = None) -> list[Path]:
    """Write a new site into ``dest`` (new, or empty); return the files written."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ScaffoldError(f"{dest} is a file; give a folder for the new site")
    if dest.is_dir() and any(dest.iterdir()):
        raise ScaffoldError(f"{dest} is not empty; give a new or empty folder (nothing was written)")
    today = today or _dt.date.today()
    files = {
        CONFIG_NAME: config_text(title or dest.resolve().name or "kxsj"),
        "posts/hello-kxsj.md": _data("example.md").replace("{date}", today.isoformat()),
        ".gitignore": _data("gitignore"),
        WORKFLOW.as_posix(): site_workflow(spec or install_spec()),
    }
    written = []
    for rel, text in files.items():
        _write_new(dest / rel, text)
        written.append(dest / rel)
    return written


_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


def default_slug(title: str, today: _dt.date, taken: Iterable[str]) -> str:
    """The ASCII words of ``title`` joined by ``-`` (``"DDPM 拆楼"`` -> ``ddpm``); with none,
    ``YYYY-MM-DD-N``, the first N not ``taken``."""
    words = _ASCII_WORD.findall(title)
    if words:
        return "-".join(words).lower()[:80].strip("-")
    taken = set(taken)
    n = 1
    while f"{today.isoformat()}-{n}" in taken:
        n += 1
    return f"{today.isoformat()}-{n}"


def _names_in(posts_dir: Path) -> set[str]:
    """Names a new post's file or folder may not take: those of ``posts_dir``, suffixes off."""
    if not posts_dir.is_dir():
        return set()
    return {p.name.rsplit(".", 1)[0] if p.is_file() else p.name for p in posts_dir.iterdir()}


def new_post(posts_dir: Path, title: str, slug: Optional[str] = None, tags: Iterable[str] = (),
             categories: Iterable[str] = (), today: Optional[_dt.date] = None) -> Path:
    """Write ``posts_dir/<slug>.md`` with front matter and an empty body; return its path."""
    title = title.strip()
    if not title:
        raise ScaffoldError("the title is empty; give one, e.g. kxsj new \"生成扩散模型漫谈\"")
    today = today or _dt.date.today()
    slug = (slug or "").strip() or default_slug(title, today, _names_in(posts_dir))
    if not re.fullmatch(r"[^\s/\\.][^\s/\\]*", slug) or slug.endswith((".md", ".markdown")):
        raise ScaffoldError(f"slug {slug!r} must be one word without spaces or slashes, e.g. ddpm-1")
    path = posts_dir / f"{slug}.md"
    if (posts_dir / slug).exists():
        raise ScaffoldError(f"{posts_dir / slug} already exists; choose another --slug")
    lines = [
        "---",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"date: {today.isoformat()}",
        f"tags: {json.dumps([t for t in tags if t], ensure_ascii=False)}",
        f"categories: {json.dumps([c for c in categories if c], ensure_ascii=False)}",
        f"slug: {json.dumps(slug, ensure_ascii=False)}",
        "---",
        "",
        "",
    ]
    _write_new(path, "\n".join(lines))
    return path
