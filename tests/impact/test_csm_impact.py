"""Risk-adjusted CSM impact: a flattered CSM and a strong one told apart, transfers, the min-book
rule, out-of-fold expectations, a seeded bootstrap, and the cohort held to metrics.retention."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from revbook import Config, Workspace
from revbook.config import CsmImpactSettings
from revbook.errors import ConfigError, WorkspaceError
from revbook.impact.csm import VERDICTS, csm_impact, csm_impact_accounts, method_text
from revbook.impact.csm_model import bootstrap, fold_of, out_of_fold, window_dates
from revbook.metrics.tables import retention
from support import write

AS_OF = dt.date(2026, 1, 15)
START, END = dt.date(2024, 12, 31), dt.date(2025, 12, 31)
#: each CSM's book: (easy accounts, hard accounts, churn probability of an easy and of a hard account)
BOOKS = {
    "E": (70, 0, 0.05, 0.45),  # an easy book, retained as any CSM would: the flattered CSM
    "S": (0, 70, 0.05, 0.15),  # a hard book, retained far better than its risk: the strong CSM
    "N1": (50, 50, 0.05, 0.45),
    "N2": (50, 50, 0.05, 0.45),
    "T": (5, 5, 0.05, 0.45),  # a book too small for a verdict
}
#: an account of S's book moved to N1 halfway through the window: it stays with S
MOVED = "A0100"


def _company(folder: Path) -> dict[str, Path]:
    """A few hundred accounts as CSV exports. Risk lives in one feature, NPS: easy accounts answer
    8-10, hard ones 0-4. Whether an account churns in the window depends on its risk and on its CSM
    (S keeps hard accounts the others lose); a kept account expands by 40% with probability 0.25."""
    rng = np.random.default_rng(11)
    accounts, subs, owners, surveys = ["account_id,name,segment"], [], [], ["account_id,date,kind,score"]
    subs.append("account_id,subscription_id,product,plan,start_date,end_date,amount,billing_period_months")
    owners.append("account_id,owner_id,role,start_date,end_date")
    n = 0
    for csm, (easy, hard, p_easy, p_hard) in BOOKS.items():
        for risky in [False] * easy + [True] * hard:
            n += 1
            a = f"A{n:04d}"
            accounts.append(f"{a},Account {n},smb")
            first = dt.date(2023, 1, 1) + dt.timedelta(days=int(rng.integers(0, 600)))
            amount = int(rng.integers(200, 800))
            churns = rng.random() < (p_hard if risky else p_easy)
            ends = (dt.date(2025, 2, 1) + dt.timedelta(days=int(rng.integers(0, 300)))) if churns else None
            subs.append(f"{a},S{n},core,pro,{first},{ends or ''},{amount},1")
            if not churns and rng.random() < 0.25:
                subs.append(f"{a},X{n},addon,pro,2025-05-01,,{round(amount * 0.4)},1")
            nps = int(rng.integers(0, 5)) if risky else int(rng.integers(8, 11))
            surveys.append(f"{a},2024-11-01,nps,{nps}")
            if a == MOVED:
                owners.append(f"{a},{csm},csm,2023-01-01,2025-06-01")
                owners.append(f"{a},N1,csm,2025-06-01,")
            else:
                owners.append(f"{a},{csm},csm,2023-01-01,")
    people = "owner_id,name,team\n" + "".join(f"{c},CSM {c},Pod\n" for c in BOOKS)
    return {
        "accounts": write(folder / "accounts.csv", "\n".join(accounts) + "\n"),
        "subscriptions": write(folder / "subscriptions.csv", "\n".join(subs) + "\n"),
        "owners": write(folder / "owners.csv", "\n".join(owners) + "\n"),
        "people": write(folder / "people.csv", people),
        "surveys": write(folder / "surveys.csv", "\n".join(surveys) + "\n"),
    }


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("csm_impact")
    with Workspace(folder / "w.duckdb", config=Config(as_of=AS_OF)) as ws:
        ws.load(_company(folder))
    return folder / "w.duckdb"


@pytest.fixture(scope="module")
def ws(company):
    """One read-only workspace for the module: its shared stages are built once."""
    with Workspace(company, config=Config(as_of=AS_OF), read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def impact(ws) -> list[dict]:
    return csm_impact(ws).to_arrow().to_pylist()


@pytest.fixture(scope="module")
def accounts(ws) -> list[dict]:
    return csm_impact_accounts(ws).to_arrow().to_pylist()


def _by_owner(rows: list[dict]) -> dict[str, dict]:
    return {r["owner"]: r for r in rows}


def test_the_flattered_and_the_strong_csm_swap_places_once_risk_is_adjusted(impact):
    rows = _by_owner(impact)
    easy, strong = rows["E"], rows["S"]
    assert easy["window_start"] == START and easy["window_end"] == END
    # raw NRR ranks the easy book above the hard one ...
    assert easy["actual_nrr"] > strong["actual_nrr"] and easy["rank_nrr"] < strong["rank_nrr"]
    # ... the expectation knows the easy book was easy and the hard book hard ...
    assert easy["expected_nrr"] > strong["expected_nrr"] + 0.15
    # ... and the risk-adjusted difference ranks the strong CSM first, above expected beyond the noise
    assert strong["rank_adjusted"] == 1 and strong["verdict"] == "above expected"
    assert strong["net_low"] > 0 and strong["net_points"] > 10
    assert easy["rank_adjusted"] > strong["rank_adjusted"] and easy["verdict"] != "above expected"
    assert easy["net_low"] <= easy["net_points"] <= easy["net_high"]


def test_differences_are_actual_minus_expected_in_points_and_in_arr(impact):
    for r in impact:
        assert r["net_points"] == pytest.approx(100 * (r["actual_nrr"] - r["expected_nrr"]), abs=0.051)
        assert r["gross_points"] == pytest.approx(100 * (r["actual_grr"] - r["expected_grr"]), abs=0.051)
        logo = 100 * (r["actual_logo_retention"] - r["expected_logo_retention"])
        assert r["logo_points"] == pytest.approx(logo, abs=0.051)
        assert r["net_arr_vs_expected"] == r["end_arr"] - r["expected_end_arr"]
        assert r["actual_grr"] <= min(r["actual_nrr"], 1.0) and r["expected_grr"] <= 1.0
        assert isinstance(r["start_arr"], Decimal) and r["start_arr"] == r["start_arr"].quantize(Decimal("0.01"))
        assert r["verdict"] in VERDICTS


def test_the_all_csm_actual_nrr_is_metrics_retention_of_the_same_window(ws, accounts):
    acc = accounts
    ret = next(r for r in retention(ws, window=12).to_arrow().to_pylist() if r["period_end"] == END)
    start = sum(r["start_mrr"] for r in acc)
    end = sum(r["end_mrr"] for r in acc)
    assert start == ret["start_mrr"] and end == ret["end_mrr"]
    assert len(acc) == ret["start_accounts"] and sum(r["kept"] for r in acc) == ret["retained_accounts"]
    assert float(end) / float(start) == pytest.approx(ret["nrr"], rel=1e-12)
    assert float(sum(min(r["start_mrr"], r["end_mrr"]) for r in acc)) / float(start) == pytest.approx(ret["grr"])


def test_an_account_transferred_mid_window_counts_for_its_start_csm(accounts, impact):
    moved = [r for r in accounts if r["account_id"] == MOVED]
    assert moved[0]["owner"] == "S"
    assert _by_owner(impact)["S"]["accounts"] == 70 and _by_owner(impact)["N1"]["accounts"] == 100


def test_a_book_under_min_accounts_gets_no_verdict(ws, impact):
    rows = _by_owner(impact)
    assert rows["T"]["accounts"] == 10 and rows["T"]["verdict"] == "no verdict"
    assert all(r["verdict"] != "no verdict" for r in impact if r["accounts"] >= 15)
    loose = _by_owner(csm_impact(ws, min_accounts=5).to_arrow().to_pylist())
    assert loose["T"]["verdict"] in ("above expected", "below expected", "within the noise")


def _transfer_company(folder: Path) -> dict[str, Path]:
    return {
        "accounts": write(folder / "accounts.csv", "account_id,name\nA,a\nB,b\nC,c\nD,d\n"),
        "subscriptions": write(
            folder / "subscriptions.csv",
            "account_id,subscription_id,product,start_date,end_date,amount,billing_period_months\n"
            "A,S1,core,2024-01-01,,100,1\nA,S2,addon,2024-06-01,,50,1\n"
            "B,S3,core,2024-01-01,2024-05-01,200,1\n"
            "C,S4,core,2024-01-01,,300,1\n"
            "D,S5,core,2024-01-01,2024-08-01,100,1\nD,S6,core,2024-08-01,,50,1\n",
        ),
        "owners": write(
            folder / "owners.csv",
            "account_id,owner_id,role,start_date,end_date\n"
            "A,X,csm,2023-06-01,2024-04-01\nA,Y,csm,2024-04-01,\nB,X,csm,2023-06-01,\n"
            "C,Y,csm,2023-06-01,\nD,Y,csm,2023-06-01,\n",
        ),
    }


def test_worked_example_of_actual_retention_with_a_transfer(tmp_path):
    """docs/csm-impact.md's worked example: A moves from X to Y in April, after the window's start."""
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=dt.date(2025, 1, 10))) as ws:
        ws.load(_transfer_company(tmp_path))
        rows = _by_owner(csm_impact(ws, window=11).to_arrow().to_pylist())
    x, y = rows["X"], rows["Y"]
    assert (x["window_start"], x["window_end"]) == (dt.date(2024, 1, 31), dt.date(2024, 12, 31))
    assert (x["accounts"], y["accounts"]) == (2, 2)
    assert x["start_arr"] == Decimal("3600.00") and x["end_arr"] == Decimal("1800.00")
    assert x["actual_nrr"] == 0.5 and x["actual_grr"] == pytest.approx(1 / 3) and x["actual_logo_retention"] == 0.5
    assert y["start_arr"] == Decimal("4800.00") and y["end_arr"] == Decimal("4200.00")
    assert y["actual_nrr"] == 0.875 and y["actual_grr"] == 0.875 and y["actual_logo_retention"] == 1.0
    assert x["verdict"] == y["verdict"] == "no verdict"
    assert (x["rank_nrr"], y["rank_nrr"]) == (2, 1)


def test_folds_partition_the_accounts_and_are_seeded():
    fold = fold_of(103, 5, seed=3)
    assert sorted(set(fold.tolist())) == [0, 1, 2, 3, 4]
    sizes = np.bincount(fold)
    assert sizes.sum() == 103 and sizes.max() - sizes.min() <= 1
    assert (fold_of(103, 5, seed=3) == fold).all() and not (fold_of(103, 5, seed=4) == fold).all()


class _Spy:
    """A 1-nearest-neighbour model that records the rows it was fitted on: it memorises, so an
    in-sample prediction would return each row's own label."""

    fitted: ClassVar[list[set[float]]] = []

    def fit(self, x, y):
        self.x, self.y = x[:, 0].copy(), y.copy()
        _Spy.fitted.append(set(self.x.tolist()))
        return self

    def predict(self, x):
        return np.array([self.y[np.argmin(np.abs(self.x - v))] for v in x[:, 0]])


