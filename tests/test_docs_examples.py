"""The Python examples of the README and docs/ run, or at least name only what exists.

Every ```python block is compiled and each revbook name it imports or reads (``from revbook.x import
y``, ``revbook.y``) must exist. The blocks a user can run on a workspace as they are (the README's,
the workbook's) are executed, in a folder holding a small sample company built as ``revbook demo``
builds it.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: blocks executed as they stand, by file (the others need Spark, a server or a name of the reader's)
RUN = {"README.md", "workbook.md"}


def blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


EXAMPLES = [(p.name, i, code) for p in DOCS for i, code in enumerate(blocks(p))]


def revbook_names(code: str) -> list[tuple[str, str | None]]:
    """(module, attribute) pairs the block takes from revbook."""
    tree = ast.parse(code)
    aliases = {"revbook"}
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "revbook":
            out += [(node.module or "revbook", a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "revbook":
                    out.append((a.name, None))
                    aliases.add(a.asname or a.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            out.append((node.value.id, node.attr))
    return out


def test_the_docs_hold_python_examples():
    assert {name for name, _, _ in EXAMPLES} >= RUN | {"dashboard.md", "scale.md"}


@pytest.mark.parametrize(("doc", "index", "code"), EXAMPLES, ids=[f"{d}-{i}" for d, i, _ in EXAMPLES])
def test_every_revbook_name_in_an_example_exists(doc, index, code):
    compile(code, f"{doc} block {index}", "exec")
    for module, attr in revbook_names(code):
        mod = importlib.import_module(module)
        if attr is not None and not hasattr(mod, attr):
            importlib.import_module(f"{module}.{attr}")  # a submodule, or the error names what is missing


def test_a_missing_name_is_caught():
    with pytest.raises(ModuleNotFoundError):
        test_every_revbook_name_in_an_example_exists("x.md", 0, "from revbook.nowhere import thing\n")
    with pytest.raises(ModuleNotFoundError):
        test_every_revbook_name_in_an_example_exists("x.md", 0, "import revbook\nrevbook.open_nothing()\n")


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs-demo") / "demo"
    from revbook.cli import app

    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["demo", "--accounts", "150", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize(
    ("doc", "index", "code"),
    [e for e in EXAMPLES if e[0] in RUN],
    ids=[f"{d}-{i}" for d, i, _ in EXAMPLES if d in RUN],
)
def test_the_runnable_examples_run(doc, index, code, demo_folder, tmp_path, monkeypatch):
    if "recalculate(" in code and shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: scripts/system-deps installs it")
    work = tmp_path / "work"
    shutil.copytree(demo_folder, work)
    monkeypatch.chdir(work)
    namespace: dict[str, object] = {"__name__": f"docs_{doc}"}
    exec(compile(code, f"{doc} block {index}", "exec"), namespace)
    if doc == "workbook.md":
        results = namespace["results"]
        assert results and all(status == "PASS" for _, status in results), results
    assert os.listdir(work)
