"""Expansion attribution: docs/attribution.md's worked example (every class, ambiguous included), the
identity with the movements to the cent, point in time, NRR with and without product, the settings,
the rules table against the docs, the CLI, and the sample company."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revbook import Config, ConfigError, Workspace
from revbook.config import load_config
from revbook.config.attribution import AttributionSettings
from revbook.impact.attribution import CLASSES, RULES, expansions, rules_markdown
from revbook.impact.attribution_summary import summary
from support import write

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "attribution.md").read_text(encoding="utf-8")
AS_OF = dt.date(2024, 12, 31)


def _doc_tables() -> dict[str, str]:
    """The worked example's input tables: the ```csv <table> blocks of docs/attribution.md."""
    return {name: body for name, body in re.findall(r"```csv (\w+)\n(.*?)```", DOC, flags=re.S)}


def _files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: write(folder / f"{name}.csv", body) for name, body in _doc_tables().items()}


def _workspace(folder: Path, *, as_of: dt.date = AS_OF, **settings: object) -> Workspace:
    cfg = Config(as_of=as_of, attribution=AttributionSettings(**settings))  # type: ignore[arg-type]
    ws = Workspace(folder / f"w-{as_of}-{len(settings)}.duckdb", config=cfg)
    ws.load(_files(folder / "data"))
    return ws


@pytest.fixture
def company(tmp_path):
    with _workspace(tmp_path) as ws:
        yield ws


def _expected_rows() -> list[tuple[str, ...]]:
    """The docs' table of expansions: (period, account, csm, arr_delta, attribution, rule, change)."""
    rows = re.findall(r"^\| (2024-\d\d) \| (\w) \| (\w+) \| ([\d.]+) \| (\w+) \| (\w+) \| ([\w+]+) \|$", DOC, re.M)
    assert len(rows) == 12
    return rows


def test_the_worked_example_gives_every_class_as_the_docs_say(company):
    got = [
        (r["period"], r["account_id"], r["csm"], f"{r['arr_delta']:.2f}", r["attribution"], r["rule"], r["change"])
        for r in expansions(company).to_pylist()
    ]
    assert got == _expected_rows()
    assert {row[4] for row in got} == set(CLASSES)  # every class, ambiguous and price included


def test_the_evidence_of_each_rule(company):
    rows = {(r["account_id"], r["attribution"]): r for r in expansions(company).to_pylist()}
    a = rows["A", "csm"]
    assert (a["opportunity_id"], a["owner_role"], a["days_from_close"], a["change_date"]) == (
        "OA",
        "csm",
        9,
        dt.date(2024, 3, 10),
    )
    assert (a["quantity_start"], a["quantity_end"], a["csm_name"]) == (Decimal(10), Decimal(15), "Ada")
    assert rows["E", "ae"]["days_from_close"] == -5 and rows["E", "product"]["opportunity_id"] is None
    f = rows["F", "ambiguous"]
    assert (f["opportunity_id"], f["owner_role"], f["days_from_close"]) == ("OF1, OF2", "ae", -2)
    assert rows["B", "product"]["touches"] == 1  # a touch does not make usage growth the CSM's
    assert rows["C", "self_serve"]["touches"] == 0  # a no-show is no touch; a lost deal is no deal
    assert rows["D", "ambiguous"]["touches"] == 1
    j = rows["J", "self_serve"]
    assert (j["source"], j["owner_role"], j["touches"]) == ("self_serve", None, 1)
    assert rows["H", "ambiguous"]["products"] == "API, Platform"
    assert rows["I", "self_serve"]["opportunity_id"] is None
    reasons = {r.code: r.text for r in RULES}
    assert all(r["reason"] == reasons[r["rule"]] for r in rows.values())


def test_the_rows_of_each_month_sum_to_its_expansion_to_the_cent(company):
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for r in expansions(company).to_pylist():
        by_month[r["period"]] += r["arr_delta"]
    movements = {r["period"]: 12 * r["expansion_mrr"] for r in company.movements().to_pylist()}
    assert by_month == {p: v for p, v in movements.items() if v}


