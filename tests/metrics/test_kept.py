"""The stages a load keeps in the workspace file: read back by the next process while their key
holds, never when anything they depend on changed, and committed with the load or not at all."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from revbook import Config, ContractError, Workspace
from revbook.metrics import book as book_module
from revbook.metrics.book import STAGE_CODE, stage_key, stage_settings
from revbook.metrics.kept import CHECKS_STAGE
from revbook.store import stages
from support import AS_OF, write

SRC = Path(book_module.__file__).resolve().parents[1]


def figures(ws: Workspace) -> dict[str, list]:
    return {
        "movements": ws.movements().to_pylist(),
        "movements_by_segment": ws.movements(by="segment").to_pylist(),
        "movements_by_owner_quarter": ws.movements(grain="quarter", by="owner").to_pylist(),
        "retention_by_segment": ws.retention(window=(1, 12), by="segment").to_pylist(),
        "mrr_by_plan": ws.mrr(by="plan").to_pylist(),
        "accounts": ws.mrr(accounts=True).to_pylist(),
        "headline": ws.headline(),
        "check": ws.check().to_pylist(),
    }


def _no_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the ledger or the shared month states again fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ledger was built again")

    monkeypatch.setattr(book_module, "build_ledger", refuse)


@pytest.fixture
def loaded(tmp_path: Path, small_files: dict[str, Path]) -> Path:
    path = tmp_path / "w.duckdb"
    with Workspace(path, config=Config(as_of=AS_OF)) as ws:
        ws.load(small_files)
    return path


def test_a_load_keeps_the_stages_and_the_next_process_reads_them(loaded: Path, monkeypatch: pytest.MonkeyPatch):
    with Workspace(loaded, config=Config(as_of=AS_OF), read_only=True) as ws:
        fresh_key = stage_key(ws)
    # the same figures computed from nothing kept (another key), for comparison
    monkeypatch.setattr(book_module, "stage_key", lambda store: "0" * 64)
    with Workspace(loaded, config=Config(as_of=AS_OF), read_only=True) as ws:
        assert ws.book.kept == frozenset()
        expected = figures(ws)
    monkeypatch.setattr(book_module, "stage_key", lambda store: fresh_key)
    _no_rebuild(monkeypatch)
    with Workspace(loaded, config=Config(as_of=AS_OF), read_only=True) as ws:
        kept = ws.book.kept
        assert {"rb_lines", "rb_changes_month", "rb_changes_quarter", "rb_changes_year", "rb_state_month_all"} <= kept
        for grain in ("month", "quarter", "year"):
            assert any(n.startswith(f"rb_state_{grain}_segment") for n in kept), grain
        assert not any(n in kept for n in ("rb_source", "rb_priced"))  # the steps before the ledger are not kept
        assert figures(ws) == expected


def test_the_findings_are_kept_with_the_stages(loaded: Path, small_files: dict[str, Path], monkeypatch):
    import revbook.quality as quality

    subs = small_files["subscriptions"]
    overlap = write(subs.parent / "overlap.csv", subs.read_text() + "A,S8,core,basic,2024-02-01,2024-03-01,100,1,USD\n")
    with Workspace(loaded, config=Config(as_of=AS_OF)) as ws:
        ws.load({"subscriptions": overlap})
    with Workspace(loaded, config=Config(as_of=AS_OF), read_only=True) as ws:
        found = ws.check().to_pylist()
        assert CHECKS_STAGE in stages.kept(ws.con, stage_key(ws))

        def refuse(store: object) -> None:
            raise AssertionError("the checks ran again")

        monkeypatch.setattr(quality, "run_checks", refuse)
        assert ws.check().to_pylist() == found
        assert "overlapping_lines" in {f["check"] for f in found}


@pytest.mark.parametrize(
    "change",
    [
        {"as_of": dt.date(2024, 11, 30)},
        {"churn_grace_days": 10},
        {"churn_recognition": "cancellation"},
        {"mrr_price": "list"},
        {"fiscal_year_start_month": 4},
        {"reactivation_as_new_after_months": 3},
        {"cohort_slice": "quarter"},
        {"arr_bands": (1000, 5000)},
    ],
)
def test_a_changed_setting_leaves_the_kept_stages_unread(loaded: Path, change: dict[str, object]):
    with Workspace(loaded, config=Config(as_of=AS_OF), read_only=True) as ws:
        assert ws.book.kept
        key = stage_key(ws)
    with Workspace(loaded, config=dataclasses.replace(Config(as_of=AS_OF), **change), read_only=True) as ws:  # type: ignore[arg-type]
        assert stage_key(ws) != key
        assert ws.book.kept == frozenset()
        assert ws.movements().to_pylist()  # computed in memory, as before stages were kept


def test_a_section_of_settings_the_stages_never_read_keeps_them(loaded: Path):
    cfg = Config(as_of=AS_OF)
    other = dataclasses.replace(cfg, health=dataclasses.replace(cfg.health, cancel_cap=20.0))
    with Workspace(loaded, config=other, read_only=True) as ws:
        assert "rb_lines" in ws.book.kept


def test_newer_code_leaves_them_unread(loaded: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with Workspace(loaded, config=Config(as_of=AS_OF), read_only=True) as ws:
        before = stage_key(ws)
    monkeypatch.setattr(book_module, "STAGE_CODE", (*STAGE_CODE, "definitions.py"))
    with Workspace(loaded, config=Config(as_of=AS_OF), read_only=True) as ws:
        assert stage_key(ws) != before
        assert ws.book.kept == frozenset()


def test_a_new_load_replaces_them_and_a_rejected_one_leaves_them(loaded: Path, small_files: dict[str, Path]):
    with Workspace(loaded, config=Config(as_of=AS_OF)) as ws:
        first_key = stage_key(ws)
        before = ws.mrr().to_pylist()
        subs = small_files["subscriptions"]
        bad = write(subs.parent / "bad.csv", subs.read_text() + "D,S9,core,basic,2024-13-45,,10,1,USD\n")
        with pytest.raises(ContractError):
            ws.load({"subscriptions": bad})
        assert stage_key(ws) == first_key and stages.kept(ws.con, first_key)
        assert ws.mrr().to_pylist() == before
        more = write(subs.parent / "more.csv", subs.read_text() + "C,S9,core,basic,2024-06-01,,1000,1,USD\n")
        ws.load({"subscriptions": more})
        assert stage_key(ws) != first_key
        assert stages.kept(ws.con, first_key) == []
        assert "rb_lines" in stages.kept(ws.con, stage_key(ws))
    with Workspace(loaded, config=Config(as_of=AS_OF), read_only=True) as ws:
        assert "rb_lines" in ws.book.kept
        mrr = {r["period"]: r["mrr"] for r in ws.mrr().to_pylist()}
        old = {r["period"]: r["mrr"] for r in before}
        assert mrr["2024-06"] - old["2024-06"] == 1000  # the new line, read from the new kept stages


def test_a_load_of_unchanged_files_refreshes_stale_stages(loaded: Path, small_files: dict[str, Path]):
    later = Config(as_of=dt.date(2025, 1, 31))
    with Workspace(loaded, config=later) as ws:
        assert ws.book.kept == frozenset()  # kept for the other as-of date
        results = ws.load(small_files)
        assert all(r.skipped for r in results)
        assert "rb_lines" in stages.kept(ws.con, stage_key(ws))
    with Workspace(loaded, config=later, read_only=True) as ws:
        assert "rb_lines" in ws.book.kept


def test_every_setting_the_stage_code_reads_is_in_the_key():
    """A setting read by the code of a kept stage must change the key when it changes: a field of
    Config that is neither left out of the key nor a section of revbook.toml (which the key skips)."""
    keyed = set(stage_settings(Config()))
    derived = {
        name for name in dir(Config) if isinstance(getattr(Config, name), property) or callable(getattr(Config, name))
    }
    files = [p for m in STAGE_CODE for p in ((SRC / m).glob("*.py") if (SRC / m).is_dir() else [SRC / m])]
    read = {name for f in files for name in re.findall(r"config\.([a-z_]+)", f.read_text())}
    assert read, "the stage code reads settings"
    assert read - keyed - derived == set()


def test_the_kept_findings_reuse_the_loads_contract_checks(tmp_path: Path, small_files: dict[str, Path], monkeypatch):
    """The contract checks run once per load (before its commit); the kept findings hold what they
    found, each at its own severity, the same as every check run again over the committed tables."""
    import revbook.quality.run as checks

    owners = write(
        tmp_path / "own.csv",
        "account_id,owner_id,role,start_date,end_date\nA,P1,csm,2024-01-01,\nA,P9,csm,2024-03-01,\n",
    )
    runs: list[tuple[str, ...]] = []
    run = checks._run

    def counted(ws: object, which: tuple[checks.Check, ...]) -> list:
        runs.append(tuple(c.name for c in which))
        return run(ws, which)  # type: ignore[arg-type]

    monkeypatch.setattr(checks, "_run", counted)
    path = tmp_path / "w.duckdb"
    with Workspace(path, config=Config(as_of=AS_OF)) as ws:
        ws.load({**small_files, "owners": owners})
    contract = tuple(c.name for c in checks.CHECKS if c.at_load)
    assert runs.count(contract) == 1  # once, inside the load
    assert len(runs) == 2 and not set(runs[1]) & set(contract)  # the others, once, after the commit
    with Workspace(path, config=Config(as_of=AS_OF), read_only=True) as ws:
        kept = ws.check().to_pylist()
        assert len(runs) == 2  # read from the file
        monkeypatch.setattr(book_module, "stage_key", lambda store: "0" * 64)
        ws.reset_derived()
        assert ws.check().to_pylist() == kept  # every check run again over the same tables
    assert {"overlapping_owners", "unknown_owner"} <= {f["check"] for f in kept}
