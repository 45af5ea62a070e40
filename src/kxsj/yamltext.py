"""YAML as kxsj reads it: safe, dates kept as text, every error a ``YAMLError``.

PyYAML turns ``date: 2023-02-30`` into a ``ValueError`` deep in its
constructor, which would escape as a traceback; here dates stay strings and
the caller validates them with a message that names the key and line.
"""

from __future__ import annotations

import yaml


class _TextDateLoader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type."""


_TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _FastTextDateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same rules on libyaml's parser when PyYAML has it: about 12× faster on front matter."""


_FastTextDateLoader.yaml_implicit_resolvers = _TextDateLoader.yaml_implicit_resolvers


def parse_yaml(text: str):
    """(data, node): the parsed value and its node tree (for line numbers).

    Parsed once with libyaml (front matter of thousands of posts is a
    large part of a build); text it rejects is parsed again in pure Python,
    so error messages and their line numbers stay exactly PyYAML's.
    """
    loader = _FastTextDateLoader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    node = yaml.compose(text, Loader=_TextDateLoader)
    data = yaml.load(text, Loader=_TextDateLoader)
    return data, node


def error_line(exc: yaml.YAMLError, offset: int = 1) -> int:
    """1-based line of a YAML error, shifted by ``offset`` (where the YAML starts in its file)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return (mark.line if mark else 0) + offset


def key_lines(node, offset: int = 1) -> dict[str, int]:
    """``{key: line}`` for the keys of a mapping node."""
    out = {}
    if node is not None and isinstance(getattr(node, "value", None), list):
        for item in node.value:
            if isinstance(item, tuple):
                out[str(item[0].value)] = item[0].start_mark.line + offset
    return out
