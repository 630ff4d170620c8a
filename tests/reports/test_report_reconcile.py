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
