"""The package's layers: data flows one way (docs/architecture.md), with no import cycles.

Every import of a revbook module is read from the source (module level, inside functions, and under
``TYPE_CHECKING``), resolved to the module it names, and checked against :data:`LAYERS`: a module may
import its own layer or the ones below, never one above. The runtime imports (all but the
``TYPE_CHECKING`` ones) must form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "revbook"

#: lowest first; a module's layer is that of its longest matching prefix
LAYERS: list[tuple[str, ...]] = [
    ("revbook.errors", "revbook.definitions", "revbook.frame", "revbook.contract", "revbook.config"),
    ("revbook.sources", "revbook.sample"),
    ("revbook.engines",),
    ("revbook.store",),
    # the connectors read a source through its API or database and load it into a store
    ("revbook.sources.connectors", "revbook.sources.crm_map", "revbook.sources.hubspot", "revbook.sources.salesforce"),
    ("revbook.ledger",),
    ("revbook.metrics", "revbook.quality"),
    ("revbook.health", "revbook.insights"),
    ("revbook.rum", "revbook.impact"),
    ("revbook.workspace", "revbook.exports", "revbook"),
    ("revbook.reports",),
    ("revbook.web", "revbook.assistant"),
    ("revbook.cli",),
]
#: the sample company is generated for the demo and the tests, never read by the product
SAMPLE_READERS = ("revbook.cli", "revbook.sample")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported module, line, typing_only) for every revbook import in ``path``."""
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    found: list[tuple[str, int, bool]] = []

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    def visit(node: ast.AST, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for stmt in child.body:
                    visit_one(stmt, True)
                for stmt in child.orelse:
                    visit_one(stmt, typing_only)
                continue
            visit_one(child, typing_only)

    def visit_one(child: ast.AST, typing_only: bool) -> None:
        if isinstance(child, ast.Import):
            for alias in child.names:
                if alias.name.split(".")[0] == "revbook" and (m := resolve(alias.name)):
                    found.append((m, child.lineno, typing_only))
        elif isinstance(child, ast.ImportFrom):
            if child.level:
                parent = base[: len(base) - (child.level - 1)]
                mod = ".".join(parent + ([child.module] if child.module else []))
            else:
                mod = child.module or ""
            if mod.split(".")[0] == "revbook":
                for alias in child.names:  # `from . import x` may name a submodule
                    m = resolve(f"{mod}.{alias.name}") if f"{mod}.{alias.name}" in known else resolve(mod)
                    if m:
                        found.append((m, child.lineno, typing_only))
        visit(child, typing_only)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return [(m, line, tc) for m, line, tc in found if m != name]


def layer_of(name: str) -> int:
    best, depth = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            inside = name == prefix or (prefix != "revbook" and name.startswith(prefix + "."))
            if inside and prefix.count(".") > depth:
                best, depth = i, prefix.count(".")
    if best < 0:
        raise AssertionError(f"{name} is in no layer: add it to LAYERS and to docs/architecture.md")
    return best


def graph() -> dict[str, list[tuple[str, int, bool]]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def upward_imports(g: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    bad = []
    for name, targets in g.items():
        for target, line, _ in targets:
            if name == "revbook" and target != "revbook":
                # the package's __init__ is the public API: it re-exports from below the surfaces only
                if layer_of(target) > layer_of("revbook.workspace"):
                    bad.append(f"{name}:{line} imports {target}")
                continue
            if layer_of(target) > layer_of(name):
                bad.append(f"{name}:{line} imports {target} (a layer above)")
            if target.startswith("revbook.sample") and not name.startswith(SAMPLE_READERS):
                bad.append(f"{name}:{line} imports the sample company {target}")
    return bad


def cycles(g: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """Strongly connected components of more than one module among runtime imports (Tarjan)."""
    edges = {n: sorted({t for t, _, tc in ts if not tc}) for n, ts in g.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, []):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            connect(v)
    return out


def test_every_module_sits_in_a_layer():
    for name in modules():
        layer_of(name)


def test_no_module_imports_a_layer_above_it():
    assert upward_imports(graph()) == []


def test_no_import_cycles():
    # a package __init__ importing its own submodules (to re-export them) is not a cycle of layers,
    # but a submodule importing its package's __init__ back at runtime would be: both count here
    assert cycles(graph()) == []


def test_the_checks_can_fail():
    g = {
        "revbook.ledger": [("revbook.metrics.book", 1, False)],
        "revbook.metrics.book": [("revbook.ledger", 2, False)],
        "revbook.health.features": [("revbook.sample.text", 3, True)],
    }
    assert cycles(g) == [["revbook.ledger", "revbook.metrics.book"]]
    bad = upward_imports(g)
    assert "revbook.ledger:1 imports revbook.metrics.book (a layer above)" in bad
    assert "revbook.health.features:3 imports the sample company revbook.sample.text" in bad
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("somewhere.else")


def test_modules_stay_short():
    """Split by feature before ~500 lines (data tables excepted)."""
    long = {
        module_name(p): n for p in PKG.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520
    }
    assert long == {}
