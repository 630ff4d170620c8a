"""The data contract: declared once, documented from the declaration."""

from __future__ import annotations

from pathlib import Path

from revbook import contract

DOCS = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def test_docs_page_matches_the_contract():
    assert DOCS.read_text(encoding="utf-8") == contract.markdown(), "regenerate docs/data-contract.md"


def test_every_design_table_is_declared():
    design = {
        "accounts",
        "subscriptions",
        "invoices",
        "owners",
        "people",
        "account_history",
        "usage",
        "tickets",
        "activities",
        "milestones",
        "surveys",
        "churn_reasons",
        "opportunities",
        "notes",
        "fx_rates",
    }
    assert set(contract.TABLES) == design
    assert set(contract.LOADABLE_TABLES) == design


def test_columns_are_unique_and_keys_exist():
    for t in contract.TABLES.values():
        assert len(t.names) == len(set(t.names)), t.name
        assert set(t.key) <= set(t.names), t.name
        for group in t.one_of:
            assert set(group) <= set(t.names)
        for start, end in t.ordered:
            assert t.column(start).type == t.column(end).type == "date"


def test_money_columns_are_decimal_never_double():
    for t in contract.TABLES.values():
        for c in t.columns:
            assert "DOUBLE" not in c.sql_type and "FLOAT" not in c.sql_type
    assert contract.TABLES["fx_rates"].column("rate_to_reporting").sql_type == "DECIMAL(18,8)"
    assert contract.CURRENCY_MINOR_UNITS["JPY"] == 0 and contract.CURRENCY_MINOR_UNITS["USD"] == 2
