"""Save verification: flags, episodes, the renewal rule, the verdict and the point-in-time model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from revbook import Config, ConfigError, Workspace, sample
from revbook.config import HealthSettings, SavesSettings, config_from_mapping
from revbook.impact.saves import SAVE_VERDICTS, episodes, flags, saves, saves_summary, verdict
from revbook.impact.saves_model import Score, model_scorer
from support import AS_OF, write

D = dt.date


def _qbrs(accounts: str, first: D, last: D) -> list[str]:
    """A QBR on the 20th of every month: engagement stays green, so no red health flag."""
    rows, day = [], first
    while day <= last:
        rows += [f"{a},{day.isoformat()},qbr,completed" for a in accounts]
        day = D(day.year + day.month // 12, day.month % 12 + 1, 20)
    return rows


@pytest.fixture
def company(tmp_path: Path) -> Workspace:
    """Six accounts whose outcome after a flag is known by construction (as of 2024-12-31).

    A: yearly, contract end 2024-07-01, renewed at the same MRR; save_play 2024-03-10 and a rescue
       call 52 days later (one episode), a cancellation request 2024-09-15 (a second episode, its
       renewal 2025-07-01 still to come). CSM P1 until 2024-06-01, then P2.
    B: yearly, contract end 2024-09-01, save_play 2024-06-01, left at the contract end.
    C: monthly, no contract end, escalation call 2024-02-01, still paying 180 days later.
    D: monthly, save opportunity 2024-02-15, down to a third of its MRR on 2024-05-01.
    E: a save_play on 2024-03-01, a month before it first paid: no flag.
    F: monthly, a save outcome of a call 2024-04-01, still paying (mid_market).
    """
    d = tmp_path / "data"
    d.mkdir()
    acts = [
        *_qbrs("ABCDEF", D(2023, 7, 20), D(2024, 12, 20)),
        "A,2024-03-10,save_play,saved",
        "A,2024-05-01,rescue_call,completed",
        "B,2024-06-01,save_play,saved",
        "C,2024-02-01,escalation_call,completed",
        "E,2024-03-01,save_play,saved",
        "F,2024-04-01,call,save_attempt",
    ]
    files = {
        "accounts": write(
            d / "accounts.csv",
            "account_id,segment\nA,smb\nB,smb\nC,mid_market\nD,smb\nE,smb\nF,mid_market\n",
        ),
        "subscriptions": write(
            d / "subscriptions.csv",
            "account_id,subscription_id,start_date,end_date,mrr,billing_period_months,contract_end_date,"
            "cancel_requested_at\n"
            "A,S1,2023-07-01,2024-07-01,1000,12,2024-07-01,\n"
            "A,S2,2024-07-01,,1000,12,2025-07-01,2024-09-15\n"
            "B,S3,2023-09-01,2024-09-01,500,12,2024-09-01,\n"
            "C,S4,2024-01-01,,203.37,1,,\n"
            "D,S5,2024-01-01,2024-05-01,300,1,,\n"
            "D,S6,2024-05-01,,100,1,,\n"
            "E,S7,2024-04-01,,100,1,,\n"
            "F,S8,2024-01-01,,250,1,,\n",
        ),
        "owners": write(
            d / "owners.csv",
            "account_id,owner_id,role,start_date,end_date\nA,P1,csm,2023-01-01,2024-06-01\n"
            "A,P2,csm,2024-06-01,\nB,P1,csm,2023-01-01,\nC,P2,csm,2023-01-01,\n",
        ),
        "activities": write(d / "activities.csv", "account_id,date,type,outcome\n" + "\n".join(acts) + "\n"),
        "opportunities": write(
            d / "opportunities.csv",
            "account_id,opportunity_id,kind,stage,created_at\nD,O1,renewal,save,2024-02-15\n"
            "D,O2,expansion,open,2024-03-01\n",
        ),
    }
    ws = Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF))
    ws.load(files)
    yield ws
    ws.close()


def test_flags_are_dated_when_known_and_only_of_paying_accounts(company):
    got = {(r["account_id"], r["flag_date"], r["kind"]) for r in flags(company, start="2024-01-01").to_pylist()}
    assert {
        ("A", D(2024, 3, 10), "save_activity"),
        ("A", D(2024, 5, 1), "save_activity"),
        ("A", D(2024, 9, 15), "cancel_request"),
        ("B", D(2024, 6, 1), "save_activity"),
        ("C", D(2024, 2, 1), "save_activity"),
        ("D", D(2024, 2, 15), "save_opportunity"),
        ("F", D(2024, 4, 1), "save_activity"),
    } <= got
    assert not any(a == "E" for a, _, _ in got)  # flagged before it paid
    # the cancellation request caps the composite in the red band on the month ends after it
    red = sorted(d for a, d, k in got if k == "red_health")
    assert red and all(a == "A" and d >= D(2024, 9, 30) for a, d, k in got if k == "red_health")
    assert {k for _, _, k in got} == {"save_activity", "cancel_request", "save_opportunity", "red_health"}


def test_episodes_merge_flags_and_follow_the_renewal_rule(company):
    rows = {(r["account_id"], r["flag_date"]): r for r in episodes(company, start="2024-01-01").to_pylist()}
    a1 = rows[("A", D(2024, 3, 10))]
    # the rescue call 52 days later is the same episode; the cancel request 137 days after it is not
    assert (a1["flags"], a1["last_flag"], a1["flag_kinds"]) == (2, D(2024, 5, 1), "save_activity")
    assert (a1["check_date"], a1["check"], a1["outcome"]) == (D(2024, 7, 1), "renewal", "renewed")
    assert a1["owner"] == "P1" and a1["segment"] == "smb"  # the CSM on the flag date, not today's P2
    assert (a1["arr"], a1["arr_at_check"]) == (Decimal("12000.00"), Decimal("12000.00"))
    a2 = rows[("A", D(2024, 9, 15))]
    # Sep 15, then red on the month ends Sep 30, Oct 31, Nov 30 and Dec 31
    assert a2["flag_kinds"] == "red_health, cancel_request" and a2["flags"] == 5
    assert (a2["check_date"], a2["outcome"], a2["arr_at_check"]) == (D(2025, 7, 1), "pending", None)
    assert a2["owner"] == "P2"
    b = rows[("B", D(2024, 6, 1))]
    assert (b["check_date"], b["outcome"], b["arr_at_check"]) == (D(2024, 9, 1), "churned", Decimal("0.00"))
    c = rows[("C", D(2024, 2, 1))]
    assert (c["check_date"], c["check"], c["outcome"]) == (D(2024, 7, 30), "horizon", "renewed")  # 180 days on
    dd = rows[("D", D(2024, 2, 15))]
    # 100 a month on the check date against 300 before the flag: below half of it
    assert (dd["check_date"], dd["outcome"], dd["arr_at_check"]) == (D(2024, 8, 13), "contracted", Decimal("1200.00"))


def test_a_longer_episode_window_merges_the_second_flag(company):
    merged = Workspace(company.path, config=company.config.with_(saves=SavesSettings(episode_days=140)))
    try:
        rows = [r for r in episodes(merged, start="2024-01-01").to_pylist() if r["account_id"] == "A"]
    finally:
        merged.close()
    assert [(r["flag_date"], r["flags"], r["outcome"]) for r in rows] == [(D(2024, 3, 10), 7, "renewed")]


def _fixed(probabilities: dict[str, Score]):
    def scorer(store, eps):
        return [probabilities[a] for a, _, _ in eps]

    return scorer


def test_saves_worked_example_verdicts_and_expected_arr(company):
    """A renewed: p 35% against a base rate of 10% -> credible; C: 12.3456% against 10% -> uncertain (above
    the base rate, below 2 x 10% = 20%); F: 8% against 10% -> never really at risk. Churned B, contracted D
    and pending A (second episode) are no saves."""
    scorer = _fixed({"A": Score(0.35, 0.10), "C": Score(0.123456, 0.10), "F": Score(0.08, 0.10)})
    rows = {r["account_id"]: r for r in saves(company, start="2024-01-01", scorer=scorer).to_pylist()}
    assert set(rows) == {"A", "C", "F"}
    assert [rows[a]["verdict"] for a in "ACF"] == ["credible", "uncertain", "never_at_risk"]
    # expected ARR saved = ARR on the flag date x the probability shown (4 decimals), rounded once to cents
    assert rows["A"]["expected_arr_saved"] == Decimal("4200.00")  # 12,000.00 x 0.35
    assert rows["C"]["churn_probability"] == 0.1235
    assert rows["C"]["expected_arr_saved"] == Decimal("301.39")  # 2,440.44 x 0.1235 = 301.39434
    assert rows["F"]["expected_arr_saved"] == Decimal("240.00")  # 3,000.00 x 0.08
    assert rows["A"]["renewed_on"] == D(2024, 7, 1) and rows["A"]["owner"] == "P1"
    assert "below 2 x the base rate (20.0%)" in rows["C"]["reason"]
    only_p1 = saves(company, start="2024-01-01", owner="P1", scorer=scorer).to_pylist()
    assert [r["account_id"] for r in only_p1] == ["A"]
    summary = {
        (r["owner"], r["verdict"]): r
        for r in saves_summary(saves(company, start="2024-01-01", scorer=scorer)).to_pylist()
    }
    assert summary[("all", "credible")]["saves"] == 1
    assert summary[("all", "uncertain")]["expected_arr_saved"] == Decimal("301.39")
    assert sum(summary[("all", v)]["saves"] for v in SAVE_VERDICTS) == 3
    assert summary[("P2", "uncertain")]["saves"] == 1 and summary[("P2", "credible")]["saves"] == 0


@pytest.mark.parametrize(
    ("p", "base", "note", "expected", "words"),
    [
        (0.30, 0.10, "", "credible", "at least 2 x the base rate and 20%"),
        (0.20, 0.10, "", "credible", "at least"),  # exactly 2 x and exactly the minimum
        (0.10, 0.10, "", "never_at_risk", "no higher than the base rate"),  # at the base rate
        (0.05, 0.10, "", "never_at_risk", "no higher"),
        (0.15, 0.10, "", "uncertain", "below 2 x the base rate (20.0%)"),
        (0.15, 0.05, "", "uncertain", "below the credible minimum (20.0%)"),  # 3 x the base rate, under 20%
        (0.90, 0.10, "too little data: the segment 'x' had 4 paying account-months", "uncertain", "too little data"),
        (None, None, "too little data: 1 month ends", "uncertain", "too little data: 1 month ends"),
    ],
)
def test_the_verdict_rule(p, base, note, expected, words):
    got, reason = verdict(Score(p, base, note), SavesSettings())
    assert got == expected and words in reason


def test_the_verdict_reads_the_riskiest_flag_up_to_the_check_date(company):
    """A's first episode has flags on 2024-03-10 (p 5%) and 2024-05-01 (p 35%): the verdict reads the
    second (credible, expected 12,000.00 x 0.35). With episodes of 140 days the flags of September to
    December (p 90%) join it, but they come after its check date (2024-07-01) and are not read."""
    by_day = {D(2024, 3, 10): Score(0.05, 0.10), D(2024, 5, 1): Score(0.35, 0.10)}
    asked: list[D] = []

    def scorer(store, eps):
        asked.extend(d for a, d, _ in eps if a == "A")
        return [by_day.get(d, Score(0.90, 0.10)) if a == "A" else Score(0.08, 0.10) for a, d, _ in eps]

    row = next(r for r in saves(company, start="2024-01-01", scorer=scorer).to_pylist() if r["account_id"] == "A")
    assert (row["flag_date"], row["scored_on"], row["verdict"]) == (D(2024, 3, 10), D(2024, 5, 1), "credible")
    assert row["churn_probability"] == 0.35 and row["expected_arr_saved"] == Decimal("4200.00")
    assert asked == [D(2024, 3, 10), D(2024, 5, 1)]
    merged = Workspace(company.path, config=company.config.with_(saves=SavesSettings(episode_days=140)))
    try:
        asked.clear()
        rows = [r for r in saves(merged, start="2024-01-01", scorer=scorer).to_pylist() if r["account_id"] == "A"]
    finally:
        merged.close()
    assert [(r["scored_on"], r["churn_probability"]) for r in rows] == [(D(2024, 5, 1), 0.35)]
    assert asked == [D(2024, 3, 10), D(2024, 5, 1)]  # the flags after the check date are never scored
    # no flag with a probability: the first flag's score and its note decide (uncertain)
    none = saves(
        company, start="2024-01-01", scorer=lambda store, eps: [Score(None, None, "too little data: x")] * len(eps)
    )
    a = next(r for r in none.to_pylist() if r["account_id"] == "A")
    assert (a["scored_on"], a["verdict"], a["reason"]) == (D(2024, 3, 10), "uncertain", "too little data: x")


def test_the_saves_settings_are_checked():
    cfg = config_from_mapping({"saves": {"credible_ratio": 3, "activity_types": ["rescue"]}}, Path("."))
    assert cfg.saves.credible_ratio == 3.0 and cfg.saves.activity_types == ("rescue",)
    assert Config().saves == SavesSettings()
    with pytest.raises(ConfigError, match=r"unknown key 'credible_ration'.*credible_ratio"):
        config_from_mapping({"saves": {"credible_ration": 3}}, Path("."))
    for bad in ({"renewal_share": 0}, {"credible_ratio": 0.5}, {"model": "forest"}, {"episode_days": -1},
                {"activity_outcomes": "saved"}, {"credible_min": 2}):  # fmt: skip
        with pytest.raises(ConfigError):
            SavesSettings.from_mapping(bad)


# -- the model path, on the sample company --------------------------------------------------------

SAMPLE_AS_OF = sample.SampleConfig().as_of
#: flags whose renewal is known by the as-of date
WINDOW = {"start": SAMPLE_AS_OF - dt.timedelta(days=420), "end": SAMPLE_AS_OF - dt.timedelta(days=300)}


def _sample_workspace(path: Path, tables: dict[str, pa.Table]) -> Workspace:
    ws = Workspace(path, config=Config(as_of=SAMPLE_AS_OF, health=HealthSettings(train_months=12)))
    ws.load_frames(tables)
    return ws


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return sample.generate(accounts=300, seed=11, text=True)


@pytest.fixture(scope="module")
def clean(tables, tmp_path_factory):
    ws = _sample_workspace(tmp_path_factory.mktemp("clean") / "w.duckdb", tables)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def clean_saves(clean):
    return saves(clean, **WINDOW).to_pylist()


def test_the_model_path_runs_on_the_sample_company(clean, clean_saves):
    assert len(clean_saves) >= 10
    assert {r["verdict"] for r in clean_saves} <= set(SAVE_VERDICTS)
    s = clean.config.saves
    for r in clean_saves:
        assert WINDOW["start"] <= r["flag_date"] <= WINDOW["end"] and r["renewed_on"] <= SAMPLE_AS_OF
        assert r["arr_renewed"] >= r["arr"] * Decimal(str(s.renewal_share))
        p, b = r["churn_probability"], r["base_rate"]
        assert p is not None and 0 <= p <= 1 and b is not None and 0 <= b <= 1, r
        assert r["expected_arr_saved"] == (r["arr"] * Decimal(f"{p:.4f}")).quantize(Decimal("0.01"))
        if r["verdict"] == "credible":
            assert p >= max(b * s.credible_ratio, s.credible_min)
        elif r["verdict"] == "never_at_risk":
            assert p <= b
    # the probabilities tell the accounts apart: not one value for all
    assert len({r["churn_probability"] for r in clean_saves}) > len(clean_saves) // 2
    # a segment the training months never saw has no base rate: too little data, said in words
    first = clean_saves[0]
    thin = model_scorer(clean, [(first["account_id"], first["flag_date"], "nowhere")])[0]
    assert thin.probability == pytest.approx(first["churn_probability"], abs=5e-5) and thin.base_rate is None
    assert thin.note.startswith("too little data: the segment 'nowhere' had 0 paying account-months")
    assert verdict(thin, s)[0] == "uncertain"
    # before the first payment, no month end has a known outcome: no model
    early = model_scorer(clean, [(first["account_id"], D(2022, 1, 15), first["segment"])])[0]
    assert early.probability is None and early.note.startswith("too little data: 0 month ends")


def _plant_future(tables: dict[str, pa.Table], account: str, day: D) -> dict[str, pa.Table]:
    """What happened after ``day`` to ``account``: escalated cases still open and an NPS of 0."""
    out = dict(tables)
    tk = tables["tickets"]
    new = pa.table(
        {
            "account_id": [account] * 4,
            "ticket_id": [f"LEAK{i}" for i in range(4)],
            "opened_at": pa.array([day + dt.timedelta(days=1 + i) for i in range(4)], pa.date32()),
            "escalated": [True] * 4,
        }
    )
    out["tickets"] = pa.concat_tables([tk, new.select([c for c in new.column_names])], promote_options="default")
    sv = tables["surveys"]
    nps = pa.table(
        {
            "account_id": [account],
            "date": pa.array([day + dt.timedelta(days=2)], pa.date32()),
            "kind": ["nps"],
            "score": pa.array([Decimal(0)], sv.schema.field("score").type),
        }
    )
    out["surveys"] = pa.concat_tables([sv, nps], promote_options="default")
    return out


def test_a_fact_dated_after_the_flag_does_not_change_its_probability(tables, clean, clean_saves, tmp_path):
    target = next(r for r in clean_saves if r["churn_probability"] is not None)
    account, day, segment = target["account_id"], target["flag_date"], target["segment"]
    leaked = _sample_workspace(tmp_path / "leaked.duckdb", _plant_future(tables, account, day))
    try:
        # the planted facts matter: scored ten days after the flag, the account looks riskier
        later = day + dt.timedelta(days=10)
        before, after = (model_scorer(w, [(account, later, segment)])[0].probability for w in (clean, leaked))
        assert before is not None and after is not None and after > before + 0.01
        # ... but the flag date's probability only knows what was known then
        got = {r["account_id"]: r for r in saves(leaked, start=day, end=day).to_pylist()}
        assert got[account]["churn_probability"] == target["churn_probability"]
        assert got[account]["base_rate"] == target["base_rate"]
    finally:
        leaked.close()


def test_the_command_prints_the_saves_and_checks_the_verdict(company):
    import csv as csv_module
    import io

    from typer.testing import CliRunner

    from revbook.cli import app

    company.close()
    where = ["-w", str(company.path), "--as-of", AS_OF.isoformat(), "--start", "2024-01-01"]
    runner = CliRunner(env={"COLUMNS": "120"})
    csv = runner.invoke(app, ["saves", *where, "--format", "csv"], catch_exceptions=False)
    assert csv.exit_code == 0, csv.output
    rows = list(csv_module.DictReader(io.StringIO(csv.stdout)))
    # three claimed saves; a book of six accounts is too little data for a model: each is uncertain
    assert sorted(r["account_id"] for r in rows) == ["A", "C", "F"]
    assert all(r["verdict"] == "uncertain" and r["reason"].startswith("too little data") for r in rows)
    assert [r["owner"] for r in rows if r["account_id"] == "A"] == ["P1"]
    table = runner.invoke(app, ["saves", *where, "--summary"], catch_exceptions=False)
    assert table.exit_code == 0 and "uncertain" in table.stdout and "P1" in table.stdout
    bad = runner.invoke(app, ["saves", *where, "--verdict", "hollow"])
    assert bad.exit_code == 2 and "unknown verdict 'hollow'" in bad.output
