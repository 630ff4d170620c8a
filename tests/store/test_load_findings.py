"""What a load keeps: its warnings in the workspace (replaced by the next load of the table), the
refusal to lose rows, strict mode, and the line each data row starts on."""

from __future__ import annotations

from pathlib import Path

import pytest

from revbook import ContractError, SourceError
from revbook.sources.files import lines_of
from support import write


def test_warnings_are_returned_kept_and_replaced_by_the_next_load(ws, small_files, tmp_path):
    padded = write(tmp_path / "acc.csv", "account_id,name\nA,Acme\n B ,Brugge\nC,Cobalt\n")
    results = ws.load({**small_files, "accounts": padded})
    (acc,) = [r for r in results if r.table == "accounts"]
    (w,) = acc.warnings
    assert (w.severity, w.check, w.column, w.row, w.line, w.rows) == ("warning", "padded", "account_id", 2, 3, 1)
    assert w.where() == "acc.csv, data row 2 (line 3), column 'account_id'"
    kept = ws.load_warnings().to_pylist()
    assert [(k["check"], k["table"], k["row"], k["line"], k["value"]) for k in kept] == [
        ("padded", "accounts", 2, 3, None)
    ]
    # B was trimmed, so its subscription still finds it
    assert {r["account_id"] for r in ws.ledger().to_pylist()} == {"A", "B", "C"}
    assert any(f["check"] == "padded" for f in ws.check().to_pylist())
    # loading another table keeps the accounts' warning; reloading accounts replaces it
    ws.load({"people": write(tmp_path / "people.csv", "owner_id,name,team\nP1,Ada,SMB Pod\nP2,Bo,MM\n")})
    assert [k["check"] for k in ws.load_warnings().to_pylist()] == ["padded"]
    ws.load({"accounts": small_files["accounts"]})
    assert ws.load_warnings().to_pylist() == []


def test_contract_warnings_follow_the_workspace(ws, small_files, tmp_path):
    ws.load(small_files)
    owners = write(
        tmp_path / "own.csv",
        "account_id,owner_id,role,start_date,end_date\nA,P1,csm,2024-01-01,\nA,P9,csm,2024-03-01,\n",
    )
    (result,) = ws.load({"owners": owners}, replace=True)
    assert sorted(w.check for w in result.warnings) == ["overlapping_owners", "unknown_owner"]
    # adding P9 to people clears the unknown owner at once: the checks run again at every load
    people = write(tmp_path / "people.csv", "owner_id,name,team\nP1,Ada,SMB\nP2,Bo,MM\nP9,Cy,MM\n")
    ws.load({"people": people})
    assert [k["check"] for k in ws.load_warnings().to_pylist()] == ["overlapping_owners"]


def test_strict_rejects_a_warning_and_changes_nothing(ws, small_files, tmp_path):
    ws.load(small_files)
    before = ws.row_counts()
    rounded = write(
        tmp_path / "fx.csv", "date,currency,rate_to_reporting\n2024-01-01,EUR,1.1234567891\n2024-06-01,EUR,1.2\n"
    )
    with pytest.raises(ContractError) as info:
        ws.load({"fx_rates": rounded}, strict=True)
    err = info.value
    assert (err.row, err.line, err.column, err.value) == (1, 2, "rate_to_reporting", "1.1234567891")
    assert "strict mode" in str(err) and "kept as 1.12345679" in str(err)
    assert ws.row_counts() == before and ws.load_warnings().to_pylist() == []
    (result,) = ws.load({"fx_rates": rounded})
    assert [w.check for w in result.warnings] == ["rounded"]


def test_a_load_may_not_empty_or_halve_a_table_unless_replace(ws, small_files, tmp_path):
    ws.load(small_files)
    header_only = write(tmp_path / "subs.csv", "account_id,subscription_id,start_date,mrr\n")
    with pytest.raises(ContractError) as info:
        ws.load({"subscriptions": header_only})
    assert "would remove every one of its 4 rows, leaving 0" in str(info.value) and "--replace" in str(info.value)
    assert ws.row_counts()["subscriptions"] == 4
    one = write(tmp_path / "one.csv", "account_id,subscription_id,start_date,mrr\nA,S,2024-01-01,1\n")
    with pytest.raises(ContractError) as info:
        ws.load({"subscriptions": one})  # 4 -> 1 removes 75%
    assert "would remove 3 (75%) of its 4 rows, leaving 1" in str(info.value)
    two = write(
        tmp_path / "two.csv", "account_id,subscription_id,start_date,mrr\nA,S1,2024-01-01,1\nB,S2,2024-01-01,2\n"
    )
    (result,) = ws.load({"subscriptions": two})  # 4 -> 2 removes half: allowed by the default max_shrink
    assert result.rows == 2
    (emptied,) = ws.load({"subscriptions": header_only}, replace=True)
    assert emptied.rows == 0 and [w.check for w in emptied.warnings] == ["no_rows"]
    assert "it had 2 rows" in emptied.warnings[0].message


