"""``kxsj.yml`` for a new site, written from ``kxsj.config.Config`` itself.

Each key's comment is its docstring in ``Config`` and its commented-out value
its default there, so the file cannot drift from the keys kxsj reads.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import MISSING, fields

import yaml

from kxsj.config import CONFIG_NAME, Config


def field_docs(cls: type = Config) -> dict[str, str]:
    """``field name -> docstring`` of a dataclass: the string just below each field."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    docs: dict[str, str] = {}
    for node, after in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
            docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _default(f):
    return f.default_factory() if f.default_factory is not MISSING else f.default


def _plain(doc: str) -> str:
    """A docstring as a comment reads it: reST literals ````x```` as ```x```."""
    return doc.replace("``", "`")


def config_text(title: str) -> str:
    """The text of a new site's ``kxsj.yml``: ``title`` set, every other key commented out at its default."""
    docs = field_docs()
    out = [f"# {CONFIG_NAME}: this site's settings. Every key is optional; the commented-out",
           "# value is the default. Uncomment a line to change it.", ""]
    for f in fields(Config):
        if f.name == "path":
            continue
        for line in _plain(docs.get(f.name, "")).splitlines():
            out.append(f"# {line}".rstrip())
        value = title if f.name == "title" else _default(f)
        line = yaml.safe_dump({f.name: value}, allow_unicode=True, default_flow_style=True, width=1000).strip()
        line = line[1:-1] if line.startswith("{") else line  # {key: value} -> key: value
        out.append(line if f.name == "title" else f"# {line}")
        out.append("")
    return "\n".join(out)
