"""The report's reconciliation section: the last six months of why_numbers_differ, the library's figures."""

from __future__ import annotations

import re

from revbook import Config, Workspace, sample
from revbook.metrics.reconcile import CAUSES
from revbook.reports import write_report
from revbook.reports.charts import money
from support import sample_workspace

AS_OF = sample.SampleConfig().as_of


def test_report_has_the_last_six_months_split_by_cause(tmp_path):
    path = sample_workspace(tmp_path, as_of=AS_OF, accounts=150)
    with Workspace(path, config=Config(as_of=AS_OF)) as ws:
        out = write_report(ws, tmp_path / "report.html")
        months = ws.why_numbers_differ().to_pylist()[-6:]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", out.read_text(encoding="utf-8")))
    section = text.split(" Why our numbers differ ", 1)[1]
    assert len(months) == 6
    for r in months:
        figures = [r["revbook_mrr"], r["invoiced"], r["difference"], *(r[c] for c in CAUSES), r["unexplained"]]
        assert f"{r['period']} " + " ".join(money(v) for v in figures) in section


def test_report_has_the_crm_arr_field_beside_revbooks_arr(tmp_path):
    """The CRM worked example of docs/reconciliation.md: each read day's row, split by cause."""
    import datetime as dt

    from revbook.metrics.reconcile import CRM_CAUSES
    from test_reconcile_crm import _company

    with Workspace(tmp_path / "c.duckdb", config=Config(as_of=dt.date(2024, 3, 31))) as ws:
        ws.load_frames(_company())
        out = write_report(ws, tmp_path / "report.html")
        days = ws.why_numbers_differ(against="crm").to_pylist()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", out.read_text(encoding="utf-8")))
    section = text.split(" Against the CRM's ARR field ", 1)[1]
    assert [str(r["read_on"]) for r in days] == ["2024-01-15", "2024-03-15"]
    for r in days:
        figures = [r["revbook_arr"], r["crm_arr"], r["difference"], *(r[c] for c in CRM_CAUSES), r["unexplained"]]
        assert f"{r['read_on']} " + " ".join(money(v) for v in figures) in section
    assert "2024-03-15 5,400 9,900 -4,500" in section
