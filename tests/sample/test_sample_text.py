"""The sample's text tables: on contract, deterministic, labelled, and consistent with the ledger."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from revbook import sample
from revbook.contract import TABLES

ACCOUNTS = 800
TYPES = {"string": pa.string(), "date": pa.date32()}


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return sample.generate(accounts=ACCOUNTS, seed=5, text=True)


@pytest.fixture(scope="module")
def labels() -> dict[str, pa.Table]:
    return sample.labels(accounts=ACCOUNTS, seed=5)


def test_text_is_opt_in_and_changes_no_other_table(tables: dict[str, pa.Table]) -> None:
    plain = sample.generate(accounts=ACCOUNTS, seed=5)
    assert set(tables) == set(plain) | {"churn_reasons", "notes"}
    for name, t in plain.items():
        assert tables[name].equals(t), name
    again = sample.generate(accounts=ACCOUNTS, seed=5, text=True)
    assert all(again[n].equals(tables[n]) for n in ("churn_reasons", "notes"))


@pytest.mark.parametrize("name", ["churn_reasons", "notes"])
def test_on_contract_with_unique_keys(tables: dict[str, pa.Table], name: str) -> None:
    t, contract = tables[name], TABLES[name]
    assert t.num_rows > 100
    for f in t.schema:
        assert f.type == TYPES[contract.column(f.name).type], (name, f.name)
    for c in contract.columns:
        if c.required:
            assert t[c.name].null_count == 0, c.name
    keys = t.select(list(contract.key)).group_by(list(contract.key)).aggregate([([], "count_all")])
    assert keys.num_rows == t.num_rows
    assert pc.max(t["date"]).as_py() <= sample.SampleConfig().as_of


def test_labels_cover_every_reason_row(tables: dict[str, pa.Table], labels: dict[str, pa.Table]) -> None:
    cr, lab = tables["churn_reasons"], labels["labels_churn_reasons"]
    assert cr.select(["account_id", "date"]).equals(lab.select(["account_id", "date"]))
    assert set(lab["movement"].to_pylist()) == {"churn", "contraction"}
    # every row carries its reason somewhere, except planted unknowns
    for r, truth in zip(cr.to_pylist(), lab.to_pylist(), strict=True):
        if truth["reason"] != "unknown":
            assert r["primary_reason"] or r["comment"]


def test_reasons_by_count_and_by_arr_differ(labels: dict[str, pa.Table]) -> None:
    lab = labels["labels_churn_reasons"]
    g = lab.group_by("reason").aggregate([("arr_lost_usd", "sum"), ("reason", "count")]).to_pylist()
    by_n = max(g, key=lambda r: r["reason_count"])["reason"]
    by_arr = max(g, key=lambda r: r["arr_lost_usd_sum"])["reason"]
    assert by_n == "price" and by_arr in ("champion_left", "acquisition")


def test_signal_labels_match_notes_and_include_hard_negatives(tables, labels) -> None:
    notes, lab = tables["notes"], labels["labels_signals"]
    keyed = {(r["account_id"], r["date"], r["author"]): r["text"] for r in notes.to_pylist()}
    for r in lab.to_pylist():
        assert keyed[(r["account_id"], r["date"], r["author"])] == r["text"]
    kinds = lab.group_by(["kind"]).aggregate([([], "count_all")]).to_pylist()
    assert {k["kind"] for k in kinds} == {"positive", "hard_negative"}
    texts = " ".join(lab.filter(pc.equal(lab["kind"], "hard_negative"))["text"].to_pylist())
    assert "not being acquired" in texts or "merger of two internal teams" in texts


def test_trigger_notes_precede_the_events_they_foreshadow(tables, labels) -> None:
    """A positive risk note is followed by a reason row of the same account within 170 days more often
    than a routine note is (the planted lift)."""
    reasons = {}
    for r in tables["churn_reasons"].to_pylist():
        reasons.setdefault(r["account_id"], []).append(r["date"])
    lab = labels["labels_signals"].to_pylist()
    flagged = {(r["account_id"], r["date"], r["author"]) for r in lab}

    def followed(acct: str, day) -> bool:
        return any(0 < (d - day).days <= 180 for d in reasons.get(acct, []))

    risk = [r for r in lab if r["kind"] == "positive" and r["polarity"] == "risk"]
    routine = [r for r in tables["notes"].to_pylist() if (r["account_id"], r["date"], r["author"]) not in flagged]
    rate = sum(followed(r["account_id"], r["date"]) for r in risk) / len(risk)
    base = sum(followed(r["account_id"], r["date"]) for r in routine) / len(routine)
    assert rate > 2 * base