def test_a_deal_closed_after_the_as_of_date_is_not_used(tmp_path):
    with _workspace(tmp_path / "later", as_of=dt.date(2025, 1, 10)) as ws:
        i = [r for r in expansions(ws).to_pylist() if r["account_id"] == "I"]
    assert [(r["attribution"], r["rule"], r["opportunity_id"], r["days_from_close"]) for r in i] == [
        ("ae", "deal_ae", "OI", -13)
    ]


def test_the_windows_are_settings(tmp_path):
    with _workspace(tmp_path / "narrow", touch_days=30, deal_days_before=5) as ws:
        rows = {(r["account_id"], r["period"]): r for r in expansions(ws).to_pylist()}
    assert rows["D", "2024-06"]["attribution"] == "self_serve"  # its QBR was 45 days before
    assert (rows["A", "2024-03"]["attribution"], rows["A", "2024-03"]["rule"]) == ("self_serve", "added_no_touch")
    assert rows["F", "2024-08"]["rule"] == "deal_ae"  # OF1 closed 9 days before: outside 5
    with _workspace(tmp_path / "types", touch_types=["renewal_call"], missed_outcomes=[]) as ws:
        rows = {(r["account_id"], r["period"]): r for r in expansions(ws).to_pylist()}
    assert rows["D", "2024-06"]["attribution"] == "self_serve" and rows["J", "2024-11"]["touches"] == 0


def test_the_settings_are_checked(tmp_path):
    path = write(tmp_path / "revbook.toml", "[attribution]\ntouch_days = 30\ntouch_types = ['QBR']\n")
    loaded = load_config(path).attribution
    assert (loaded.touch_days, loaded.touch_types, loaded.deal_days_before) == (30, ("qbr",), 45)
    with pytest.raises(ConfigError, match="did you mean 'touch_days'"):
        AttributionSettings.from_mapping({"touch_day": 3})
    with pytest.raises(ConfigError, match="from 0 to 800"):
        AttributionSettings.from_mapping({"deal_days_after": -1})
    with pytest.raises(ConfigError, match="whole number"):
        AttributionSettings.from_mapping({"deal_days_before": 4.5})
    with pytest.raises(ConfigError, match="no activity would count"):
        AttributionSettings.from_mapping({"touch_types": []})
    with pytest.raises(ConfigError, match="list of names"):
        AttributionSettings.from_mapping({"missed_outcomes": "no_show"})


def test_nrr_without_product_as_the_docs_compute_it(company):
    (row,) = summary(company, window=11).to_pylist()
    arr = (row["start_arr"], row["end_arr"], row["retained_arr"])
    assert arr == (Decimal(114000), Decimal(145200), Decimal(102000))
    assert row["end_arr_without_product"] == 12 * Decimal(11800) and row["product_arr_removed"] == Decimal(3600)
    assert round(row["nrr"], 6) == round(12100 / 9500, 6) and round(row["grr"], 6) == round(8500 / 9500, 6)
    assert round(row["nrr_without_product"], 6) == round(11800 / 9500, 6)
    expected = {"csm": 6000, "ae": 6000, "product": 7200, "self_serve": 16800, "price": 1200, "ambiguous": 9600}
    assert {c: row[f"{c}_arr"] for c in CLASSES} == {c: Decimal(v) for c, v in expected.items()}
    assert row["gross_expansion_arr"] == Decimal(46800) and row["window_start"] == dt.date(2024, 2, 1)
    assert round(row["product_share"], 6) == round(7200 / 46800, 6)
    for text in ("127.37%", "89.47%", "124.21%", "46,800.00"):
        assert text in DOC
    # the same NRR and GRR as the retention metric, whose definition it shares
    ret = [r for r in company.retention(window=11).to_pylist() if r["period"] == "2024-12"]
    assert (ret[0]["nrr"], ret[0]["grr"]) == (row["nrr"], row["grr"])


