"""The cs-notes corpus: the fixed split, the held-out figures the docs keep, the shipped model rebuilt
from the development part, training on a user's own labelled notes, and `signals --eval` on them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from revbook.errors import ConfigError, SourceError
from revbook.insights import find_signals
from revbook.insights.signals import corpus
from revbook.insights.signals.model import SignalModel, candidate_terms, default_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
import signal_corpus as sc


@pytest.fixture(scope="module")
def split() -> tuple[pa.Table, pa.Table]:
    return sc.parts()


def test_the_corpus_is_the_published_file() -> None:
    digest = hashlib.sha256(sc.CORPUS.read_bytes()).hexdigest()
    assert digest == "3335177836906ebadd56809455d04fac31384ef582059afe541251612e5397f1"


def test_split_is_by_account_deterministic_and_disjoint(split: tuple[pa.Table, pa.Table]) -> None:
    dev, held = split
    again_dev, again_held = sc.parts()
    assert dev.equals(again_dev) and held.equals(again_held)
    dev_accounts = set(dev.column("account_id").to_pylist())
    held_accounts = set(held.column("account_id").to_pylist())
    assert not dev_accounts & held_accounts
    assert (dev.num_rows, held.num_rows, len(dev_accounts), len(held_accounts)) == (426, 274, 75, 45)
    assert set(dev.column("note_id").to_pylist()).isdisjoint(held.column("note_id").to_pylist())
    # the rule, by hand: the first 8 hex digits of sha256("cs-notes-4:<account>") mod 100 below 35
    for account in ("A001", "A002", "A120"):
        expected = int(hashlib.sha256(f"cs-notes-4:{account}".encode()).hexdigest()[:8], 16) % 100 < 35
        assert corpus.held_out(account) is expected
        assert (account in held_accounts) is expected


def test_every_label_is_held_out_at_least_six_times(split: tuple[pa.Table, pa.Table]) -> None:
    _, held = split
    counts: dict[str, int] = {}
    for labels in held.column("labels").to_pylist():
        for rule in labels:
            counts[rule] = counts.get(rule, 0) + 1
    assert len(counts) == 14 and min(counts.values()) >= 6
    assert sum(held.column("hard_negative").to_pylist()) == 88


def test_reading_maps_the_corpus_labels_and_the_imitated_ones(split: tuple[pa.Table, pa.Table]) -> None:
    dev, held = split
    rows = {r["note_id"]: r for r in [*dev.to_pylist(), *held.to_pylist()]}
    assert rows["N0006"]["labels"] == ["expansion_intent", "new_team"]  # more_seats is expansion_intent
    assert rows["N0006"]["hard_negative"] and rows["N0006"]["imitates"] == ["acquisition"]
    assert rows["N0056"]["imitates"] == ["budget_cut", "underuse"]
    assert rows["N0001"]["labels"] == ["cancel_intent"] and rows["N0001"]["imitates"] == []


def test_the_shipped_model_is_rebuilt_from_the_dev_split_exactly() -> None:
    built = sc.build_model()
    assert built.to_dict() == json.loads(sc.SHIPPED.read_text(encoding="utf-8"))
    assert built.to_dict() == sc.build_model().to_dict()  # deterministic
    assert default_model().to_dict() == built.to_dict()


def test_the_held_out_figures_in_the_docs_are_what_the_evaluation_computes() -> None:
    assert sc.documented_table() == sc.held_out_table()


def test_note_accuracy_by_hand() -> None:
    notes = pa.table(
        {
            "note_id": ["n1", "n2", "n3", "n4"],
            "account_id": ["A", "B", "C", "D"],
            "date": [dt.date(2025, 1, 1)] * 4,
            "author": [None] * 4,
            "source": [None] * 4,
            "text": [
                "They are being acquired by Northstar.",  # acquisition, right
                "The merger of two internal teams went fine. Budget cuts across IT.",  # budget_cut, unlabelled
                "We are not being acquired.",  # a hard negative that holds
                "Their renewal is in May.",  # labelled budget_cut, missed
            ],
            "labels": [["acquisition"], [], [], ["budget_cut"]],
            "hard_negative": [False, True, True, False],
            "imitates": [[], ["acquisition"], ["acquisition"], []],
        }
    )
    rows = {r["rule"]: r for r in corpus.note_accuracy(notes, model=False).to_pylist()}
    acq, cut, total = rows["acquisition"], rows["budget_cut"], rows["(all)"]
    assert (acq["positives"], acq["fired"], acq["true_positives"], acq["f1"]) == (1, 1, 1, 1.0)
    assert (acq["hard_negatives"], acq["hard_negative_fires"]) == (2, 0)
    assert (cut["positives"], cut["fired"], cut["true_positives"], cut["precision"], cut["recall"]) == (1, 1, 0, 0, 0)
    # (all): 2 positives, 2 fired, 1 right; hard negative n2 fires budget_cut it does not carry: 1 of 2
    assert (total["positives"], total["fired"], total["true_positives"]) == (2, 2, 1)
    assert total["f1"] == pytest.approx(0.5)
    assert (total["hard_negatives"], total["hard_negative_fires"], total["hard_negative_fire_rate"]) == (2, 1, 0.5)
    table = corpus.accuracy_table(corpus.note_accuracy(notes, model=False))
    assert "| acquisition | acquisition_merger | 1 | 1 | 1.000 | 1.000 | 1.000 | 2 | 0 |" in table
    assert table.splitlines()[-1] == "| (all) |  | 2 | 2 | 0.500 | 0.500 | 0.500 | 2 | 1 (50.0%) |"


def _write_labelled(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = ["account_id,date,text,labels,hard_negative"]
    lines += [f'{a},{d},"{t}",{lab},{"true" if not lab else "false"}' for a, d, t, lab in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _own_notes(tmp_path: Path) -> Path:
    rows = []
    for i in range(12):
        rows.append((f"A{i}", "2025-02-01", f"They are being acquired by Buyer{i}.", "acquisition"))
        rows.append((f"B{i}", "2025-02-01", f"We are not being acquired, said contact {i}.", ""))
        rows.append((f"C{i}", "2025-02-01", f"Asked for {i + 2} more seats.", "more_seats"))
        rows.append((f"D{i}", "2025-02-01", f"Their acquisition funnel dashboard is live for region {i}.", ""))
    return _write_labelled(tmp_path / "mine.csv", rows)


def test_a_model_trains_on_the_users_own_notes_saves_and_scores(tmp_path: Path) -> None:
    notes = corpus.read_labelled_notes(_own_notes(tmp_path))
    model = corpus.train_signal_model(notes)
    again = corpus.train_signal_model(notes)
    assert model.to_dict() == again.to_dict()
    assert set(model.families) == {"acquisition", "expansion_intent"}
    assert model.trained_on_ > 24
    saved = model.save(tmp_path / "model.json")
    loaded = SignalModel.load(saved)
    assert loaded.to_dict() == model.to_dict()
    # the rules and scope let "their acquisition funnel" through; the user's model learns to stop it
    text = notes.select(["account_id", "date", "text"])
    by_rules = {(h["account_id"][0], h["rule"]) for h in find_signals(text, model=False).to_pylist()}
    assert by_rules == {("A", "acquisition"), ("C", "expansion_intent"), ("D", "acquisition")}
    hits = find_signals(text, model=saved).to_pylist()
    assert {(h["account_id"][0], h["rule"]) for h in hits} == {("A", "acquisition"), ("C", "expansion_intent")}
    assert len(hits) == 24
    funnel = model.confidence("acquisition", "Their acquisition funnel dashboard is live", "acquisition", None)
    real = model.confidence("acquisition", "They are being acquired by Buyer3", "being acquired", None)
    assert funnel is not None and real is not None
    assert funnel < model.threshold_["acquisition"] <= real
    assert model.confidence("payment_issue", "Invoice overdue", "overdue", None) is None


def test_candidate_terms() -> None:
    terms = candidate_terms("budget_cut", "Budget cuts, again", "Budget cuts", None)
    assert terms == {
        "rule:budget_cut", "scope:in", "w:budget", "w:cuts", "w:again", "b:budget cuts", "b:cuts again",
        "budget_cut|w:budget", "budget_cut|w:cuts", "budget_cut|w:again", "budget_cut|p:budget", "budget_cut|p:cuts",
    }  # fmt: skip


def test_bad_labelled_notes_and_models_are_clear_errors(tmp_path: Path) -> None:
    bad = _write_labelled(tmp_path / "bad.csv", [("A", "2025-02-01", "x", "acquisition;rumour")])
    with pytest.raises(SourceError, match="unknown signal label 'rumour'") as err:
        corpus.read_labelled_notes(bad)
    assert "row 2" in str(err.value)
    baddate = _write_labelled(tmp_path / "date.csv", [("A", "01/02/2025", "x", "")])
    with pytest.raises(SourceError, match="date") as err:
        corpus.read_labelled_notes(baddate)
    assert err.value.row == 2 and err.value.column == "date"  # type: ignore[attr-defined]
    (tmp_path / "nolabels.csv").write_text("account_id,date,text\nA,2025-01-01,x\n", encoding="utf-8")
    with pytest.raises(SourceError, match="labels"):
        corpus.read_labelled_notes(tmp_path / "nolabels.csv")
    (tmp_path / "m.json").write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a revbook signal model"):
        SignalModel.load(tmp_path / "m.json")
    with pytest.raises(ConfigError, match="cannot read"):
        SignalModel.load(tmp_path / "missing.json")
    few = corpus.read_labelled_notes(_write_labelled(tmp_path / "few.csv", [("A", "2025-02-01", "x", "")]))
    with pytest.raises(ConfigError, match="too few"):
        corpus.train_signal_model(few)


def test_signals_eval_prints_each_family_and_the_hard_negatives(tmp_path: Path) -> None:
    from revbook.cli import app

    labelled = _own_notes(tmp_path)
    result = CliRunner().invoke(
        app, ["signals", "--eval", "--labels", str(labelled), "--format", "csv"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    import csv
    import io

    rows = {r["rule"]: r for r in csv.DictReader(io.StringIO(result.output))}
    acq, seats, total = rows["acquisition"], rows["expansion_intent"], rows["(all)"]
    # the shipped model: the 12 acquisitions and the 12 funnel dashboards fire; the negations do not
    assert (acq["positives"], acq["fired"], acq["true_positives"]) == ("12", "24", "12")
    assert float(acq["precision"]) == 0.5 and float(acq["recall"]) == 1.0
    assert (seats["positives"], seats["fired"], seats["true_positives"]) == ("12", "12", "12")
    assert (total["hard_negatives"], total["hard_negative_fires"]) == ("24", "12")
    assert float(total["hard_negative_fire_rate"]) == 0.5
    table = CliRunner().invoke(app, ["signals", "--eval", "--labels", str(labelled)], catch_exceptions=False)
    assert "hard negatives firing 12 of 24 (50.0%)" in table.output


def test_a_confidence_is_the_same_in_every_process():
    """A confidence does not depend on the order Python hashes strings in (it changes per process):
    exported signals are byte-identical from run to run."""
    import os
    import subprocess

    code = (
        "from revbook.insights.signals.model import default_model; m = default_model(); "
        "print(repr([m.confidence(r, s, p) for r, s, p in ["
        "('underuse', \"They aren't using the reporting module at all\", \"n't using\"), "
        "('champion_left', 'Priya, our champion, is leaving the company next month', 'champion, is leaving'), "
        "('budget_cut', 'They have to cut costs and are reviewing every subscription', 'cut costs')]]))"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True
        ).stdout
        for seed in map(str, range(1, 13))
    }
    assert len(outs) == 1 and "None" not in next(iter(outs)), outs
