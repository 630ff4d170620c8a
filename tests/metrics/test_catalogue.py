"""The CS metric catalogue: the worked examples of docs/definitions.md by hand, slicing, bad input,
and the relationships planted in the sample company."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from revbook import Config, ConfigError, Workspace, WorkspaceError
from revbook.config import CatalogueSettings
from support import AS_OF, write

ACCOUNTS = "account_id,segment\nA,smb\nB,smb\nC,mid_market\nD,mid_market\nE,enterprise\n"


def make(tmp_path: Path, tables: dict[str, str], *, as_of: dt.date = AS_OF, **catalogue: Any) -> Workspace:
    """A workspace from CSV texts (accounts default to A-E)."""
    tables = {"accounts": ACCOUNTS, **tables}
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = {name: write(tmp_path / f"{name}.csv", text) for name, text in tables.items()}
    config = Config(as_of=as_of, catalogue=CatalogueSettings.from_mapping(catalogue))
    ws = Workspace(tmp_path / "w.duckdb", config=config)
    ws.load(paths)
    return ws


def rows(ws: Workspace, metric: str, period: str | None = None, **options: Any) -> list[dict[str, Any]]:
    out = ws.catalogue(metric, **options).to_pylist()
    return [r for r in out if period is None or r["period"] == period]


def one(ws: Workspace, metric: str, period: str, **options: Any) -> dict[str, Any]:
    (r,) = rows(ws, metric, period, **options)
    return r


SUBS = "account_id,subscription_id,plan,start_date,end_date,mrr,contract_end_date,billing_period_months,is_trial\n"


# -- the worked examples of docs/definitions.md ---------------------------------------------------
def test_renewal_rate_by_count_and_arr(tmp_path: Path):
    subs = SUBS + (
        "A,S1,pro,2023-07-01,2024-07-01,1200,2024-07-01,12,\n"
        "A,S2,pro,2024-07-01,,1500,2025-07-01,12,\n"
        "B,S3,pro,2023-07-01,2024-07-01,1000,2024-07-01,12,\n"
        "B,S4,pro,2024-07-11,,800,2025-07-11,12,\n"
        "C,S5,pro,2023-07-01,2024-07-01,500,2024-07-01,12,\n"
        "D,S6,pro,2023-08-15,2024-08-15,2000,2024-08-15,12,\n"
        "D,S7,pro,2024-08-15,,2000,2025-08-15,12,\n"
    )
    with make(tmp_path, {"subscriptions": subs}) as ws:
        r = one(ws, "renewal_rate", "2024-Q3")
        assert (r["contracts_up"], r["contracts_renewed"], r["pending"]) == (4, 3, 0)
        assert r["renewal_rate"] == 0.75
        assert r["arr_up"] == Decimal("56400.00")
        assert r["arr_renewed"] == Decimal("48000.00")  # A capped at 14,400; B 9,600; D 24,000
        assert r["net_arr_renewed"] == Decimal("51600.00")  # A's 18,000 uncapped
        assert r["arr_renewal_rate"] == pytest.approx(48000 / 56400)
        assert r["net_arr_renewal_rate"] == pytest.approx(51600 / 56400)
        by = rows(ws, "renewal_rate", "2024-Q3", by="segment")
        assert {x["segment"]: x["contracts_up"] for x in by} == {"smb": 2, "mid_market": 2}
        assert sum(x["arr_up"] for x in by) == r["arr_up"]
        assert sum(x["net_arr_renewed"] for x in by) == r["net_arr_renewed"]
    with make(tmp_path / "strict", {"subscriptions": subs}, renewal_grace_days=0) as ws:
        r = one(ws, "renewal_rate", "2024-Q3")
        assert (r["contracts_up"], r["contracts_renewed"]) == (4, 2)  # B's 10-day-late renewal is past a grace of 0


def test_time_to_value_and_onboarding_time(tmp_path: Path):
    subs = SUBS + (
        "A,S1,pro,2024-01-10,,100,,1,\nB,S2,pro,2024-02-01,2024-12-01,100,,1,\nC,S3,pro,2024-03-01,,100,,1,\n"
    )
    milestones = (
        "account_id,milestone,achieved_at\n"
        "A,kickoff,2024-01-15\nA,go_live,2024-02-20\nA,first_value,2024-03-01\n"
        "B,kickoff,2024-02-05\nB,go_live,2024-04-15\nB,first_value,2024-05-01\n"
        "C,kickoff,2024-03-04\n"
    )
    with make(tmp_path, {"subscriptions": subs, "milestones": milestones}, as_of=dt.date(2025, 6, 30)) as ws:
        q1, q2 = one(ws, "time_to_value", "2024-Q1"), one(ws, "time_to_value", "2024-Q2")
        assert (q1["accounts"], q1["median_days"], q2["median_days"]) == (1, 51, 90)
        year = one(ws, "time_to_value", "2024", grain="year")
        assert (year["accounts"], year["median_days"], year["mean_days"]) == (2, 70.5, 70.5)
        onb = one(ws, "onboarding_time", "2024", grain="year")
        assert (onb["accounts"], onb["median_days"], onb["slow_accounts"]) == (2, 57.5, 1)  # 41 and 74 days; C not done
        # A (on time) still pays 12 months after its first paid day; B (slow) left in December
        assert (onb["logo_retention_12m_on_time"], onb["logo_retention_12m_slow"]) == (1.0, 0.0)


def test_product_adoption_and_feature_activation(tmp_path: Path):
    subs = SUBS + "A,S1,pro,2024-07-01,,100,,1,\nB,S2,pro,2024-08-15,,100,,1,\n"
    usage = (
        "account_id,date,metric,value\n"
        "A,2024-07-20,feature_reports,3\nA,2024-12-20,feature_reports,2\n"
        "B,2024-10-31,feature_reports,0\nB,2024-12-15,feature_automations,1\nB,2024-12-15,active_users,4\n"
    )
    with make(tmp_path, {"subscriptions": subs, "usage": usage}) as ws:
        q4 = {r["feature"]: r for r in rows(ws, "product_adoption", "2024-Q4")}
        assert set(q4) == {"feature_automations", "feature_reports"}
        assert [(q4[f]["adopting_accounts"], q4[f]["accounts"]) for f in sorted(q4)] == [(1, 2), (1, 2)]
        act = {r["feature"]: r for r in rows(ws, "feature_activation", "2024-Q3")}
        assert (act["feature_reports"]["activated_accounts"], act["feature_reports"]["accounts"]) == (1, 2)
        assert act["feature_automations"]["activation_rate"] == 0.0
    with make(tmp_path / "named", {"subscriptions": subs, "usage": usage}, key_features=["feature_reports"]) as ws:
        assert {r["feature"] for r in rows(ws, "product_adoption")} == {"feature_reports"}


def test_qbr_conversion_within_90_days(tmp_path: Path):
    subs = SUBS + (
        "A,S1,pro,2024-01-01,,100,,1,\nB,S2,pro,2024-01-01,,100,,1,\nC,S3,pro,2024-01-01,,100,,1,\n"
        "C,S4,seats,2024-07-01,,50,,1,\nB,S5,seats,2024-09-15,,50,,1,\nD,S6,pro,2024-01-01,,100,,1,\n"
    )
    activities = (
        "account_id,date,type,outcome\n"
        "A,2024-04-10,qbr,completed\nB,2024-04-15,qbr,no_show\nB,2024-05-01,qbr,completed\n"
        "C,2024-06-01,qbr,completed\nD,2024-12-15,qbr,completed\n"
    )
    opportunities = (
        "account_id,opportunity_id,kind,arr_delta,stage,created_at,closed_at,won,owner_role,source\n"
        "A,O1,expansion,1200,closed_won,2024-04-01,2024-05-20,true,csm,csm\n"
    )
    tables = {"subscriptions": subs, "activities": activities, "opportunities": opportunities}
    with make(tmp_path, tables) as ws:
        q2 = one(ws, "qbr_conversion", "2024-Q2")
        assert (q2["qbrs"], q2["converted_qbrs"], q2["with_expansion_deal"], q2["with_mrr_expansion"]) == (3, 2, 1, 1)
        assert q2["qbr_conversion_rate"] == pytest.approx(2 / 3)
        q4 = one(ws, "qbr_conversion", "2024-Q4")
        assert (q4["qbrs"], q4["pending"]) == (0, 1)


def test_escalation_resolution_time(tmp_path: Path):
    subs = SUBS + "A,S1,pro,2024-01-01,,100,,1,\n"
    tickets = (
        "account_id,ticket_id,opened_at,closed_at,priority,escalated,csat\n"
        "A,T1,2024-07-01,2024-07-11,high,true,\nA,T2,2024-08-01,2024-08-21,high,true,\n"
        "A,T3,2024-09-01,2024-09-04,high,true,\nA,T4,2024-07-05,2024-07-06,low,false,\n"
        "A,T5,2024-09-20,2024-10-05,urgent,true,\n"
    )
    with make(tmp_path, {"subscriptions": subs, "tickets": tickets}) as ws:
        q3 = one(ws, "escalation_resolution", "2024-Q3")
        assert (q3["escalations_closed"], q3["median_days"], q3["mean_days"], q3["open_escalations"]) == (3, 10, 11, 1)
        assert q3["median_days_not_escalated"] == 1
        q4 = one(ws, "escalation_resolution", "2024-Q4")
        assert (q4["escalations_closed"], q4["median_days"], q4["open_escalations"]) == (1, 15, 0)


OPPS = (
    "account_id,opportunity_id,kind,arr_delta,stage,created_at,closed_at,won,owner_role,source\n"
    "A,O1,expansion,12000,closed_won,2024-06-01,2024-07-10,true,csm,csm\n"
    "A,O2,expansion,6000,closed_won,2024-06-01,2024-08-10,true,csm,csm\n"
    "B,O3,expansion,30000,closed_won,2024-06-01,2024-09-10,true,ae,ae\n"
    "C,O4,expansion,1200,closed_won,2024-06-01,2024-07-15,true,,product\n"
    "D,O5,expansion,2400,closed_won,2024-06-01,2024-08-15,true,,self_serve\n"
    "D,O6,expansion,50000,closed_lost,2024-06-01,2024-08-20,false,csm,csm\n"
    "E,O7,expansion,9000,open,2024-09-01,,,csm,csm\n"
)


def test_expansion_deal_size_and_self_serve_share(tmp_path: Path):
    subs = SUBS + "A,S1,pro,2024-01-01,,100,,1,\n"
    with make(tmp_path, {"subscriptions": subs, "opportunities": OPPS}) as ws:
        size = {r["source"]: r for r in rows(ws, "expansion_deal_size", "2024-Q3")}
        assert set(size) == {"(all)", "ae", "csm", "product", "self_serve"}
        total = size["(all)"]
        assert (total["deals"], total["arr"], total["median_arr"], total["mean_arr"]) == (
            5, Decimal("51600"), Decimal("6000.00"), Decimal("10320.00")
        )  # fmt: skip
        assert (size["csm"]["deals"], size["csm"]["median_arr"]) == (2, Decimal("9000.00"))
        assert sum(r["deals"] for s, r in size.items() if s != "(all)") == total["deals"]
        upsell = one(ws, "self_serve_upsell", "2024-Q3")
        assert (upsell["deals"], upsell["self_serve_deals"], upsell["self_serve_arr"]) == (5, 2, Decimal("3600"))
        assert upsell["self_serve_deal_share"] == 0.4
        assert upsell["self_serve_arr_share"] == pytest.approx(3600 / 51600)


def test_multi_year_contract_rate(tmp_path: Path):
    subs = SUBS + (
        "A,S1,pro,2024-01-15,,1000,2027-01-15,12,\n"  # 36-month contract billed yearly
        "B,S2,pro,2024-02-01,,2000,,24,\n"  # billed every 24 months
        "C,S3,pro,2024-02-10,,100,,1,\n"  # monthly
        "D,S4,pro,2024-03-01,,500,2025-03-01,12,\n"  # annual
        "D,S5,seats,2024-03-20,,100,2025-03-01,12,\n"  # mid-term seats: the same contract
    )
    with make(tmp_path, {"subscriptions": subs}) as ws:
        r = one(ws, "multi_year_contract_rate", "2024-Q1")
        assert (r["contracts"], r["multi_year_contracts"], r["multi_year_rate"]) == (4, 2, 0.5)
        assert (r["arr_signed"], r["multi_year_arr"]) == (Decimal("43200.00"), Decimal("36000.00"))
        assert r["multi_year_arr_share"] == pytest.approx(36000 / 43200)


def test_trial_to_paid_conversion(tmp_path: Path):
    subs = SUBS + (
        "A,T1,trial,2024-03-01,2024-03-15,0,,1,true\nA,S1,pro,2024-03-20,,100,,1,\n"
        "B,T2,trial,2024-03-10,2024-03-31,0,,1,true\nB,S2,pro,2024-05-15,,100,,1,\n"
        "C,T3,trial,2024-12-10,2024-12-24,0,,1,true\n"
    )
    with make(tmp_path, {"subscriptions": subs}) as ws:
        q1 = one(ws, "trial_to_paid", "2024-Q1")
        assert (q1["trials_ended"], q1["converted"], q1["conversion_rate"]) == (2, 1, 0.5)
        q4 = one(ws, "trial_to_paid", "2024-Q4")
        assert (q4["trials_ended"], q4["pending"]) == (0, 1)


def test_csm_to_account_ratio_and_arr_per_csm(tmp_path: Path):
    subs = SUBS + (
        "A,S1,pro,2024-01-01,,1000,,1,\nB,S2,pro,2024-01-01,,2000,,1,\n"
        "C,S3,pro,2024-01-01,,3000,,1,\nD,S4,pro,2024-01-01,,500,,1,\n"
    )
    owners = (
        "account_id,owner_id,role,start_date,end_date\n"
        "A,P1,csm,2024-01-01,\nB,P1,csm,2024-01-01,\nC,P2,csm,2024-01-01,\nD,P3,ae,2024-01-01,\n"
    )
    people = "owner_id,name,team\nP1,Ada,Pod 1\nP2,Bo,Pod 2\nP3,Cy,Sales\n"
    with make(tmp_path, {"subscriptions": subs, "owners": owners, "people": people}) as ws:
        r = one(ws, "csm_coverage", "2024-Q4")
        assert (r["accounts"], r["csm_accounts"], r["csms"], r["accounts_per_csm"]) == (4, 3, 2, 1.5)
        assert (r["arr"], r["csm_arr"], r["arr_per_csm"]) == (
            Decimal("78000.00"), Decimal("72000.00"), Decimal("36000.00")
        )  # fmt: skip
        teams = {x["team"]: x for x in rows(ws, "csm_coverage", "2024-Q4", by="team")}
        assert {t: (x["accounts"], x["csms"]) for t, x in teams.items()} == {
            "Pod 1": (2, 1), "Pod 2": (1, 1), "(none)": (1, 0)
        }  # fmt: skip
        assert sum(x["arr"] for x in teams.values()) == r["arr"]


def test_exec_sponsor_engagement_beside_retention(tmp_path: Path):
    accounts = "account_id,segment\nA,enterprise\nB,enterprise\nS,smb\n"
    subs = SUBS + (
        "A,S1,pro,2023-01-01,2024-03-01,1000,,1,\nA,S2,pro,2024-03-01,,1200,,1,\n"
        "B,S3,pro,2023-01-01,2024-06-01,1000,,1,\nS,S4,pro,2023-01-01,,100,,1,\n"
    )
    activities = (
        "account_id,date,type,outcome\n"
        "A,2023-09-01,exec_sponsor_meeting,completed\nA,2024-10-01,exec_sponsor_meeting,completed\n"
        "B,2024-11-01,exec_sponsor_meeting,no_show\nS,2024-11-01,exec_sponsor_meeting,completed\n"
    )
    with make(tmp_path, {"accounts": accounts, "subscriptions": subs, "activities": activities}) as ws:
        r = one(ws, "exec_sponsor_engagement", "2024-Q4")
        # B left in June: A is the only enterprise account paying at the period end, and it met
        assert (r["accounts"], r["engaged_accounts"], r["engagement_rate"]) == (1, 1, 1.0)
        assert (r["cohort_engaged"], r["nrr_12m_engaged"], r["grr_12m_engaged"]) == (1, 1.2, 1.0)
        assert (r["cohort_not_engaged"], r["nrr_12m_not_engaged"], r["logo_retention_12m_not_engaged"]) == (1, 0, 0)


def test_nps_and_csat_beside_retention(tmp_path: Path):
    subs = SUBS + (
        "A,S1,pro,2023-01-01,,100,,1,\nB,S2,pro,2023-01-01,,100,,1,\nC,S3,pro,2023-01-01,2024-08-01,100,,1,\n"
    )
    surveys = (
        "account_id,date,kind,score,comment\n"
        "A,2024-07-02,nps,10,\nA,2024-08-02,nps,10,\nB,2024-07-03,nps,9,\nB,2024-08-03,nps,8,\n"
        "B,2024-09-03,nps,6,\nC,2024-07-04,nps,3,\nA,2024-07-05,csat,4,\nB,2024-07-06,csat,5,\n"
    )
    with make(tmp_path, {"subscriptions": subs, "surveys": surveys}, nps_churn_days=30) as ws:
        r = one(ws, "nps_csat", "2024-Q3")
        assert (r["nps_responses"], r["promoters"], r["detractors"]) == (6, 3, 2)
        assert r["nps"] == pytest.approx(100 / 6)
        assert (r["csat_responses"], r["csat"]) == (2, 4.5)
        assert (r["leaver_responses"], r["nps_leavers"]) == (1, -100)  # C scored 3 and left within 30 days
        ret = next(x for x in ws.retention(window=12).to_pylist() if x["period_end"] == dt.date(2024, 9, 30))
        assert (r["nrr_12m"], r["grr_12m"], r["logo_retention_12m"]) == (ret["nrr"], ret["grr"], ret["logo_retention"])
        assert r["logo_retention_12m"] == pytest.approx(2 / 3)


# -- options, detail, bad input ----------------------------------------------------------------
def test_accounts_gives_the_facts_behind_a_metric(tmp_path: Path):
    subs = SUBS + "A,S1,pro,2024-01-01,,100,,1,\nB,S2,pro,2024-01-01,,100,,1,\n"
    with make(tmp_path, {"subscriptions": subs, "opportunities": OPPS}) as ws:
        facts = ws.catalogue("self_serve_upsell", accounts=True, by="segment").to_pylist()
        assert len(facts) == 5 and {f["opportunity_id"] for f in facts} == {"O1", "O2", "O3", "O4", "O5"}
        assert {f["segment"] for f in facts} == {"smb", "mid_market"}


def test_a_metric_needing_a_table_not_loaded_says_which_and_how(tmp_path: Path):
    with make(tmp_path, {"subscriptions": SUBS + "A,S1,pro,2024-01-01,,100,,1,\n"}) as ws:
        with pytest.raises(WorkspaceError, match=r"escalation_resolution needs the tickets table.*sources\.tickets"):
            ws.catalogue("escalation_resolution")
        with pytest.raises(ConfigError, match=r"unknown catalogue metric 'nrr'.*renewal_rate"):
            ws.catalogue("nrr")
        with pytest.raises(ConfigError, match="unknown slice"):
            ws.catalogue("renewal_rate", by="colour")
        overview = ws.catalogue().to_pylist()
        assert {r["unit"] for r in overview if r["metric"] == "nps_csat"} == {"needs surveys"}


def test_catalogue_settings_are_checked(tmp_path: Path):
    from revbook.config import CatalogueSettings

    with pytest.raises(ConfigError, match=r"unknown key 'qbr_days' in \[catalogue\]; did you mean 'qbr_types'"):
        CatalogueSettings.from_mapping({"qbr_days": 30})
    with pytest.raises(ConfigError, match="key_features must be a list"):
        CatalogueSettings.from_mapping({"key_features": "reports"})
    with pytest.raises(ConfigError, match="whole number"):
        CatalogueSettings.from_mapping({"activation_days": -1})
    assert CatalogueSettings.from_mapping({"qbr_window_days": 60}).qbr_window_days == 60
    subs = SUBS + "A,S1,pro,2024-01-10,,100,,1,\n"
    milestones = "account_id,milestone,achieved_at\nA,go_live,2024-02-01\n"
    with (
        make(tmp_path, {"subscriptions": subs, "milestones": milestones}) as ws,
        pytest.raises(ConfigError, match=r"first_value not found.*value_milestone.*go_live"),
    ):
        ws.catalogue("time_to_value")


# -- the sample company ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory):
    from revbook import sample

    tables = sample.generate(accounts=1500, seed=5)
    path = tmp_path_factory.mktemp("catalogue") / "w.duckdb"
    with Workspace(path, config=Config(as_of=sample.SampleConfig().as_of)) as ws:
        ws.load_frames(tables)
        yield ws


def _total(frame: list[dict[str, Any]], key: str, *cols: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for r in frame:
        acc = out.setdefault(r[key], [0.0] * len(cols))
        for i, c in enumerate(cols):
            acc[i] += float(r[c] or 0)
    return out


def test_the_catalogue_shows_what_the_sample_company_plants(company: Workspace):
    ws = company
    # a QBR is followed by a won expansion deal more often in mid-market than in enterprise or smb
    qbr = _total(ws.catalogue("qbr_conversion", grain="year", by="segment").to_pylist(),
                 "segment", "with_expansion_deal", "qbrs")  # fmt: skip
    assert qbr["mid_market"][0] / qbr["mid_market"][1] > qbr["enterprise"][0] / qbr["enterprise"][1]
    assert qbr["mid_market"][0] / qbr["mid_market"][1] > 2 * qbr["smb"][0] / qbr["smb"][1]
    # renewal calls record commitments, which the conversion counts too
    commit = _total(ws.catalogue("qbr_conversion", grain="year").to_pylist(), "period", "with_renewal_commitment")
    assert sum(v[0] for v in commit.values()) > 0
    # slow onboarding: lower 12-month logo retention
    onb = ws.catalogue("onboarding_time", grain="year").to_pylist()
    slow = sum((r["logo_retention_12m_slow"] or 0) * r["slow_known_12m"] for r in onb) / sum(
        r["slow_known_12m"] for r in onb
    )
    on_time = sum((r["logo_retention_12m_on_time"] or 0) * r["on_time_known_12m"] for r in onb) / sum(
        r["on_time_known_12m"] for r in onb
    )
    assert slow < on_time - 0.05
    # self-serve and product-driven expansion have no deal behind them (revbook.sample.plants), so a
    # deal-based share of self-serve upsell reads none: only the lines and the touches show them
    upsell = ws.catalogue("self_serve_upsell", grain="year").to_pylist()
    assert sum(r["deals"] for r in upsell) > 0 and sum(r["self_serve_deals"] for r in upsell) == 0
    # escalated tickets take days to close, others about one
    esc = [r for r in ws.catalogue("escalation_resolution", grain="year").to_pylist() if r["escalations_closed"]]
    assert all(r["median_days"] > 5 for r in esc) and all(r["median_days_not_escalated"] <= 2 for r in esc)
    # satisfaction is not retention: leavers answered lower, yet not every leaver was a detractor
    nps = [r for r in ws.catalogue("nps_csat", grain="year").to_pylist() if r["leaver_responses"]]
    assert nps and all(r["nps_leavers"] < r["nps_stayers"] for r in nps)
    # enterprise accounts that met their exec sponsor kept more logos
    ex = [r for r in ws.catalogue("exec_sponsor_engagement", grain="year").to_pylist() if r["cohort_engaged"]]
    kept = sum(r["logo_retention_12m_engaged"] * r["cohort_engaged"] for r in ex) / sum(r["cohort_engaged"] for r in ex)
    other = sum(r["logo_retention_12m_not_engaged"] * r["cohort_not_engaged"] for r in ex) / sum(
        r["cohort_not_engaged"] for r in ex
    )
    assert kept > other


@pytest.mark.parametrize(
    ("metric", "additive"),
    [
        ("renewal_rate", ("contracts_up", "contracts_renewed", "arr_up", "net_arr_renewed")),
        ("product_adoption", ("accounts", "adopting_accounts")),
        ("qbr_conversion", ("qbrs", "converted_qbrs")),
        ("multi_year_contract_rate", ("contracts", "arr_signed")),
        ("csm_coverage", ("accounts", "csm_arr")),
        ("nps_csat", ("nps_responses", "promoters")),
    ],
)
def test_slices_sum_to_the_whole(company: Workspace, metric: str, additive: tuple[str, ...]):
    whole = company.catalogue(metric).to_pylist()
    keys = [k for k in ("feature",) if whole and k in whole[0]]
    for dim in ("segment", "owner", "arr_band"):
        sliced = company.catalogue(metric, by=dim).to_pylist()
        for col in additive:
            sums: dict[tuple[Any, ...], Any] = {}
            for r in sliced:
                k = (r["period"], *(r[x] for x in keys))
                sums[k] = sums.get(k, 0) + r[col]
            assert {(r["period"], *(r[x] for x in keys)): r[col] for r in whole} == sums, (dim, col)


def test_cli_catalogue(company: Workspace, tmp_path: Path):
    from typer.testing import CliRunner

    from revbook.cli import app
    from revbook.cli.output import TERMINAL_COLUMNS

    before = dict(TERMINAL_COLUMNS)
    company.con.execute("CHECKPOINT")
    path = company.path
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(path.read_bytes())
    runner = CliRunner()
    result = runner.invoke(app, ["catalogue", "-w", str(copy), "--as-of", "2026-11-15"])
    assert result.exit_code == 0, result.output
    assert "renewal_rate" in result.output and "nps_csat" in result.output
    result = runner.invoke(
        app, ["catalogue", "qbr_conversion", "--by", "segment", "--grain", "year", "-w", str(copy), "--as-of",
              "2026-11-15"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "mid_market" in result.output and "%" in result.output
    result = runner.invoke(app, ["catalogue", "bogus", "-w", str(copy), "--as-of", "2026-11-15"])
    assert result.exit_code == 2 and "unknown catalogue metric" in result.output
    assert dict(TERMINAL_COLUMNS) == before  # the catalogue's columns are options, not changed globals


def test_every_catalogue_setting_and_metric_is_documented():
    from dataclasses import fields

    from revbook.config import CatalogueSettings
    from revbook.metrics.catalogue import METRICS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "definitions.md").read_text(encoding="utf-8")
    assert [f.name for f in fields(CatalogueSettings) if f"`{f.name}`" not in doc] == []
    assert [m for m in METRICS if f"| `{m}` |" not in doc] == []


@pytest.mark.parametrize(
    ("metric", "column", "aggregate", "where"),
    [
        ("renewal_rate", "arr_up", "arr_up", lambda r: not r["pending"]),
        ("multi_year_contract_rate", "arr", "arr_signed", lambda r: True),
        ("csm_coverage", "mrr", "arr", lambda r: True),
    ],
)
def test_account_level_facts_show_money_not_minor_units(company: Workspace, metric, column, aggregate, where):
    """The facts behind a figure carry money as money (2 decimals in USD): summed, they give the
    figure (12 x for an MRR column), where minor units would be 100 times it."""
    facts = company.catalogue(metric, accounts=True).to_arrow()
    assert str(facts.schema.field(column).type) == "decimal128(18, 2)"
    figures = {r["period"]: r[aggregate] for r in rows(company, metric)}
    by_period: dict[str, Decimal] = {}
    for r in facts.to_pylist():
        if where(r) and r[column] is not None:
            by_period[r["period"]] = by_period.get(r["period"], Decimal(0)) + r[column]
    assert by_period, "no facts to compare"
    scale = 12 if column == "mrr" else 1
    for period, total in by_period.items():
        assert scale * total == figures[period], (period, total, figures[period])