def test_per_csm_influenced_and_ambiguous_expansion_and_nrr(company):
    rows = {r["csm"]: r for r in summary(company, window=11, by="csm").to_pylist()}
    table = re.findall(r"^\| (\w+) \| ([\d,]+) \| ([\d,]+) \| ([\d.]+)% \| ([\d.]+)% \| ([\d.]+)% \| ([\d,]+) \|"
                       r" ([\d,]+) \| ([\d,]+) \|$", DOC, re.M)  # fmt: skip
    assert len(table) == 3

    def num(text: str) -> Decimal:
        return Decimal(text.replace(",", ""))

    for csm, start, end, nrr, nrr_wo, grr, gross, influenced, ambiguous in table:
        r = rows[csm]
        assert (r["start_arr"], r["end_arr"]) == (12 * num(start), 12 * num(end))
        assert (f"{100 * r['nrr']:.2f}", f"{100 * r['nrr_without_product']:.2f}", f"{100 * r['grr']:.2f}") == (
            nrr,
            nrr_wo,
            grr,
        )
        assert r["gross_expansion_arr"] == num(gross)
        assert (r["csm_arr"], r["ambiguous_arr"]) == (num(influenced), num(ambiguous))
    assert rows["P1"]["csm_name"] == "Ada" and rows["unassigned"]["csm_name"] == "unassigned"
    by_owner = {r["owner"]: r for r in company.retention(window=11, by="owner").to_pylist() if r["period"] == "2024-12"}
    assert rows["P2"]["nrr"] == by_owner["P2"]["nrr"] and rows["unassigned"]["grr"] == by_owner["(none)"]["grr"]
    with pytest.raises(ConfigError, match="cannot be split by 'segment'"):
        summary(company, by="segment")
    with pytest.raises(ConfigError, match="whole number of months"):
        summary(company, window=0)


def test_grr_at_most_nrr_without_product_at_most_nrr_equal_without_product_expansion(company):
    for window in (1, 3, 6, 11):
        for r in summary(company, window=window, by="csm").to_pylist():
            if r["nrr"] is None:
                continue
            assert r["grr"] <= r["nrr_without_product"] <= r["nrr"]
            assert (r["product_arr_removed"] == 0) == (r["nrr_without_product"] == r["nrr"])
            assert r["retained_arr"] <= r["end_arr_without_product"] <= r["end_arr"]
            assert sum(r[f"{c}_arr"] for c in CLASSES) == r["gross_expansion_arr"]
    # a window longer than the book: no cohort, so no NRR, and every expansion so far
    (longer,) = summary(company, window=24).to_pylist()
    assert (longer["start_accounts"], longer["nrr"], longer["nrr_without_product"]) == (0, None, None)
    assert longer["gross_expansion_arr"] == sum(r["arr_delta"] for r in expansions(company).to_pylist())


def test_the_owner_and_date_filters(company):
    p1 = expansions(company, owner="P1").to_pylist()
    assert [r["account_id"] for r in p1] == ["A", "B", "C", "D"]
    summer = expansions(company, start="2024-06-30", end="2024-08-31").to_pylist()
    assert {r["period"] for r in summer} == {"2024-06", "2024-07", "2024-08"}
    with pytest.raises(ConfigError, match="date like"):
        expansions(company, start="June")


def test_the_docs_hold_the_rules_as_the_code_does():
    held = DOC.split("<!-- rules -->\n", 1)[1].split("\n<!-- /rules -->", 1)[0]
    assert held == rules_markdown()
    assert [r.step for r in RULES] == sorted(r.step for r in RULES)
    assert {r.attribution for r in RULES} == set(CLASSES)
    for field in AttributionSettings.__dataclass_fields__:
        assert f"{field} =" in DOC and f"`{field}`" in DOC


