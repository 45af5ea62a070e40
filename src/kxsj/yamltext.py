"""YAML as kxsj reads it: safe, dates kept as text, every error a ``YAMLError``.

PyYAML turns ``date: 2023-02-30`` into a ``ValueError`` deep in its
constructor, which would escape as a traceback; here dates stay strings and
the caller validates them with a message that names the key and line.
"""

from __future__ import annotations

import re

import yaml

MAX_ALIAS_NODES = 1000
"""Nodes that aliases (``*name``) may add to a document once expanded: a
424-byte "billion laughs" front matter would otherwise expand to millions."""
MAX_INT_DIGITS = 4000
"""Longest whole number read (Python refuses to convert over 4,300 digits)."""
_SURROGATE = re.compile("[\ud800-\udfff]")


class YamlLimitError(yaml.MarkedYAMLError):
    """YAML that parses but that kxsj refuses to construct (see ``check_nodes``)."""


def _limit_error(problem: str, node) -> YamlLimitError:
    return YamlLimitError(problem=problem, problem_mark=getattr(node, "start_mark", None))


def check_nodes(root) -> None:
    """Raise a ``YAMLError`` (with the line) for a node tree that must not be constructed.

    Refused: aliases that expand past ``MAX_ALIAS_NODES`` or refer to
    themselves, whole numbers too long to convert, and ``\\ud800``-style
    escapes of lone surrogates (not characters: no page could be written).
    Iterative and linear in the distinct nodes, however the aliases nest.
    """
    if root is None:
        return
    size: dict[int, int] = {}
    active: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            active.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            continue
        if key in size:
            continue
        if key in active:
            raise _limit_error("an alias refers to a node that contains it (a recursive alias)", node)
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(node)
            size[key] = 1
            continue
        active.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in active:
                raise _limit_error("an alias refers to a node that contains it (a recursive alias)", child)
            if id(child) not in size:
                stack.append((child, False))
    if size[id(root)] - len(size) > MAX_ALIAS_NODES:
        raise _limit_error(f"aliases (`*name`) expand to {size[id(root)]:,} values, over the limit of {MAX_ALIAS_NODES:,} added by aliases; write the values out", root)


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_scalar(node) -> None:
    value = node.value
    if _SURROGATE.search(value):
        raise _limit_error("a `\\uD800`-`\\uDFFF` escape is half of a character pair, not a character; write the character itself", node)
    if len(value) > MAX_INT_DIGITS and node.tag == "tag:yaml.org,2002:int":
        raise _limit_error(f"a whole number of {len(value):,} digits, over the limit of {MAX_INT_DIGITS:,}; quote it if it is text", node)


class _TextDateLoader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type."""


_TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _FastTextDateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same rules on libyaml's parser when PyYAML has it: C, so far faster on front matter (``benchmarks/README.md``)."""


_FastTextDateLoader.yaml_implicit_resolvers = _TextDateLoader.yaml_implicit_resolvers


def parse_yaml(text: str):
    """(data, node): the parsed value and its node tree (for line numbers).

    Parsed once with libyaml (front matter of thousands of posts is a
    large part of a build); text it rejects is parsed again in pure Python,
    so error messages and their line numbers stay exactly PyYAML's.
    """
    loader = _FastTextDateLoader(text)
    node = None
    try:
        node = loader.get_single_node()
        check_nodes(node)
        return (loader.construct_document(node) if node is not None else None), node
    except YamlLimitError:
        raise  # kxsj's own limits: the pure-Python parser would say the same, slower
    except yaml.YAMLError:
        pass
    except _UNREADABLE as exc:
        raise _limit_error(f"a value that cannot be read ({type(exc).__name__}: {exc})", node) from None
    finally:
        loader.dispose()
    try:
        node = yaml.compose(text, Loader=_TextDateLoader)
        check_nodes(node)
        loader = _TextDateLoader(text)
        try:
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError:
        raise
    except _UNREADABLE as exc:
        raise _limit_error(f"a value that cannot be read ({type(exc).__name__}: {exc})", None) from None
    return data, node


_UNREADABLE = (Exception,)
"""What PyYAML's constructors may raise besides ``YAMLError``: ``ValueError`` (a 5,000-digit number),
``OverflowError``, ``RecursionError``, ``IndexError`` (``!!int`` with no value)…; caught after ``YAMLError``."""


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