def test_an_expectation_never_comes_from_a_model_that_saw_the_account():
    n = 60
    x = np.arange(n, dtype=float)[:, None]  # an id-like feature
    y = np.random.default_rng(0).random(n)  # outcomes nothing predicts
    fold = fold_of(n, 5, seed=0)
    _Spy.fitted = []
    pred = out_of_fold(x, y, fold, _Spy)
    assert len(_Spy.fitted) == 5
    for f, seen in zip(np.unique(fold), _Spy.fitted, strict=True):
        assert not seen & set(x[fold == f, 0].tolist())  # the fold's accounts were not in its training
    # in sample, a memorising model would predict every label exactly; out of fold it predicts none
    assert (_Spy().fit(x, y).predict(x) == y).all()
    assert not (pred == y).any()


def test_the_bootstrap_is_seeded_reproducible_and_brackets_the_estimate():
    rng = np.random.default_rng(5)
    start = rng.integers(100, 1000, 40).astype(float)
    gap = start * rng.normal(0.05, 0.2, 40)
    args = dict(owner="P1", draws=1000, confidence=0.9, seed=0)
    a = bootstrap(start, {"net": gap}, {"net": start}, **args)
    b = bootstrap(start, {"net": gap}, {"net": start}, **args)
    c = bootstrap(start, {"net": gap}, {"net": start}, **{**args, "seed": 1})
    assert a == b and a != c
    low, high = a["net"]
    assert low < 100 * gap.sum() / start.sum() < high
    wider = bootstrap(start, {"net": gap}, {"net": start}, **{**args, "confidence": 0.99})["net"]
    assert wider[0] < low and wider[1] > high


