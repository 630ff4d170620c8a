"""The report's Renewals section: the book's buckets and the renewal rate by quarter, the library's figures."""

from __future__ import annotations

import re

from revbook import Config, Workspace, sample
from revbook.reports import write_report
from revbook.reports.charts import money, pct
from revbook.rum.renewals import bucket_edges, summary_of
from support import sample_workspace

AS_OF = sample.SampleConfig().as_of


def test_report_has_the_renewals_by_bucket_and_the_rate_by_quarter(tmp_path):
    path = sample_workspace(tmp_path, as_of=AS_OF, accounts=150)
    with Workspace(path, config=Config(as_of=AS_OF)) as ws:
        out = write_report(ws, tmp_path / "report.html")
        summary = summary_of(ws.renewals(), bucket_edges((30, 60, 90, 180), 180)).to_pylist()
        rates = ws.renewal_rate(by="due_quarter").to_pylist()[-8:]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", out.read_text(encoding="utf-8")))
    section = text.split(" Renewals ", 1)[1]
    assert summary[-1]["accounts"] > 0 and rates
    for s in summary:
        label = "every bucket" if s["bucket"] is None else s["bucket_label"]
        assert f"{label} {s['accounts']:,} {money(s['arr_due'])} {money(s['expected_arr'])}" in section
    for q in rates:
        assert f"{q['due_quarter']} {q['renewals_due']} {q['renewed']} {pct(q['logo_renewal_rate'])}" in section
