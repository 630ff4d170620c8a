"""Concentration and masking (docs/concentration.md): worked examples computed by hand, and invariants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from revbook import Config, Workspace
from revbook.config import ConcentrationSettings, config_from_mapping
from revbook.errors import ConfigError
from revbook.impact.concentration import alerts, concentration, masking_sentence
from revbook.metrics.tables import retention
from support import write

AS_OF = dt.date(2024, 12, 31)

#: start MRR on 2023-12-31 -> MRR on 2024-12-31 (ARR is 12 x MRR)
#:   A 100,000 -> 140,000  expands 40,000        enterprise
#:   B 100,000 -> 115,000  expands 15,000        enterprise
#:   C 100,000 -> 100,000  flat                  smb
#:   D  80,000 ->  65,000  contracts 15,000      smb
#:   E  20,000 ->       0  churns 20,000         enterprise
#:   F  20,000 ->  25,000  expands 5,000         smb
#:   G  new in June 2024 at 30,000: not in the cohort
SUBSCRIPTIONS = """account_id,subscription_id,plan,start_date,end_date,mrr
A,A1,pro,2023-01-01,2024-06-01,100000
A,A2,pro,2024-06-01,,140000
B,B1,pro,2023-01-01,2024-03-01,100000
B,B2,pro,2024-03-01,,115000
C,C1,pro,2023-01-01,,100000
D,D1,pro,2023-01-01,2024-09-01,80000
D,D2,pro,2024-09-01,,65000
E,E1,pro,2023-01-01,2024-05-01,20000
F,F1,pro,2023-06-01,2024-10-01,20000
F,F2,pro,2024-10-01,,25000
G,G1,pro,2024-06-01,,30000
"""
ACCOUNTS = "account_id,segment\nA,enterprise\nB,enterprise\nC,smb\nD,smb\nE,enterprise\nF,smb\nG,smb\n"


def _company(tmp_path: Path, config: Config | None = None) -> Workspace:
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    ws = Workspace(tmp_path / "w.duckdb", config=config or Config(as_of=AS_OF))
    ws.load({"accounts": write(data / "a.csv", ACCOUNTS), "subscriptions": write(data / "s.csv", SUBSCRIPTIONS)})
    return ws


@pytest.fixture
def company(tmp_path: Path):
    with _company(tmp_path) as ws:
        yield ws


def test_the_issue_example_expansion_is_masking_400000_of_churn():
    # a book of 5,000,000 that renews 4,600,000 and expands 700,000: NRR 106%, GRR 92%
    sentence = masking_sentence(
        start_arr=Decimal(5_000_000), retained_arr=Decimal(4_600_000), end_arr=Decimal(5_300_000)
    )
    assert sentence == (
        "expansion is masking 400,000 of churn and contraction: the book of 5,000,000 renewed 4,600,000"
        " (GRR 92.0%) and expanded 700,000, so NRR reads 106.0%"
    )


def test_expansion_below_the_loss_covers_part_of_it_and_says_what_is_left():
    sentence = masking_sentence(
        start_arr=Decimal(5_000_000), retained_arr=Decimal(4_600_000), end_arr=Decimal(4_700_000)
    )
    assert sentence == (
        "expansion covers 100,000 of the 400,000 lost to churn and contraction, leaving 300,000 uncovered:"
        " the book of 5,000,000 renewed 4,600,000 (GRR 92.0%) and expanded 100,000 (NRR 94.0%)"
    )
    nothing_lost = masking_sentence(start_arr=Decimal(100), retained_arr=Decimal(100), end_arr=Decimal("150.50"))
    assert nothing_lost.startswith("nothing was lost to churn or contraction, so expansion masks nothing")
    assert "expanded 50.50 (NRR 150.5%)" in nothing_lost
    no_expansion = masking_sentence(start_arr=Decimal(100), retained_arr=Decimal(90), end_arr=Decimal(90))
    assert no_expansion.startswith("no expansion masks the 10 lost to churn and contraction")
    assert masking_sentence(start_arr=Decimal(0), retained_arr=Decimal(0), end_arr=Decimal(0)) == (
        "no accounts were paying at the window's start"
    )


def test_concentration_worked_example(company):
    (row,) = concentration(company).to_pylist()
    assert row["window_start"] == dt.date(2023, 12, 31) and row["period_end"] == AS_OF
    assert (row["start_accounts"], row["retained_accounts"], row["expanding_accounts"]) == (6, 5, 3)
    assert row["start_arr"] == Decimal("5040000.00")  # 12 x 420,000
    assert row["end_arr"] == Decimal("5340000.00")  # 12 x 445,000
    assert row["retained_arr"] == Decimal("4620000.00")  # 12 x 385,000
    assert row["churn_arr"] == Decimal("240000.00") and row["contraction_arr"] == Decimal("180000.00")
    assert row["lost_arr"] == Decimal("420000.00")
    assert row["expansion_arr"] == Decimal("720000.00")  # the GRR-NRR gap in ARR: end - retained
    assert row["masked_arr"] == Decimal("420000.00")  # min(lost, expansion)
    assert row["nrr"] == pytest.approx(445 / 420) and row["grr"] == pytest.approx(385 / 420)
    assert row["logo_retention"] == pytest.approx(5 / 6)
    # the top expanding account is A (40,000 of the 60,000 MRR of expansion)
    assert row["top_1_expansion_arr"] == Decimal("480000.00")
    assert row["top_1_expansion_share"] == pytest.approx(40 / 60)
    assert row["nrr_without_top_1"] == pytest.approx((445 - 140) / (420 - 100))
    assert row["grr_without_top_1"] == pytest.approx((385 - 100) / (420 - 100))
    # only three accounts expanded: the top 5 and 10 are A, B and F, removed from the start and the end
    assert row["top_5_expansion_share"] == 1.0 and row["top_10_expansion_arr"] == Decimal("720000.00")
    assert row["nrr_without_top_5"] == pytest.approx(165 / 200) == row["nrr_without_top_10"]
    assert row["sentence"] == (
        "expansion is masking 420,000 of churn and contraction: the book of 5,040,000 renewed 4,620,000"
        " (GRR 91.7%) and expanded 720,000, so NRR reads 106.0%"
    )


def test_concentration_by_segment_ranks_within_each_slice(company):
    rows = {r["segment"]: r for r in concentration(company, by="segment", tops=(1,)).to_pylist()}
    ent, smb = rows["enterprise"], rows["smb"]
    # enterprise: A 100k->140k, B 100k->115k, E 20k->0
    assert ent["start_arr"] == 12 * Decimal(220_000) and ent["end_arr"] == 12 * Decimal(255_000)
    assert ent["nrr_without_top_1"] == pytest.approx(115 / 120)
    # smb: C 100k flat, D 80k->65k, F 20k->25k; its top account is F; G is new, not in the cohort
    assert smb["start_arr"] == 12 * Decimal(200_000) and smb["top_1_expansion_arr"] == 12 * Decimal(5_000)
    assert smb["nrr_without_top_1"] == pytest.approx(165 / 180) and smb["start_accounts"] == 3
    assert smb["sentence"].startswith("expansion covers 60,000 of the 180,000 lost")


def test_concentration_nrr_is_the_retention_modules_to_the_cent(company):
    for by in (None, "segment"):
        ours = concentration(company, by=by).to_pylist()
        theirs = [
            r for r in retention(company, window=12, by=by).to_pylist() if r["period_end"] == AS_OF and r["start_mrr"]
        ]
        assert len(ours) == len(theirs) >= 1
        for a, b in zip(ours, theirs, strict=True):
            assert a.get("segment") == b.get("segment")
            assert a["start_arr"] == 12 * b["start_mrr"] and a["end_arr"] == 12 * b["end_mrr"]
            assert a["retained_arr"] == 12 * b["retained_mrr"]
            assert (a["nrr"], a["grr"], a["logo_retention"]) == (b["nrr"], b["grr"], b["logo_retention"])


def test_a_window_before_the_data_has_no_rows(company):
    assert len(concentration(company, window=36)) == 0
    assert alerts(company, window=36) == []


def test_alerts_of_the_worked_example(tmp_path):
    settings = ConcentrationSettings(min_accounts=1, logo_divergence=0.05, top_share_accounts=1)
    with _company(tmp_path, Config(as_of=AS_OF, concentration=settings)) as ws:
        found = {a.code: a for a in alerts(ws)}
    assert set(found) == {"nrr_carried_by_few", "expansion_concentrated", "logo_dollar_divergence"}
    carried = found["nrr_carried_by_few"]
    assert carried.severity == "warning" and carried.figures["top"] == 1
    assert carried.sentence == (
        "12-month NRR of 106.0% is carried by its top expanding account: without it NRR is 95.3%"
    )
    assert found["expansion_concentrated"].sentence == (
        "the top account holds 66.7% of the 720,000 gross expansion of 3 accounts (above 50.0%)"
    )
    assert found["logo_dollar_divergence"].sentence == (
        "logo retention 83.3% and GRR 91.7% differ by 8.3 points (above 5.0): small accounts leave"
    )


def test_no_alert_under_the_thresholds_or_for_a_small_cohort(tmp_path, company):
    assert alerts(company) == []  # 6 accounts: under the default min_accounts of 10
    quiet = ConcentrationSettings(min_accounts=1, tops=(5,))
    with _company(tmp_path / "q", Config(as_of=AS_OF, concentration=quiet)) as ws:
        # NRR without the top 5 is below 100%: still carried; the top 5 hold all the expansion, but only
        # three accounts expanded, so that says nothing; logo retention and GRR are 8.3 points apart
        assert {a.code for a in alerts(ws)} == {"nrr_carried_by_few"}
        assert alerts(ws, by="segment", frame=None)[0].figures["segment"] == "enterprise"


def test_the_concentration_settings_are_checked(tmp_path):
    cfg = config_from_mapping({"concentration": {"tops": [1, 3], "logo_divergence": 0.2}}, tmp_path)
    assert cfg.concentration.tops == (1, 3) and cfg.concentration.logo_divergence == 0.2
    for bad in ({"tops": [5, 1]}, {"tops": []}, {"logo_divergence": 1.5}, {"window_months": 0}, {"min_accounts": 0}):
        with pytest.raises(ConfigError):
            config_from_mapping({"concentration": bad}, tmp_path)
    with pytest.raises(ConfigError, match="did you mean 'tops'"):
        config_from_mapping({"concentration": {"top": [1]}}, tmp_path)


@pytest.fixture(scope="module")
def sample_company(tmp_path_factory):
    from revbook import sample
    from support import sample_workspace

    as_of = sample.SampleConfig().as_of
    path = sample_workspace(tmp_path_factory.mktemp("concentration"), as_of=as_of, accounts=300, seed=3)
    with Workspace(path, config=Config(as_of=as_of), read_only=True) as ws:
        yield ws


@pytest.mark.parametrize("by", [None, "segment", "owner"])
def test_on_the_sample_company_nrr_is_the_retention_modules_and_the_invariants_hold(sample_company, by):
    as_of = sample_company.config.snapshot_date()
    for window in (3, 12):
        ours = concentration(sample_company, window=window, by=by).to_pylist()
        theirs = [
            r
            for r in retention(sample_company, window=window, by=by).to_pylist()
            if r["period_end"] == as_of and r["start_accounts"]
        ]
        assert len(ours) == len(theirs) >= 1
        for a, b in zip(ours, theirs, strict=True):
            assert a["start_arr"] == 12 * b["start_mrr"] and a["end_arr"] == 12 * b["end_mrr"]  # to the cent
            assert (a["nrr"], a["grr"], a["logo_retention"]) == (b["nrr"], b["grr"], b["logo_retention"])
            assert a["grr"] <= a["nrr"] + 1e-12 and a["grr"] <= 1
            assert a["end_arr"] == a["start_arr"] - a["lost_arr"] + a["expansion_arr"]
            assert a["lost_arr"] == a["churn_arr"] + a["contraction_arr"]
            assert a["masked_arr"] == min(a["lost_arr"], a["expansion_arr"])
            for n in (1, 5, 10):
                share, without = a[f"top_{n}_expansion_share"], a[f"nrr_without_top_{n}"]
                if not a["expanding_accounts"]:
                    assert share is None and without == a["nrr"]
                    continue
                assert 0 < share <= 1
                if a["nrr"] <= 1:  # each removed account grew (its own NRR > 100% >= the book's): NRR falls
                    assert without is None or without < a["nrr"]


def test_on_the_sample_company_nrr_without_the_top_accounts_is_recomputed_from_the_accounts(sample_company):
    from fractions import Fraction

    from revbook.metrics.tables import mrr

    (row,) = concentration(sample_company).to_pylist()
    snapshots = mrr(sample_company, accounts=True).to_pylist()
    start = {r["account_id"]: r["mrr"] for r in snapshots if r["period_end"] == row["window_start"]}
    end = {r["account_id"]: r["mrr"] for r in snapshots if r["period_end"] == row["period_end"]}
    rise = sorted(((end.get(a, 0) - m, a) for a, m in start.items() if end.get(a, 0) > m), key=lambda t: (-t[0], t[1]))
    for n in (1, 5, 10):
        top = {a for _, a in rise[:n]}
        kept = [a for a in start if a not in top]
        expected = Fraction(sum(end.get(a, 0) for a in kept)) / Fraction(sum(start[a] for a in kept))
        assert row[f"nrr_without_top_{n}"] == pytest.approx(float(expected), rel=1e-12)
        assert row[f"top_{n}_expansion_arr"] == 12 * sum(r for r, _ in rise[:n])


def test_removing_the_top_expander_can_raise_nrr_when_it_grew_less_than_the_book(tmp_path):
    # A 1,000 -> 1,100 (the largest rise, 100) and B 10 -> 90 (a rise of 80): NRR 1,190 / 1,010 = 117.8%;
    # A's own NRR is 110%, below the book's, so without A the NRR is B's alone: 900%
    subs = (
        "account_id,subscription_id,start_date,end_date,mrr\n"
        "A,A1,2023-01-01,2024-06-01,1000\nA,A2,2024-06-01,,1100\nB,B1,2023-01-01,2024-06-01,10\nB,B2,2024-06-01,,90\n"
    )
    (tmp_path / "d").mkdir()
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF)) as ws:
        ws.load({"subscriptions": write(tmp_path / "d" / "s.csv", subs)})
        (row,) = concentration(ws, tops=(1,)).to_pylist()
    assert row["nrr"] == pytest.approx(1190 / 1010) and row["nrr_without_top_1"] == pytest.approx(9.0)


def test_every_worked_example_named_in_the_page_is_a_test():
    import re

    root = Path(__file__).resolve().parents[2]
    named = set(re.findall(r"`(test_\w+)`", (root / "docs" / "concentration.md").read_text(encoding="utf-8")))
    here = Path(__file__).parent
    defined = {
        m for p in here.glob("test_*.py") for m in re.findall(r"^def (test_\w+)", p.read_text("utf-8"), flags=re.M)
    }
    assert len(named) >= 6 and named <= defined, sorted(named - defined)