def test_impact_is_reproducible_and_an_owner_row_is_the_same_alone(ws, impact):
    alone = csm_impact(ws, owner="S").to_arrow().to_pylist()
    assert alone == [_by_owner(impact)["S"]]


def test_another_seed_moves_the_interval_not_the_actuals(company, impact):
    cfg = Config(as_of=AS_OF, csm_impact=CsmImpactSettings(seed=9, draws=200))
    with Workspace(company, config=cfg, read_only=True) as ws:
        other = _by_owner(csm_impact(ws, owner="E").to_arrow().to_pylist())["E"]
    easy = _by_owner(impact)["E"]
    assert other["actual_nrr"] == easy["actual_nrr"] and other["end_arr"] == easy["end_arr"]
    assert (other["net_low"], other["net_high"]) != (easy["net_low"], easy["net_high"])


def test_window_dates_end_on_a_complete_month():
    assert window_dates(dt.date(2026, 1, 15), 12, None) == (dt.date(2024, 12, 31), dt.date(2025, 12, 31))
    assert window_dates(dt.date(2026, 1, 31), 3, None) == (dt.date(2025, 10, 31), dt.date(2026, 1, 31))
    assert window_dates(dt.date(2026, 1, 15), 1, "2025-06-30") == (dt.date(2025, 5, 31), dt.date(2025, 6, 30))


