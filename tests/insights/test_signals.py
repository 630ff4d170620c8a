"""Trigger phrases in notes: every rule family, negation and hypotheticals, accuracy, lift, no leakage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from revbook import Config, Workspace, sample
from revbook.errors import ConfigError
from revbook.insights import find_signals, signal_accuracy, signal_features, signal_lift, signal_rules

ACCOUNTS = 1500
AS_OF = sample.SampleConfig().as_of

#: rule -> (positives, negations / hypotheticals / look-alikes that must not fire)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "acquisition": (
        ["We are being acquired by Hollis Group.", "They were acquired last month",
         "The merger with Oakbridge closes in May"],
        ["We are not being acquired.", "If we were acquired we would keep you.",
         "The merger of two internal teams went fine.", "Whether or not they get acquired, nothing changes"],
    ),
    "champion_left": (
        ["Our champion Sarah is leaving next month.", "A new VP of Sales started and reviews vendors"],
        ["Our champion Sarah is not leaving, she was promoted.", "If our champion left we'd be in trouble"],
    ),
    "budget_cut": (["Budget cuts across IT this quarter.", "Their budget was cut by 20%"],
                   ["No budget cuts this year.", "Budget was not cut after all", "If budget cuts come, they keep us"]),
    "layoffs_reorg": (["They laid off 10% of staff", "A reorganisation is underway"],
                      ["There were no layoffs.", "If layoffs happen they keep the tool"]),
    "competitor": (["They are evaluating Retainio.", "Saw a demo of Churnly last week"],
                   ["They are not evaluating other vendors.", "They are evaluating the new dashboard"]),
    "underuse": (["They're not using all the functionality.", "Only using about half of the features"],
                 ["They use all the functionality now"]),
    "cancel_intent": (["They will not be renewing in May.", "Plan is to downgrade to Professional at renewal"],
                      ["Cancelled Thursday's sync; will reschedule.", "No intention of cancelling, per Mateo"]),
    "exec_escalation": (["Their CFO emailed our CEO directly, furious about the outages."],
                        ["We escalated ticket #4177 to our engineering team."]),
    "payment_issue": (["Payment late again: the card on file was declined.", "They're withholding payment"],
                      ["AP confirmed the invoice was paid on November 3.",
                       "Their new AP policy asks what happens if a payment is late"]),
    "new_team": (["Another department wants access", "The HR team wants to roll it out too"],
                 ["No other department is interested.", "If another department wants access we'll talk"]),
    "hiring_growth": (["They are opening a new office in Berlin", "Closed a Series C and hiring 30 people"],
                      ["Their competitor raised a Series C.", "Hiring freeze announced across the board"]),
    "expansion_intent": (["Asked for 25 more seats.", "They're at 200/200 seats with a waitlist"],
                         ["No plans to add more seats.", "Reserved 28 seats at our user conference for them"]),
    "new_use_case": (["Bronwyn is interested in the Forecasting module and wants a demo."],
                     ["Hugo said the Audit Log module is not interesting for them right now."]),
    "renewal_commit": (["Mei confirmed verbally that they'll renew in June.", "Signed the 3-year renewal today!"],
                       ["Renewed the SSL certificate on their custom domain.",
                        "They will not commit to a renewal yet"]),
}  # fmt: skip

#: the polarity of each default rule
POLARITY = {
    "underuse": "both",
    **{r: "expansion" for r in ("new_team", "hiring_growth", "expansion_intent", "new_use_case", "renewal_commit")},
}


def _notes(texts: list[str], day: dt.date = dt.date(2024, 6, 1)) -> pa.Table:
    return pa.table(
        {
            "account_id": [f"A{i}" for i in range(len(texts))],
            "date": [day] * len(texts),
            "author": ["csm"] * len(texts),
            "text": texts,
        }
    )


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_fires_on_a_positive_and_not_on_its_negation(rule: str) -> None:
    positives, negatives = CASES[rule]
    hits = find_signals(_notes(positives + negatives)).to_pylist()
    fired = {int(h["account_id"][1:]) for h in hits if h["rule"] == rule}
    assert fired == set(range(len(positives))), [(h["rule"], h["sentence"]) for h in hits]
    assert {h["polarity"] for h in hits if h["rule"] == rule} == {POLARITY.get(rule, "risk")}
    # every hit names the phrase that fired and the model's confidence
    assert all(h["phrase"] and h["phrase"].lower() in h["sentence"].lower() for h in hits)
    assert all(h["confidence"] is not None and 0 <= h["confidence"] <= 1 for h in hits)


def test_hit_carries_sentence_date_account_and_rule() -> None:
    hits = find_signals(_notes(["QBR went fine. They are being acquired by Kestrel! Next call Friday."])).to_pylist()
    assert len(hits) == 1
    h = hits[0]
    assert (h["account_id"], h["date"], h["rule"], h["polarity"]) == ("A0", dt.date(2024, 6, 1), "acquisition", "risk")
    assert h["sentence"] == "They are being acquired by Kestrel"


def test_rules_are_configurable() -> None:
    rules = signal_rules({"pilot": {"patterns": [r"\bpilot (?:ends|ending)\b"], "polarity": "risk"}, "underuse": False})
    names = [r.name for r in rules]
    assert "pilot" in names and "underuse" not in names
    hits = find_signals(_notes(["The pilot ends in May", "not using all the functionality"]), rules=rules).to_pylist()
    assert [h["rule"] for h in hits] == ["pilot"]
    with pytest.raises(ConfigError, match="polarity"):
        signal_rules({"x": {"patterns": ["a"], "polarity": "maybe"}})
    with pytest.raises(ConfigError, match="RE2"):
        find_signals(_notes(["x"]), rules={"bad": {"patterns": [r"(?<=a)b"]}})


def test_bad_input_is_kept_as_text() -> None:
    big = "word " * 200_000 + "they are being acquired by Oakbridge"  # ~1 MB, one sentence
    texts = ["", "<b>They laid off half the team</b>", "caf\u00e9 \x00\x07 budget cuts announced", big, "\u2019"]
    hits = find_signals(_notes(texts)).to_pylist()
    by = {h["account_id"]: h for h in hits}
    assert "A0" not in by
    assert by["A1"]["rule"] == "layoffs_reorg" and by["A1"]["sentence"].startswith("<b>")
    assert by["A2"]["rule"] == "budget_cut"
    assert by["A3"]["rule"] == "acquisition" and len(by["A3"]["sentence"]) <= 1000
    with pytest.raises(ConfigError, match="lacks"):
        find_signals(pa.table({"account_id": ["A"], "text": ["x"]}))


def test_non_utf8_notes_load_and_match(tmp_path: Path) -> None:
    csv = tmp_path / "notes.csv"
    csv.write_bytes(
        "account_id,date,author,source,text\nA,2024-05-01,Zo\u00eb,call,Caf\u00e9: they were acquired\n".encode(
            "cp1252"
        )
    )
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id\nA\n")
    subs = tmp_path / "subs.csv"
    subs.write_text("account_id,subscription_id,start_date,mrr\nA,S,2024-01-01,100\n")
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2024, 12, 31))) as w:
        w.load({"accounts": accounts, "subscriptions": subs, "notes": csv})
        hits = find_signals(w).to_pylist()
    assert [(h["author"], h["rule"]) for h in hits] == [("Zo\u00eb", "acquisition")]
    assert hits[0]["sentence"] == "Caf\u00e9: they were acquired"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):
    tmp: Path = tmp_path_factory.mktemp("signals")
    paths = sample.write(tmp / "data", accounts=ACCOUNTS, text=True)
    w = Workspace(tmp / "w.duckdb", config=Config(as_of=AS_OF))
    w.load(paths)
    yield w
    w.close()


def test_accuracy_on_the_labelled_set_with_hard_negatives(ws: Workspace) -> None:
    """The sample's risk labels mean what the rules mean; its expansion labels were planted with an
    older split of the families (see docs/churn-reasons.md), so they are checked by what they say."""
    lab = sample.labels(accounts=ACCOUNTS)["labels_signals"]
    acc = {r["rule"]: r for r in signal_accuracy(ws, lab).to_pylist()}
    for rule in ("acquisition", "champion_left", "budget_cut", "layoffs_reorg", "competitor", "underuse"):
        assert acc[rule]["positives"] > 40 and acc[rule]["precision"] > 0.95 and acc[rule]["recall"] > 0.95, rule
    total = acc["(all)"]
    assert total["hard_negatives"] > 100 and total["hard_negative_pass_rate"] > 0.98
    # rules no sample note is labelled for are listed but left out of the total
    assert acc["exec_escalation"]["positives"] == 0 and total["positives"] == sum(
        acc[r]["positives"] for r in acc if r != "(all)"
    )
    # "another department wants access" (planted as expansion_intent) is new_team now; "25 more seats" stays
    hits = find_signals(ws).to_arrow().to_pylist()
    fired = {(h["account_id"], h["date"], h["rule"]) for h in hits}
    planted = [r for r in lab.to_pylist() if r["kind"] == "positive" and r["rule"] == "expansion_intent"]
    seats = [r for r in planted if "seat" in r["text"].lower() or "licen" in r["text"].lower()]
    department = [r for r in planted if "department wants access" in r["text"].lower()]
    assert len(seats) > 20 and len(department) > 20
    assert sum((r["account_id"], r["date"], "expansion_intent") in fired for r in seats) / len(seats) > 0.9
    assert sum((r["account_id"], r["date"], "new_team") in fired for r in department) / len(department) > 0.9


def test_lift_of_risk_and_expansion_signals(ws: Workspace) -> None:
    lift = {(r["rule"], r["horizon_days"]): r for r in signal_lift(ws).to_pylist()}
    base = lift[("(base)", 90)]
    assert 0 < base["risk_rate"] < 0.5 and base["risk_lift"] == 1
    for rule in ("acquisition", "champion_left", "budget_cut", "competitor"):
        assert lift[(rule, 180)]["risk_lift"] > 1.5, rule
    for rule in ("expansion_intent", "new_team", "hiring_growth"):
        assert lift[(rule, 180)]["expansion_lift"] > 1.5, rule


def test_signal_features_on_many_dates_equal_one_scan_per_date(ws: Workspace) -> None:
    """One scan of the notes over every date's span gives, on each date, the figures of a scan of
    that date's own windows alone (dates a month apart, so the windows overlap)."""
    from revbook.insights.signals.features import signal_features_on

    dates = [dt.date(2025, 3, 31), dt.date(2025, 4, 30), dt.date(2025, 6, 30), dt.date(2025, 12, 31)]
    together = signal_features_on(ws, dates).to_pylist()
    assert [r["as_of"] for r in together] == sorted(r["as_of"] for r in together)
    for day in dates:
        alone = signal_features(ws, day).to_pylist()
        assert alone == [r for r in together if r["as_of"] == day]
        assert sum(r["risk_signals_180d"] for r in alone) > 0


def test_signal_features_are_point_in_time(ws: Workspace) -> None:
    day = dt.date(2025, 6, 30)
    before = signal_features(ws, day).to_pylist()
    assert before and "acquisition_90d" in before[0] and "risk_signals_180d" in before[0]
    acct = before[0]["account_id"]
    # a note on the scoring day or after it is never read
    late = pa.table(
        {
            "account_id": [acct, acct],
            "date": [day, day + dt.timedelta(days=3)],
            "author": ["late", "later"],
            "source": ["note", "note"],
            "text": ["They are being acquired.", "Budget cuts announced."],
        }
    )
    notes = ws.table("notes").to_arrow()
    ws.load_frames({"notes": pa.concat_tables([notes, late.cast(notes.schema)])})
    try:
        assert signal_features(ws, day).to_pylist() == before
        after = {r["account_id"]: r for r in signal_features(ws, day + dt.timedelta(days=1)).to_pylist()}
        assert after[acct]["acquisition_90d"] == before[0]["acquisition_90d"] + 1
    finally:
        ws.load_frames({"notes": notes})
