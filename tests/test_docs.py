"""The documentation and the code cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_worked_example_in_the_definitions_is_a_test():
    doc = (ROOT / "docs" / "definitions.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)`", doc))
    assert len(named) >= 12
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    defined = set(re.findall(r"^def (test_\w+)", tests, flags=re.M))
    assert named <= defined, f"named in docs/definitions.md but not a test: {sorted(named - defined)}"


def test_every_setting_is_documented():
    from revbook.config import Config

    doc = (ROOT / "docs" / "definitions.md").read_text(encoding="utf-8") + (ROOT / "README.md").read_text(
        encoding="utf-8"
    )
    import revbook.config as config_module

    settings = set(Config.__dataclass_fields__) - {"workspace", "sources"}
    documented = {s for s in settings if s in (config_module.__doc__ or "")}
    assert documented == settings, f"not in revbook/config.py's docstring: {settings - documented}"
    assert {"churn_grace_days", "reactivation_as_new_after_months", "arr_bands", "mrr_source"} <= {
        s for s in settings if s in doc
    }


def test_readme_has_exactly_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./dev demo" in readme and "./dev test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "./dev test" in ci