def test_settings_are_checked():
    s = CsmImpactSettings.from_mapping({"window": 6, "segment_weights": {"smb": 2}})
    assert s.window == 6 and s.segment_weights == {"smb": 2.0}
    with pytest.raises(ConfigError, match="did you mean 'draws'"):
        CsmImpactSettings.from_mapping({"drawz": 10})
    with pytest.raises(ConfigError, match="folds"):
        CsmImpactSettings.from_mapping({"folds": 1})
    with pytest.raises(ConfigError, match="confidence"):
        replace(CsmImpactSettings(), confidence=1.5)


def test_the_method_text_states_the_settings_in_force():
    text = method_text(CsmImpactSettings(folds=4, draws=2000, confidence=0.95), window=6, min_accounts=20)
    for part in ("6-month window", "4 folds", "2,000 bootstrap", "95% interval", "under 20 accounts", "start CSM"):
        assert part in text


def test_the_csm_command_prints_one_csms_figures_and_the_method(company, impact):
    from typer.testing import CliRunner

    from revbook.cli import app

    args = ["csm", "-w", str(company), "--as-of", AS_OF.isoformat(), "--owner", "S"]
    result = CliRunner(env={"COLUMNS": "120"}).invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    strong = _by_owner(impact)["S"]
    assert f"CSM S (S): 70 accounts (held on {START})" in out
    assert f"NRR {strong['actual_nrr']:.1%} against {strong['expected_nrr']:.1%} expected" in out
    assert f"Verdict: above expected; rank {strong['rank_nrr']} by raw NRR, 1 by risk-adjusted NRR" in out
    assert "a transfer during the window stays with the start CSM" in out
    missing = CliRunner().invoke(app, [*args[:-1], "NOBODY"])
    assert missing.exit_code == 2 and "no CSM 'NOBODY'" in missing.output


def test_a_window_is_checked(ws):
    with pytest.raises(ConfigError, match="window"):
        csm_impact(ws, window=0)
    with pytest.raises(WorkspaceError, match="before the first paid month"):
        csm_impact(ws, window=60)
    with pytest.raises(WorkspaceError, match="after the as-of date"):
        csm_impact(ws, end="2026-02-01")
