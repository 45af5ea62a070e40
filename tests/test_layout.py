"""The shape of ``src/kxsj``: no import cycle, no module over 400 lines, no function over 80.

Imports are read from the source (``ast``), not by importing it.  Every
``import kxsj…`` and ``from kxsj… import`` counts, relative ones resolved,
wherever it is written: an import inside a function is a cycle postponed to
the first call, not a cycle avoided, so it counts too; so does one under
``if TYPE_CHECKING:``, which names a dependency the design has even if it
never runs.  Importing ``kxsj.a.b`` is an edge to ``kxsj.a.b`` (not to the
package ``kxsj.a``, which Python imports first but which is no dependency of
the importer's own).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80

# Known violations, each a key of ``violations()``: none.  A rule that must be
# broken for a while is listed here with the reason, never silently.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / "kxsj").rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The kxsj modules ``name`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "kxsj")
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        if source.split(".")[0] != "kxsj":
            continue
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            out.add(sub if sub in known else source)
    out.discard(name)
    return out & known


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports(name, path, known) for name, path in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of two or more modules that reach each other (strongly connected), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph is a few hundred nodes
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(groups)


def shortest_cycle(graph: dict[str, set[str]], start: str, members: set[str]) -> list[str]:
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")


def violations() -> dict[str, str]:
    """What breaks a rule (``KNOWN_VIOLATIONS`` spells these keys) -> by how much."""
    found = {}
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES:
            found[f"module {name}"] = f"{lines} lines (at most {MAX_MODULE_LINES})"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found[f"function {name}.{node.name}"] = f"{length} lines (at most {MAX_FUNCTION_LINES})"
    graph = import_graph()
    for group in cycles(graph):
        found["cycle among " + ", ".join(group)] = " -> ".join(shortest_cycle(graph, group[0], set(group)))
    return found


def test_no_import_cycle_and_no_oversized_module_or_function():
    new = {key: why for key, why in violations().items() if key not in KNOWN_VIOLATIONS}
    assert not new, "\n".join(f"{key}: {why}" for key, why in sorted(new.items()))


def test_the_checks_can_fail():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert shortest_cycle(graph, "a", {"a", "b", "c"}) == ["a", "b", "c", "a"]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_function_level_and_relative_imports_are_edges(tmp_path):
    pkg = tmp_path / "kxsj" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "one.py").write_text("def f():\n    from . import two\n    from ..top import x\n", encoding="utf-8")
    known = {"kxsj.sub.one", "kxsj.sub.two", "kxsj.top"}
    assert imports("kxsj.sub.one", pkg / "one.py", known) == {"kxsj.sub.two", "kxsj.top"}
