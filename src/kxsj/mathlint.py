"""What the site's MathJax would show as an error: unknown ``\\require``, macros and environments.

The names come from ``kxsj/data/mathjax_tex.json``, which
``scripts/mathjax_tex_names.py`` reads out of the vendored MathJax 3.2.2
(``static/mathjax/tex-chtml-full.js``) configured by
``static/js/mathjax-config.js``: the packages a page loads, and for every TeX
package MathJax ships, the macro and environment names of its parse maps.

Per post (MathJax keeps definitions for the whole page, so a macro defined in
one formula is known in all of them, and a ``\\require`` loads a package for
the page):

* ``\\require{name}``: the name is mapped as the page's config maps it
  (any case, so MathJax 2 names such as ``AMScd`` work; ``AMSmath`` is ``ams``); one MathJax does not know,
  or refuses to load, is an error in that formula;
* ``\\name``: neither a macro of the loaded packages nor defined in the post
  (``\\newcommand``, ``\\def``, ``\\let``, ``\\DeclareMathOperator``), so
  MathJax shows it in red;
* ``\\begin{name}``: no such environment.

The arguments of text macros (``\\text{…}``, ``\\mbox{…}``), labels, URLs and
the like are text, not TeX, and are skipped.  Unbalanced braces,
environments and ``\\left``/``\\right`` are ``kxsj.lint``'s.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Iterable, Iterator

from kxsj import mathscan

# Macros whose (first) argument MathJax reads as text or a name, not as TeX.
TEXT_ARGUMENT = frozenset(
    "text mbox hbox fbox textrm textit textbf textsf texttt textnormal textup textsl textmd "
    "label ref eqref tag href url class cssId style require color textcolor colorbox "
    "unicode mmlToken begin end".split()
)
_CS = re.compile(r"\\([A-Za-z]+|[^A-Za-z])", re.S)
_NAME_CHARS = re.compile(r"^[_a-zA-Z0-9]+$")
_CHECKED_ARGUMENT = frozenset({"begin", "require"})
"""Known names whose argument can still be a problem: an environment or a package MathJax does not know."""
_BEGIN_NAME = re.compile(r"\\begin[ \t\n*]*\{([^{}]*)\}")
# ``\newcommand{\name}``, ``\newcommand\name``, ``\newcommand{name}`` (MathJax
# takes the name with or without its backslash), ``\def\name``, ``\let\name``.
_DEFINES = re.compile(
    r"\\(?:(?:re)?newcommand|DeclareMathOperator)\s*\*?\s*"
    r"(?:\{\s*\\?([A-Za-z]+|[^A-Za-z\s])\s*\}|\\([A-Za-z]+|[^A-Za-z\s]))"
    r"|\\(?:def|let)\s*\\([A-Za-z]+|[^A-Za-z\s])"
)
_NEW_ENV = re.compile(r"\\(?:re)?newenvironment\s*\{([^{}]*)\}")
_REQUIRE = re.compile(r"\\require\s*\{\s*([^{}]*?)\s*\}")
EXCERPT = 40


@dataclass(frozen=True)
class MathJaxTex:
    """The TeX names of the site's MathJax, from the generated data file."""

    version: str
    page_packages: frozenset[str]
    macros: dict[str, frozenset[str]]
    environments: dict[str, frozenset[str]]
    require_allowed: frozenset[str]
    require_default_allow: bool
    v2_names: dict[str, str]
    known_names: dict = field(default_factory=dict, compare=False, repr=False)
    """``names`` per set of packages, made once."""

    def require_target(self, name: str) -> str | None:
        """The package ``\\require{name}`` loads on the page; ``""`` for none; None if unknown.

        The same mapping as ``kxsjRequireName`` in ``mathjax-config.js``.
        """
        lower = name.lower()
        if lower in self.v2_names:
            return self.v2_names[lower]
        return {p.lower(): p for p in self.macros if p != "base"}.get(lower)

    def require_problem(self, name: str) -> str | None:
        target = self.require_target(name)
        if target == "":
            return None
        if target is None or not _NAME_CHARS.match(name):
            return f"`\\require{{{name}}}`: MathJax {self.version} has no TeX extension of that name, so this formula shows an error"
        if target not in self.require_allowed and not self.require_default_allow:
            return f"`\\require{{{name}}}`: the site's MathJax does not load `{target}` on request, so this formula shows an error"
        return None

    def names(self, packages: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
        """All macro and environment names of ``packages`` (unknown ones ignored)."""
        packages = frozenset(packages)
        kept = self.known_names.get(packages)  # most posts load only the page's packages
        if kept is None:
            kept = self.known_names[packages] = self._names(packages)
        return kept

    def _names(self, packages: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
        macros: set[str] = set()
        envs: set[str] = set()
        for package in packages:
            macros |= self.macros.get(package, frozenset())
            envs |= self.environments.get(package, frozenset())
        return frozenset(macros), frozenset(envs)


@lru_cache(maxsize=1)
def mathjax_tex() -> MathJaxTex:
    raw = json.loads(resources.files("kxsj").joinpath("data/mathjax_tex.json").read_text(encoding="utf-8"))
    return MathJaxTex(
        version=raw["mathjax"],
        page_packages=frozenset(raw["page_packages"]),
        macros={k: frozenset(v["macros"]) for k, v in raw["packages"].items()},
        environments={k: frozenset(v["environments"]) for k, v in raw["packages"].items()},
        require_allowed=frozenset(raw["require_allowed"]),
        require_default_allow=bool(raw["require_default_allow"]),
        v2_names=dict(raw["require_v2_names"]),
    )


def _show(tex: str) -> str:
    one_line = " ".join(tex.split())
    return one_line if len(one_line) <= EXCERPT else one_line[: EXCERPT - 1] + "…"


def _skip_argument(tex: str, i: int) -> int:
    """Index after the argument starting at or after ``tex[i]`` (``*`` and spaces skipped)."""
    n = len(tex)
    while i < n and tex[i] in " \t\n*":
        i += 1
    if i >= n or tex[i] != "{":
        return i
    depth = 0
    while i < n:
        ch = tex[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def control_sequences(tex: str) -> Iterator[tuple[int, str, str]]:
    """``(offset, name, argument)`` for each ``\\name`` MathJax reads as TeX in ``tex``.

    ``argument`` is the braced name after ``\\begin``/``\\end``/``\\require``
    (else ``""``); the arguments of ``TEXT_ARGUMENT`` macros are skipped.
    """
    i = 0
    n = len(tex)
    while i < n:
        m = _CS.search(tex, i)
        if m is None:
            return
        name = m.group(1)
        i = m.end()
        argument = ""
        if name in TEXT_ARGUMENT:
            end = _skip_argument(tex, i)
            argument = tex[i:end].strip(" \t\n*").removeprefix("{").removesuffix("}").strip()
            i = end
        elif name == "verb" and i < n:
            close = tex.find(tex[i], i + 1)
            i = n if close < 0 else close + 1
        yield m.start(), name, argument


def _post_context(texts: list[str], data: MathJaxTex) -> tuple[frozenset[str], frozenset[str], set[str]]:
    """Macros and environments known in a post's formulas, and the packages it requires."""
    packages = set(data.page_packages)
    defined: set[str] = set()
    envs: set[str] = set()
    for tex in texts:
        if "\\" not in tex:
            continue
        for m in _REQUIRE.finditer(tex) if "require" in tex else ():
            target = data.require_target(m.group(1))
            if target:
                packages.add(target)
        if "command" in tex or "Declare" in tex or "def" in tex or "let" in tex:
            for m in _DEFINES.finditer(tex):
                defined.add(next(g for g in m.groups() if g))
        if "newenvironment" in tex:
            envs.update(m.group(1).strip() for m in _NEW_ENV.finditer(tex))
    macros, known_envs = data.names(packages)
    return macros | defined, known_envs | envs, packages


def mathjax_problems(body: str, spans: list[mathscan.MathSpan]) -> list[tuple[int, str]]:
    """``(offset in body, message)`` for what MathJax would not understand in ``spans``.

    An unknown macro or environment is reported at its first use in the
    post, with the number of formulas using it, not once per formula.
    """
    data = mathjax_tex()
    texts = [span.tex(body) for span in spans]
    macros, envs, _ = _post_context(texts, data)
    out: list[tuple[int, str]] = []
    first: dict[str, int] = {}  # "\\name" or "{env}" -> index in out
    uses: dict[str, set[int]] = {}
    for k, (span, tex) in enumerate(zip(spans, texts)):
        if "\\" not in tex:
            continue
        if _all_known(tex, macros, envs):
            continue
        for at, name, argument in control_sequences(tex):
            key, message = _problem(name, argument, macros, envs, data, tex)
            if message is None:
                continue
            if key is None:
                out.append((span.start + at, message))
                continue
            uses.setdefault(key, set()).add(k)
            if key not in first:
                first[key] = len(out)
                out.append((span.start + at, message))
    for key, index in first.items():
        more = len(uses[key]) - 1
        if more:
            offset, message = out[index]
            out[index] = (offset, f"{message} ({more} more formula{'s use' if more > 1 else ' uses'} it in this post)")
    return out


def _all_known(tex: str, macros: frozenset[str], envs: frozenset[str]) -> bool:
    """True when ``control_sequences(tex)`` can hold nothing ``_problem`` reports: the common case, decided by regexes.

    Every name written in ``tex`` is known, none is ``\\require``, and every
    ``\\begin{…}`` names a known environment.  ``control_sequences`` skips
    text arguments, so it sees a subset of what these searches see.
    """
    names = set(_CS.findall(tex))
    if not names <= macros or "require" in names:
        return False
    if "begin" not in names:
        return True
    found = [m.group(1).strip() for m in _BEGIN_NAME.finditer(tex)]
    return len(found) == tex.count("\\begin") and all(env in envs for env in found)


def _problem(name, argument, macros, envs, data: MathJaxTex, tex: str) -> tuple[str | None, str | None]:
    """``(dedup key or None, message or None)`` for one control sequence."""
    if name in (" ", "\t", "\n", "\r"):
        return None, None
    if name == "require":
        return None, data.require_problem(argument)
    if name == "begin" and argument and argument not in envs:
        return "{" + argument + "}", (
            f"formula `{_show(tex)}` uses the environment `{argument}`, which MathJax {data.version} does not know; it shows an error"
        )
    if name not in macros:
        return "\\" + name, (
            f"formula `{_show(tex)}` uses `\\{name}`, which MathJax {data.version} does not know, so it shows in red; "
            "fix the name or define it with `\\newcommand`"
        )
    return None, None