def test_max_shrink_is_a_setting(tmp_path, small_files):
    from revbook import Config, ConfigError, Workspace

    with pytest.raises(ConfigError):
        Config(max_shrink=1.5)
    with Workspace(tmp_path / "w.duckdb", config=Config(max_shrink=0.8)) as w:
        w.load(small_files)
        one = write(tmp_path / "one.csv", "account_id,subscription_id,start_date,mrr\nA,S,2024-01-01,1\n")
        (result,) = w.load({"subscriptions": one})  # 75% fewer rows: within 0.8
        assert result.rows == 1


@pytest.mark.parametrize(
    ("text", "rows", "lines"),
    [
        ("a,b\n1,2\n3,4\n", {1, 2}, {1: 2, 2: 3}),
        ("a,b\n\n1,2\n\n\n3,4\n", {1, 2}, {1: 3, 2: 6}),  # blank lines are skipped, and counted
        ('a,b\n1,"two\nlines"\n3,4\n', {1, 2}, {1: 2, 2: 4}),  # a quoted line break
        ("\ufeffa;b\r\n1;2\r\n3;4\r\n", {2}, {2: 3}),
    ],
)
def test_lines_of_data_rows(tmp_path, text, rows, lines):
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert lines_of(str(path), rows) == lines


def test_a_bad_value_after_a_quoted_line_break_names_its_real_line(ws, tmp_path):
    path = write(tmp_path / "acc.csv", 'account_id,name,created_at\nA,"Acme\nInc",2024-01-01\nB,Bee,someday\n')
    with pytest.raises(SourceError) as info:
        ws.load({"accounts": path})
    assert (info.value.row, info.value.line, info.value.column) == (2, 4, "created_at")
    assert str(info.value).startswith(f"{path}, data row 2 (line 4), column 'created_at'")


def test_excel_rows_are_sheet_rows(tmp_path):
    assert lines_of(str(Path(tmp_path / "x.xlsx")), {3}) == {}  # no file, no lines
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["account_id"])
    wb.save(tmp_path / "x.xlsx")
    assert lines_of(str(tmp_path / "x.xlsx"), {3}) == {3: 4}


def test_a_workspace_from_before_kept_findings_opens_read_only(small_files, tmp_path):
    """A workspace written before loads kept their findings has no findings table; opened read-only
    (as `check`, `headline` and the dashboard open it) it reads as no findings kept, never a crash."""
    import duckdb

    from revbook import Config, Workspace
    from revbook.store import FINDINGS_TABLE

    path = tmp_path / "old.duckdb"
    with Workspace(path, config=Config()) as ws:
        ws.load(small_files)
    con = duckdb.connect(str(path))
    con.execute(f"DROP TABLE {FINDINGS_TABLE}")
    con.close()
    with Workspace(path, config=Config(), read_only=True) as ws:
        assert len(ws.load_warnings()) == 0
        assert ws.load_warnings().columns == ["severity", "check", "table", "rows", "message", "hint", "file",
                                              "row", "line", "column", "value"]  # fmt: skip
        assert "severity" in ws.check().columns


def test_padding_is_what_the_read_trims(ws, small_files, tmp_path):
    """A value is padded when the read trims it (spaces, tabs, a no-break space, a byte-order mark
    at either end) and it is not blank; a control character the read keeps is no padding."""
    acc = write(
        tmp_path / "acc.csv",
        "account_id,name\nA,\u00a0Acme\nB,Brugge\t\nC,Co\x01\nD,\ufeffDelta\n",
    )
    subs = write(
        tmp_path / "subs.csv",
        small_files["subscriptions"].read_text() + "D,S9,core,basic,2024-02-01,,10,1,USD\n",
    )
    results = ws.load({**small_files, "accounts": acc, "subscriptions": subs})
    (w,) = [w for r in results if r.table == "accounts" for w in r.warnings if w.check == "padded"]
    assert (w.column, w.rows, w.row) == ("name", 3, 1)
    names = {r["account_id"]: r["name"] for r in ws.table("accounts").to_pylist()}
    assert names == {"A": "Acme", "B": "Brugge", "C": "Co\x01", "D": "Delta"}
