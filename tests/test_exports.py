"""The demo's files (sample.demo), every metric table written (exports) and one owner's book (metrics.owners)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revbook import ConfigError, Frame, Workspace, load_config, sample
from revbook.exports import metric_tables, write_metric_tables
from revbook.metrics.book import UNASSIGNED
from revbook.metrics.owners import book_accounts, for_owner
from revbook.sample.demo import write_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    files = write_demo(tmp_path_factory.mktemp("demo"), accounts=150, seed=7)
    with Workspace(config=files.config) as ws:
        ws.load(files.tables)
        yield files, ws


def test_write_demo_writes_the_tables_labels_and_a_config_that_loads(demo):
    files, _ = demo
    directory = files.config_path.parent
    assert files.config_path == directory / "revbook.toml"
    assert files.config.workspace == directory / "revbook.duckdb"
    assert files.config.as_of == sample.SampleConfig().as_of
    assert {"accounts", "subscriptions", "churn_reasons", "notes"} <= set(files.tables)
    generated = sample.generate(accounts=150, seed=7, text=True)
    assert pq.read_table(files.tables["subscriptions"]).equals(generated["subscriptions"])
    labelled = sample.labels(accounts=150, seed=7)
    for name, table in labelled.items():
        assert pq.read_table(directory / "data" / f"{name}.parquet").equals(table)
    cfg = load_config(files.config_path)
    assert cfg.workspace == files.config.workspace and cfg.as_of == files.config.as_of
    assert {t: s.paths for t, s in cfg.sources.items()} == {t: (p,) for t, p in files.tables.items()}


def test_write_demo_removes_an_earlier_workspace(tmp_path: Path):
    stale = tmp_path / "revbook.duckdb"
    stale.write_bytes(b"an earlier demo")
    files = write_demo(tmp_path, accounts=20, seed=1)
    assert files.config.workspace == stale and not stale.exists()
    with pytest.raises(ConfigError, match="at least 1 account"):
        write_demo(tmp_path / "none", accounts=0)


def test_write_metric_tables_writes_what_the_workspace_computes(demo, tmp_path: Path):
    _, ws = demo
    frames = write_metric_tables(ws, tmp_path)
    assert list(frames) == list(metric_tables(ws))
    assert {"churn_reasons_classified", "churn_pareto", "signals", "signal_lift", "data_quality"} <= set(frames)
    for name, frame in frames.items():
        assert pq.read_table(tmp_path / "parquet" / f"{name}.parquet").equals(frame.to_arrow()), name
        assert (tmp_path / "csv" / f"{name}.csv").read_text(encoding="utf-8").startswith('"'), name
    fresh = {
        "movements_by_owner": ws.movements(by="owner"),
        "retention_by_arr_band": ws.retention(by="arr_band"),
        "cohorts_nrr_triangle": ws.cohorts(triangle="nrr"),
        "mrr_by_account": ws.mrr(accounts=True),
        "recognised_revenue": ws.revenue(),
    }
    for name, frame in fresh.items():
        assert pq.read_table(tmp_path / "parquet" / f"{name}.parquet").equals(frame.to_arrow()), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv", "parquet"]


def test_write_metric_tables_formats(demo, tmp_path: Path):
    _, ws = demo
    frames = write_metric_tables(ws, tmp_path, formats=("json",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["json"]
    rows = json.loads((tmp_path / "json" / "movements_monthly.json").read_text(encoding="utf-8"))
    assert [r["period"] for r in rows] == frames["movements_monthly"].to_arrow().column("period").to_pylist()
    with pytest.raises(ConfigError, match="unknown output format 'xlsx'"):
        write_metric_tables(ws, tmp_path / "bad", formats=("csv", "xlsx"))
    assert not (tmp_path / "bad").exists()


def test_for_owner_by_the_owner_column(demo):
    from revbook import rum

    _, ws = demo
    accounts = rum.accounts(ws)
    owners = [o for o in accounts.to_arrow().column("owner").to_pylist() if o is not None]
    owner = max(set(owners), key=owners.count)
    mine = for_owner(accounts, owner)
    assert mine.name == accounts.name
    assert mine.to_pylist() == [r for r in accounts.to_pylist() if r["owner"] == owner]
    assert 0 < len(mine) < len(accounts)
    assert for_owner(accounts, None) is accounts
    assert len(for_owner(accounts, "nobody")) == 0


def test_for_owner_by_the_book_on_a_date(demo):
    _, ws = demo
    day = ws.config.snapshot_date()
    held = [
        r for r in ws.mrr(accounts=True, by="owner").to_pylist() if r["period_end"] == day and r["owner"] != UNASSIGNED
    ]
    owner = held[0]["owner"]
    book = book_accounts(ws, owner)
    assert book == {r["account_id"] for r in held if r["owner"] == owner}
    ids = sorted({r["account_id"] for r in ws.mrr(accounts=True).to_pylist()})
    frame = Frame("notes", pa.table({"account_id": ids, "n": list(range(len(ids)))}))
    mine = for_owner(frame, owner, store=ws)
    assert mine.to_arrow().column("account_id").to_pylist() == [a for a in ids if a in book]
    assert book_accounts(ws, owner, on=day) == book
    with pytest.raises(ConfigError, match="has no owner column"):
        for_owner(frame, owner)
