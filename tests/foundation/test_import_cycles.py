"""No module of `harness` imports a module that imports it back, directly or around a longer loop.

The graph is read from the source with `ast` (nothing is imported), and it counts every
import statement, function-level ones included: a cycle hidden in a function body is still
a cycle (../shared/STYLE.md, "Package shape").
"""

from __future__ import annotations

import ast
from pathlib import Path

from harness.core.paths import ROOT

PACKAGE = ROOT / "harness"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str, modules: set[str]) -> set[str]:
    """The harness modules `path` imports; `from pkg import mod` counts as importing pkg.mod."""
    is_package = path.name == "__init__.py"
    deps: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            deps.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                deps.add(full if full in modules else base)
    return {d for d in deps if d in modules and d != name}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(p, name, modules) for name, p in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
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
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_sees_direct_and_longer_loops() -> None:
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(cycles(graph)) == [["a", "b"], ["c", "d", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_reader_counts_function_level_and_relative_imports(tmp_path: Path) -> None:
    mod = tmp_path / "m.py"
    mod.write_text("def f():\n    from harness.x import y\n    from . import z\nimport harness.w\n")
    modules = {"harness.x", "harness.x.y", "harness.p.z", "harness.w", "harness.p.m"}
    assert imports_of(mod, "harness.p.m", modules) == {"harness.x.y", "harness.p.z", "harness.w"}


def test_no_import_cycles_among_harness_modules() -> None:
    graph = import_graph()
    assert len(graph) > 50  # the walk found the package
    loops = cycles(graph)
    assert not loops, "modules that import each other (move the shared piece down a layer): " + "; ".join(
        " <-> ".join(c) for c in loops
    )
