"""The modules of the sample, the file reader and the signals import each other one way, at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import revbook

SRC = Path(revbook.__file__).resolve().parent
PACKAGES = ("sample", "sources", "insights/signals")


def _imports(path: Path, siblings: set[str]) -> tuple[set[str], list[str]]:
    """(modules of the package imported at the top level, ``__init__`` for a name of the package
    itself; the package's modules or names imported inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: set[str] = set()
    nested: list[str] = []
    top_nodes = {id(n) for n in tree.body}
    top_nodes |= {id(n) for s in tree.body if isinstance(s, ast.If) for n in s.body}  # TYPE_CHECKING blocks
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level != 1:
            continue
        if node.module:
            names = [node.module.split(".")[0]]
        else:
            names = [a.name if a.name in siblings else "__init__" for a in node.names]
        if id(node) in top_nodes:
            top.update(names)
        else:
            nested.extend(names)
    return top, nested


@pytest.mark.parametrize("package", PACKAGES)
def test_no_cycle_and_no_lazy_sibling_import(package: str) -> None:
    folder = SRC / package
    modules = {p.stem: p for p in folder.glob("*.py") if p.stem != "__init__"}
    graph = {}
    for name, path in modules.items():
        top, nested = _imports(path, set(modules))
        assert not nested, f"{package}/{name}.py imports {nested} inside a function"
        assert "__init__" not in top, f"{package}/{name}.py imports from the package's __init__"
        graph[name] = top & set(modules)
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, f"import cycle in {package}: {' -> '.join((*trail, name))}"
        if name in done:
            return
        for dep in graph[name]:
            visit(dep, (*trail, name))
        done.add(name)

    for name in graph:
        visit(name, ())