def test_the_command_prints_the_summary_and_the_rows(tmp_path):
    from revbook.cli import app

    files = _files(tmp_path / "data")
    sources = "".join(f'[sources.{name}]\npath = "{path}"\n' for name, path in files.items())
    config = write(tmp_path / "revbook.toml", f'[workspace]\npath = "w.duckdb"\nas_of = "2024-12-31"\n{sources}')
    runner = CliRunner(env={"COLUMNS": "120"})
    assert runner.invoke(app, ["load", "-c", str(config)]).exit_code == 0
    rows = runner.invoke(app, ["attribution", "--accounts", "--format", "csv", "--owner", "P2", "-c", str(config)])
    assert rows.exit_code == 0, rows.output
    lines = rows.stdout.strip().splitlines()
    assert lines[0].startswith('"period","period_end","account_id","csm",') and len(lines) == 1 + 5
    args = ["attribution", "--by", "csm", "--window", "11", "--format", "json", "-c", str(config)]
    per_csm = runner.invoke(app, args)
    assert per_csm.exit_code == 0 and '"csm_arr": "6000.00"' in per_csm.stdout
    one = runner.invoke(app, ["attribution", "--owner", "P1", "--window", "11", "-c", str(config)])
    assert one.exit_code == 0 and "140.5%" in one.stdout and "P2" not in one.stdout
    bad = runner.invoke(app, ["attribution", "--by", "segment", "-c", str(config)])
    assert bad.exit_code == 2 and "cannot be split by 'segment'" in bad.output


def test_on_the_sample_company_the_classes_sum_to_the_expansion_movements(tmp_path):
    from revbook import sample

    with Workspace(tmp_path / "s.duckdb", config=Config(as_of=sample.SampleConfig().as_of)) as ws:
        ws.load(dict(sample.write(tmp_path / "data", accounts=300, seed=11)))
        rows = expansions(ws).to_pylist()
        movements = {r["period"]: 12 * r["expansion_mrr"] for r in ws.movements().to_pylist()}
        (total,) = summary(ws).to_pylist()
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        by_month[r["period"]] += r["arr_delta"]
        assert r["arr_delta"] > 0 and r["attribution"] in CLASSES
    assert by_month == {p: v for p, v in movements.items() if v}
    assert {r["attribution"] for r in rows} >= {"csm", "ae", "product"}
    last12 = sorted(movements)[-12:]
    assert total["gross_expansion_arr"] == sum(movements[p] for p in last12)
    assert total["grr"] <= total["nrr_without_product"] <= total["nrr"]


def test_a_deal_explains_only_the_change_nearest_its_close(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    subs = (
        "account_id,subscription_id,line_id,product,start_date,end_date,unit_price,quantity,billing_period_months,"
        "pricing_model\n"
        "M,SM,1,Platform,2024-01-01,2024-03-01,100,10,1,per_seat\n"
        "M,SM,2,Platform,2024-03-01,2024-04-05,100,12,1,per_seat\n"
        "M,SM,3,Platform,2024-04-05,,100,14,1,per_seat\n"
    )
    # closed 2024-03-10: 9 days after the first change, 26 days before the second (both in the window)
    opps = "account_id,opportunity_id,kind,closed_at,won,owner_role\nM,OM,expansion,2024-03-10,true,csm\n"
    files = {
        "accounts": write(data / "a.csv", "account_id\nM\n"),
        "subscriptions": write(data / "s.csv", subs),
        "opportunities": write(data / "o.csv", opps),
    }
    with Workspace(tmp_path / "w.duckdb", config=Config(as_of=AS_OF)) as ws:
        ws.load(files)
        rows = [
            (r["period"], r["attribution"], r["opportunity_id"], r["days_from_close"])
            for r in expansions(ws).to_pylist()
        ]
    assert rows == [("2024-03", "csm", "OM", -9), ("2024-04", "self_serve", None, None)]
