"""`revbook load` on damaged input: each bad file is rejected with exit 2, one line naming its file,
data row, line and column, and the workspace left exactly as it was; each value revbook changes or
ignores is a warning the load prints (and `--strict` turns into a rejection)."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import revbook
from revbook.cli import app

runner = CliRunner(env={"COLUMNS": "200"})

ACCOUNTS = (
    "account_id,name,segment,region,parent_account_id\nA,Acme,smb,na,\nB,Brugge,mid_market,emea,\nC,Cobalt,smb,na,A\n"
)
SUBS_HEADER = "account_id,subscription_id,line_id,product,plan,start_date,end_date,mrr,quantity,pricing_model,currency"
SUBS_ROWS = (
    "A,S1,1,core,basic,2024-01-01,2024-04-01,100,,flat,USD\n"
    "A,S2,1,core,pro,2024-04-01,,150,,flat,USD\n"
    "B,S3,1,core,pro,2024-02-15,2025-02-15,1000,,flat,EUR\n"
    "C,S4,1,core,basic,2024-03-01,2024-06-01,50,5,per_seat,USD\n"
)
FX = "date,currency,rate_to_reporting\n2024-01-01,EUR,1.10\n2024-06-01,EUR,1.20\n"
OWNERS = (
    "account_id,owner_id,role,start_date,end_date\nA,P1,csm,2024-01-01,2024-07-01\nA,P2,csm,2024-07-01,\n"
    "B,P2,csm,2024-01-01,\n"
)
PEOPLE = "owner_id,name,team\nP1,Ada,SMB\nP2,Bo,MM\n"
BASE = {
    "accounts": ACCOUNTS,
    "subscriptions": SUBS_HEADER + "\n" + SUBS_ROWS,
    "fx_rates": FX,
    "owners": OWNERS,
    "people": PEOPLE,
}


def subs(*extra: str, header: str = SUBS_HEADER) -> str:
    """The base subscriptions with extra lines after the four good ones (data rows 5, 6, ...)."""
    return header + "\n" + SUBS_ROWS + "".join(line + "\n" for line in extra)


def row(**values: str) -> str:
    """A fifth subscription line: the good one with some values changed."""
    base = dict(
        account_id="C",
        subscription_id="S5",
        line_id="1",
        product="core",
        plan="pro",
        start_date="2024-05-01",
        end_date="",
        mrr="70",
        quantity="",
        pricing_model="flat",
        currency="USD",
    )
    base.update(values)
    return ",".join(base.values())


@dataclass(frozen=True)
class Case:
    """A load of ``files`` ({table: (file name, bytes or text)}) and what it must say."""

    id: str
    files: dict[str, tuple[str, bytes | str]]
    says: tuple[str, ...]
    #: the place the message must name: "file" or "file, data row N (line M), column 'c'"
    where: str | None = None
    args: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


def one(table: str, name: str, content: bytes | str, *says: str, where: str | None = None, **kw: object) -> Case:
    return Case(f"{table}-{name}-{says[0][:24]}", {table: (name, content)}, says, where, **kw)  # type: ignore[arg-type]


def at(file: str, data_row: int, column: str | None = None) -> str:
    text = f"{file}, data row {data_row} (line {data_row + 1})"
    return text + (f", column '{column}'" if column else "")


def bad_value(column: str, value: str, *says: str) -> Case:
    return one("subscriptions", "subs.csv", subs(row(**{column: value})), *says, where=at("subs.csv", 5, column))


ERRORS: list[Case] = [
    # dates that are not dates
    *(
        bad_value("start_date", v, f"'{v}' is not a valid date")
        for v in ("2024-13-45", "yesterday", "2024-02-30", "2024/02/31", "31.13.2024", "20240105", "Jan 32 2024")
    ),
    bad_value("end_date", "soon", "'soon' is not a valid date"),
    # amounts that are not numbers, or too large for the column
    *(bad_value("mrr", v, f"'{v}' is not a valid number") for v in ("ten", "1.2.3", "12abc", "--5", "5-")),
    *(
        bad_value("mrr", v, "too large", "at most 99,999,999,999,999.9999")
        for v in ("1e15", "1000000000000000", "99999999999999999", "2.5E20")
    ),
    bad_value("quantity", "1e30", "too large"),
    # negative prices are credits, which subscriptions never are
    *(bad_value("mrr", v, "is negative", "credits as invoice lines") for v in ("-5", "(5)", "-0.01", '"-1,000.00"')),
    bad_value("quantity", "-2", "is negative"),
    # codes and choices
    *(bad_value("currency", v, f"unknown currency '{v}'") for v in ("XYZ", "dollars", "US")),
    *(bad_value("pricing_model", v, f"'{v}' is not one of: flat, per_seat, usage") for v in ("seat", "monthly")),
    # end before start, required values empty, a line with no price
    bad_value("end_date", "2024-04-01", "end_date 2024-04-01 is before start_date 2024-05-01"),
    bad_value("account_id", "", "required column 'account_id' is empty"),
    bad_value("subscription_id", "", "required column 'subscription_id' is empty"),
    bad_value("start_date", "", "required column 'start_date' is empty"),
    bad_value("mrr", "", "the line has no price: mrr is empty", "is_trial"),
    bad_value("mrr", "n/a", "the line has no price: mrr is empty"),
    # NUL bytes inside text values
    *(bad_value(c, "ab\x00cd", "NUL byte") for c in ("account_id", "plan", "product", "subscription_id")),
    # the header: a column named twice, a required column missing or misspelled
    one(
        "subscriptions",
        "subs.csv",
        subs(header=SUBS_HEADER + ",mrr").replace("USD\n", "USD,1\n").replace("EUR\n", "EUR,1\n"),
        "names column 'mrr' 2 times (columns 8, 12)",
        where="subs.csv, column 'mrr'",
    ),
    one(
        "subscriptions",
        "subs.csv",
        "account_id,ACCOUNT_ID" + SUBS_HEADER[10:] + "\n" + "".join("X," + r + "\n" for r in SUBS_ROWS.splitlines()),
        "names column 'account_id' 2 times",
        where="subs.csv",
    ),
    one("accounts", "acc.csv", "account_id,name,name\nA,x,y\nB,x,y\nC,x,y\n", "names column 'name' 2 times"),
    *(
        one(
            "subscriptions",
            "subs.csv",
            subs(header=SUBS_HEADER.replace(good, typo)),
            f"missing required column '{good}'; did you mean '{typo}'?",
            where="subs.csv",
        )
        for good, typo in (
            ("start_date", "strat_date"),
            ("start_date", "Start Date"),
            ("account_id", "acount_id"),
            ("subscription_id", "subscription_idd"),
        )
    ),
    one("subscriptions", "subs.csv", "account_id,subscription_id,start_date\nA,S1,2024-01-01\n", "needs the columns"),
    # rows that do not fit the header: ragged rows, unbalanced quotes, a huge value
    one(
        "subscriptions",
        "subs.csv",
        subs(row() + ",extra"),
        "line 6 has 12 fields; the header has 11",
        where=at("subs.csv", 5),
    ),
    one("subscriptions", "subs.csv", subs(row() + ",x,y,z"), "line 6 has 14 fields; the header has 11"),
    one(
        "subscriptions",
        "subs.csv",
        subs("C,S5,1,core"),
        "line 6 has 4 fields; the header has 11",
        where=at("subs.csv", 5),
    ),
    one("accounts", "acc.csv", ACCOUNTS + "D,Delta\n", "line 5 has 2 fields; the header has 5", where=at("acc.csv", 4)),
    one(
        "accounts",
        "acc.csv",
        ACCOUNTS.replace("B,Brugge,", 'B,"Brugge,'),
        "a quote opened on line 3 is not closed",
        where=at("acc.csv", 2),
    ),
    one(
        "accounts", "acc.csv", ACCOUNTS + 'D,"Delta\n', "a quote opened on line 5 is not closed", where=at("acc.csv", 4)
    ),
    one(
        "subscriptions",
        "subs.csv",
        subs(row(plan='"pro')),
        "a quote opened on line 6 is not closed",
        where=at("subs.csv", 5),
    ),
    one(
        "accounts",
        "acc.tsv",
        "account_id\tname\nA\tx\nB\tx\ty\nC\tz\n",
        "line 3 has 3 fields; the header has 2",
        where=at("acc.tsv", 2),
    ),
    one(
        "accounts",
        "acc.csv",
        ACCOUNTS + "D," + "x" * 3_000_000 + ",smb,na,\n",
        "a value of 3,000,000 characters",
        where=at("acc.csv", 4, "name"),
    ),
    # not a CSV file at all
    one("accounts", "acc.csv", b"", "the file is empty: no header row and no data", where="acc.csv"),
    one("accounts", "acc.csv", "\n\n  \n", "holds only blank lines"),
    one("accounts", "acc.csv", gzip.compress(ACCOUNTS.encode()), "gzip-compressed", "gunzip", where="acc.csv"),
    one("accounts", "acc.csv", b"PK\x03\x04" + b"\x00" * 40, "a zip archive"),
    one("accounts", "acc.csv", b"PAR1" + b"\x00" * 40, "a Parquet file; name it .parquet"),
    one("accounts", "acc.parquet", b"account_id\nA\n", "not a readable Parquet file", where="acc.parquet"),
    one("accounts", "acc.parquet", b"", "not a readable Parquet file: it is empty"),
    one("accounts", "acc.parquet", b"PAR1" + b"\x00" * 20 + b"PAR1", "not a readable Parquet file"),
    one("accounts", "acc.xlsx", b"not a workbook at all", "cannot read the workbook"),
    one("accounts", "acc.json", "{}", "unsupported file type '.json'"),
    # FX rates: 0, negative, unreadable
    one(
        "fx_rates",
        "fx.csv",
        FX + "2024-07-01,EUR,0\n",
        "'0' is not above 0",
        where=at("fx.csv", 3, "rate_to_reporting"),
    ),
    one("fx_rates", "fx.csv", FX + "2024-07-01,EUR,0.0000\n", "is not above 0"),
    one(
        "fx_rates", "fx.csv", FX + "2024-07-01,EUR,-1.1\n", "is not above 0", where=at("fx.csv", 3, "rate_to_reporting")
    ),
    one("fx_rates", "fx.csv", FX + "2024-07-01,EUR,abc\n", "'abc' is not a valid number"),
    one("fx_rates", "fx.csv", FX + "2024-07-01,EURO,1.1\n", "unknown currency 'EURO'"),
    # other tables' own rules
    one(
        "owners",
        "own.csv",
        OWNERS + "C,P1,boss,2024-01-01,\n",
        "'boss' is not one of: csm, ae",
        where=at("own.csv", 4, "role"),
    ),
    one("owners", "own.csv", OWNERS + "C,P1,csm,2024-05-01,2024-01-01\n", "end_date 2024-01-01 is before start_date"),
    one("owners", "own.csv", OWNERS + "C,,csm,2024-05-01,\n", "required column 'owner_id' is empty"),
    one(
        "subscriptions",
        "subs.csv",
        subs(row(start_date="13/01/2024"), row(subscription_id="S6", start_date="01/13/2024")),
        "the dates mix day-first",
    ),
    one(
        "subscriptions",
        "subs.csv",
        subs(row(start_date="03/04/2024"), row(subscription_id="S6", start_date="04/05/2024")),
        "the dates are ambiguous: '03/04/2024'",
        where=at("subs.csv", 5, "start_date"),
    ),
]

ERRORS += [
    # the contract across rows and tables (checked by the load, before it commits)
    *(
        one(
            "subscriptions",
            "subs.csv",
            subs(row(account_id=bad)),
            "rows refer to an account_id that is not in accounts",
            f"account_id {bad}",
            where=at("subs.csv", 5, "account_id"),
        )
        for bad in ("Z", "a", "A.0", "B-1")
    ),
    one(
        "subscriptions",
        "subs.csv",
        subs(row(account_id="B.0")),
        "not in accounts",
        "'B.0' here is 'B' in accounts: an id exported as a number with a decimal part",
        where=at("subs.csv", 5, "account_id"),
    ),
    one(
        "owners",
        "own.csv",
        OWNERS + "Q,P1,csm,2024-01-01,\n",
        "not in accounts",
        where=at("own.csv", 4, "account_id"),
    ),
    one(
        "usage",
        "usage.csv",
        "account_id,date,metric,value\nA,2024-01-01,seats,3\nQ,2024-01-01,seats,3\n",
        "not in accounts",
    ),
    one(
        "tickets",
        "t.csv",
        "account_id,ticket_id,opened_at\nQ,T1,2024-01-01\n",
        "not in accounts",
        where=at("t.csv", 1, "account_id"),
    ),
    one(
        "notes",
        "n.csv",
        "account_id,date,text\nA,2024-01-01,hi\nZZ,2024-01-02,hello\n",
        "not in accounts",
        where=at("n.csv", 2),
    ),
    one(
        "account_history",
        "h.csv",
        "account_id,attribute,value,valid_from\nQ,segment,smb,2024-01-01\n",
        "not in accounts",
    ),
    one(
        "accounts",
        "acc.csv",
        ACCOUNTS.replace("C,Cobalt", "D,Cobalt"),
        "not in accounts",
        "account_id C",
        where=at("subscriptions.csv", 4, "account_id"),
    ),
    one(
        "accounts",
        "acc.csv",
        ACCOUNTS + "A,Again,smb,na,\n",
        "account_id appears more than once in accounts",
        where=at("acc.csv", 1, "account_id"),
    ),
    one(
        "people",
        "p.csv",
        PEOPLE + "P1,Ann,SMB\n",
        "owner_id appears more than once in people",
        where=at("p.csv", 1, "owner_id"),
    ),
    one(
        "subscriptions", "subs.csv", subs(row(subscription_id="S1")), "subscription_id, line_id appears more than once"
    ),
    one(
        "tickets",
        "t.csv",
        "account_id,ticket_id,opened_at\nA,T1,2024-01-01\nB,T1,2024-01-02\n",
        "ticket_id appears more than once",
    ),
    one(
        "opportunities",
        "o.csv",
        "account_id,opportunity_id,kind\nA,O1,renewal\nB,O1,expansion\n",
        "opportunity_id appears more than once",
    ),
    one("owners", "own.csv", OWNERS + "A,P1,csm,2024-07-01,\n", "with different owner_id"),
    one(
        "account_history",
        "h.csv",
        "account_id,attribute,value,valid_from\nA,segment,smb,2024-01-01\nA,segment,enterprise,2024-01-01\n",
        "with different",
    ),
    *(
        one(
            "subscriptions",
            "subs.csv",
            subs(row(currency=cur)),
            "no FX rate on or before their start date",
            f"{cur} on 2024-05-01",
            where=at("subs.csv", 5, "currency"),
        )
        for cur in ("GBP", "JPY", "CHF")
    ),
    one(
        "subscriptions",
        "subs.csv",
        subs(row(currency="EUR", start_date="2023-12-01")),
        "no FX rate",
        "EUR on 2023-12-01",
    ),
    one(
        "accounts",
        "acc.csv",
        ACCOUNTS.replace("A,Acme,smb,na,", "A,Acme,smb,na,C"),
        "goes round in a circle",
        where="acc.csv, data row 1 (line 2), column 'parent_account_id'",
    ),
    one(
        "accounts",
        "acc.csv",
        ACCOUNTS.replace("B,Brugge,mid_market,emea,", "B,Brugge,mid_market,emea,B"),
        "goes round in a circle",
    ),
    one(
        "subscriptions",
        "subs.csv",
        subs(header=SUBS_HEADER + ",contract_end_date").replace("USD\n", "USD,\n").replace("EUR\n", "EUR,\n")
        + row()
        + ",2024-01-31\n",
        "the contract ends before the line starts",
        where=at("subs.csv", 5, "contract_end_date"),
    ),
    # loads that would lose rows without saying so
    one(
        "subscriptions", "subs.csv", SUBS_HEADER + "\n", "would remove every one of its 4 rows, leaving 0", "--replace"
    ),
    one(
        "subscriptions",
        "subs.csv",
        subs().splitlines()[0] + "\n" + SUBS_ROWS.splitlines()[0] + "\n",
        "would remove 3 (75%) of its 4 rows",
    ),
    one("accounts", "acc.csv", "account_id\nA\n", "would remove 2 (67%) of its 3 rows"),
    one("owners", "own.csv", "account_id,owner_id,role,start_date\n", "would remove every one of its 3 rows"),
    # the command line itself
    Case("cli-folder", {}, ("is a folder, not a file",), None, extra={"subscriptions": "FOLDER"}),
    Case("cli-missing", {}, ("file not found",), None, extra={"subscriptions": "missing.csv"}),
    Case("cli-table", {}, ("cannot load table 'subscription'",), None, extra={"subscription": "subs.csv"}),
    Case(
        "cli-map",
        {"accounts": ("acc.csv", ACCOUNTS)},
        ("column 'Customer' (mapped to account_id)",),
        None,
        args=("--map", 'accounts.account_id="Customer"'),
    ),
]

# Excel and Parquet files break the same rules
ERRORS_TYPED: list[tuple[str, str, tuple[str, ...], str | None]] = [
    ("xlsx-date", "date", ("'not a date' is not a valid date",), "subs.xlsx, data row 2 (line 3), column 'start_date'"),
    ("xlsx-negative", "negative", ("is negative",), "subs.xlsx, data row 2 (line 3), column 'mrr'"),
    ("xlsx-empty", "empty", ("the sheet is empty",), "subs.xlsx"),
    ("xlsx-twice", "twice", ("names column 'mrr' 2 times",), "subs.xlsx"),
    ("xlsx-orphan", "orphan", ("not in accounts",), "subs.xlsx, data row 2 (line 3), column 'account_id'"),
    ("parquet-orphan", "p-orphan", ("not in accounts",), "subs.parquet, row 2, column 'account_id'"),
    ("parquet-negative", "p-negative", ("is negative",), "subs.parquet, row 1, column 'mrr'"),
    ("parquet-nul", "p-nul", ("NUL byte",), "subs.parquet, row 1, column 'plan'"),
    ("parquet-float-id", "p-float", ("not in accounts", "account_id 1001.5"), None),
]


def digest(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and a hash of the sorted rows of every table of the workspace file (the kept
    stages' schema too)."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall()
        for schema, name in tables:
            rows = con.execute(f'SELECT * FROM "{schema}"."{name}" ORDER BY ALL').fetchall()
            out[f"{schema}.{name}"] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A workspace with the small company loaded, copied by each test."""
    tmp = tmp_path_factory.mktemp("base")
    args = []
    for table, text in BASE.items():
        path = tmp / f"{table}.csv"
        path.write_text(text, encoding="utf-8")
        args.append(f"{table}={path}")
    ws = tmp / "base.duckdb"
    result = runner.invoke(app, ["load", *args, "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    return ws


def workspace(base: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws.duckdb"
    shutil.copy(base, ws)
    return ws


def write_files(tmp_path: Path, files: dict[str, tuple[str, bytes | str]]) -> list[str]:
    args = []
    for table, (name, content) in files.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        args.append(f"{table}={path}")
    return args


def load(ws: Path, *args: str):
    return runner.invoke(app, ["load", *args, "--workspace", str(ws)])


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c.id)
def test_bad_input_is_rejected_naming_where_and_changes_nothing(base, tmp_path, case):
    ws = workspace(base, tmp_path)
    before = digest(ws)
    args = write_files(tmp_path, case.files)
    for table, name in case.extra.items():
        if name == "FOLDER":
            (tmp_path / "exports").mkdir()
            name = str(tmp_path / "exports")
        args.append(f"{table}={tmp_path / name if not name.startswith('/') else name}")
    result = load(ws, *args, *case.args)
    text = flat(result.output)
    assert result.exit_code == 2, text
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert text.startswith("error:") and text.count("error:") == 1, text
    for fragment in case.says:
        assert fragment in text, (fragment, text)
    if case.where:
        assert case.where in text, (case.where, text)
    assert digest(ws) == before


def test_at_least_a_hundred_bad_inputs():
    assert len(ERRORS) + len(ERRORS_TYPED) + len(WARNINGS) * 2 >= 130


def _typed_file(tmp_path: Path, kind: str) -> Path:
    import datetime as dt

    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    if kind.startswith("p-"):
        data = {
            "account_id": ["A", "Q" if kind == "p-orphan" else "B"],
            "subscription_id": ["S1", "S2"],
            "start_date": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
            "mrr": [-5.0 if kind == "p-negative" else 10.0, 20.0],
            "plan": ["a\x00b" if kind == "p-nul" else "pro", "pro"],
        }
        table = pa.table(data)
        if kind == "p-float":
            table = pa.table({**data, "account_id": pa.array([1001.5, 1002.0], pa.float64())})
        path = tmp_path / "subs.parquet"
        pq.write_table(table, path)
        return path
    wb = openpyxl.Workbook()
    sheet = wb.active
    if kind != "empty":
        sheet.append(["account_id", "subscription_id", "start_date", "mrr", *(["mrr"] if kind == "twice" else [])])
        sheet.append(["A", "S1", dt.date(2024, 1, 1), 10])
        last = {"date": ["B", "S2", "not a date", 20], "negative": ["B", "S2", dt.date(2024, 2, 1), -20]}
        sheet.append(last.get(kind, ["Q" if kind == "orphan" else "B", "S2", dt.date(2024, 2, 1), 20]))
        sheet.append(["C", "S3", dt.date(2024, 3, 1), 30])
        sheet.append(["C", "S4", dt.date(2024, 3, 1), 30])
    path = tmp_path / "subs.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize(("case_id", "kind", "says", "where"), ERRORS_TYPED, ids=[c[0] for c in ERRORS_TYPED])
def test_bad_workbooks_and_parquet_are_rejected(base, tmp_path, case_id, kind, says, where):
    ws = workspace(base, tmp_path)
    before = digest(ws)
    path = _typed_file(tmp_path, kind)
    result = load(ws, f"subscriptions={path}", "--replace")
    text = flat(result.output)
    assert result.exit_code == 2, text
    assert "Traceback" not in result.output
    for fragment in says:
        assert fragment in text, (fragment, text)
    if where:
        assert where in text, (where, text)
    assert digest(ws) == before


@dataclass(frozen=True)
class Warn:
    id: str
    files: dict[str, tuple[str, bytes | str]]
    says: tuple[str, ...]
    where: str | None = None


WARNINGS: list[Warn] = [
    Warn(
        "padded-id",
        {"accounts": ("acc.csv", ACCOUNTS.replace("B,Brugge", " B ,Brugge"))},
        ("1 value of account_id had spaces around them, trimmed", "' B ' read as 'B'"),
        at("acc.csv", 2, "account_id"),
    ),
    Warn(
        "padded-plan",
        {"subscriptions": ("subs.csv", subs(row(plan="pro  ")))},
        ("1 value of plan had spaces",),
        at("subs.csv", 5, "plan"),
    ),
    Warn(
        "latin-1",
        {"accounts": ("acc.csv", ACCOUNTS.replace("Brugge", "Brügge GmbH Köln Straße").encode("cp1252"))},
        ("the file is not UTF-8; read as cp1252", 'encoding = "cp1252"'),
        "acc.csv",
    ),
    Warn(
        "rounded",
        {"subscriptions": ("subs.csv", subs(row(mrr="99.123456789")))},
        ("more than 4 decimal places, rounded", "'99.123456789' kept as 99.1235"),
        at("subs.csv", 5, "mrr"),
    ),
    Warn(
        "rounded-fx",
        {"fx_rates": ("fx.csv", FX + "2024-07-01,EUR,1.123456789123\n")},
        ("more than 8 decimal places",),
        at("fx.csv", 3, "rate_to_reporting"),
    ),
    Warn(
        "mixed-dates",
        {"subscriptions": ("subs.csv", subs(row(start_date="03.05.2024")))},
        ("start_date mixes date formats: YYYY-MM-DD (4), DD.MM.YYYY (1)",),
        at("subs.csv", 5, "start_date"),
    ),
    Warn(
        "mixed-dates-names",
        {
            "subscriptions": (
                "subs.csv",
                subs(row(start_date='"May 1, 2024"'), row(subscription_id="S6", start_date="01-May-2024")),
            )
        },
        ("start_date mixes date formats",),
        None,
    ),
    Warn(
        "fractional-seats",
        {"subscriptions": ("subs.csv", subs(row(quantity="2.5", pricing_model="per_seat")))},
        ("fractional number of seats",),
        at("subs.csv", 5, "quantity"),
    ),
    Warn(
        "unknown-parent",
        {"accounts": ("acc.csv", ACCOUNTS.replace("B,Brugge,mid_market,emea,", "B,Brugge,mid_market,emea,HQ"))},
        ("names an account that is not in accounts",),
        at("acc.csv", 2, "parent_account_id"),
    ),
    Warn(
        "overlapping-owners",
        {"owners": ("own.csv", OWNERS + "B,P1,csm,2024-03-01,\n")},
        ("two owners of the same role at once; the later start wins",),
        None,
    ),
    Warn(
        "unknown-owner",
        {"owners": ("own.csv", OWNERS + "C,P9,csm,2024-03-01,\n")},
        ("owners are not in people",),
        at("own.csv", 4, "owner_id"),
    ),
    Warn(
        "line-endings",
        {"accounts": ("acc.csv", ACCOUNTS.replace("\n", "\r\n", 2))},
        ("mixes CRLF (2) and LF (2) line endings",),
        "acc.csv",
    ),
    Warn(
        "misspelled-optional",
        {"subscriptions": ("subs.csv", subs(header=SUBS_HEADER.replace("end_date", "end_dat")))},
        ("column 'end_dat' is not read; did you mean 'end_date'?",),
        "subs.csv",
    ),
    Warn(
        "empty-line",
        {"subscriptions": ("subs.csv", subs(row(end_date="2024-05-01")))},
        ("end on the day they start",),
        at("subs.csv", 5, "end_date"),
    ),
    Warn(
        "duplicate-fx",
        {"fx_rates": ("fx.csv", FX + "2024-06-01,EUR,1.25\n")},
        ("two different rates on the same date; the higher one is used",),
        None,
    ),
    Warn(
        "header-only-new", {"tickets": ("t.csv", "account_id,ticket_id,opened_at\n")}, ("hold no data rows",), "t.csv"
    ),
    Warn("float-ids", {"usage": ("usage.parquet", b"")}, ("account_id arrived as floating-point numbers",), None),
]


def _warn_files(tmp_path: Path, case: Warn) -> list[str]:
    if case.id == "float-ids":
        import datetime as dt

        import pyarrow as pa
        import pyarrow.parquet as pq

        duck = tmp_path / "acc-num.csv"
        duck.write_text(ACCOUNTS + "1001,Num,smb,na,\n", encoding="utf-8")
        path = tmp_path / "usage.parquet"
        pq.write_table(
            pa.table(
                {
                    "account_id": pa.array([1001.0, 1001.0], pa.float64()),
                    "date": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)],
                    "metric": ["seats", "seats"],
                    "value": [3.0, 4.0],
                }
            ),
            path,
        )
        return [f"accounts={duck}", f"usage={path}"]
    return write_files(tmp_path, case.files)


@pytest.mark.parametrize("case", WARNINGS, ids=lambda c: c.id)
def test_changed_or_ignored_values_are_warnings_and_strict_rejects_them(base, tmp_path, case):
    ws = workspace(base, tmp_path)
    before = digest(ws)
    args = _warn_files(tmp_path, case)
    strict = load(ws, *args, "--strict")
    text = flat(strict.output)
    assert strict.exit_code == 2, text
    assert "a warning rejects the load in strict mode" in text and "Traceback" not in strict.output
    assert digest(ws) == before
    result = load(ws, *args)
    text = flat(result.output)
    assert result.exit_code == 0, text
    for fragment in case.says:
        assert fragment in text, (fragment, text)
    if case.where:
        assert case.where in text, (case.where, text)
    assert digest(ws) != before
    check = runner.invoke(app, ["check", "--workspace", str(ws)])
    assert check.exit_code == 0, check.output
    with revbook.open(ws, read_only=True) as w:
        kept = [f["message"] for f in w.check().to_pylist()]
    assert any(case.says[0][:30] in m for m in kept), kept


def test_replace_allows_emptying_a_table_and_says_so(base, tmp_path):
    ws = workspace(base, tmp_path)
    args = write_files(tmp_path, {"owners": ("own.csv", "account_id,owner_id,role,start_date\n")})
    result = load(ws, *args, "--replace")
    assert result.exit_code == 0, result.output
    assert "owners is empty (it had 3 rows)" in flat(result.output)
    assert digest(ws)["main.owners"][0] == 0


def test_a_load_says_how_many_accounts_its_kept_stages_recomputed(base, tmp_path):
    ws = workspace(base, tmp_path)
    more = SUBS_HEADER + "\n" + SUBS_ROWS + "C,S5,1,core,basic,2024-07-01,,80,,flat,USD\n"
    result = load(ws, *write_files(tmp_path, {"subscriptions": ("subs.csv", more)}))
    assert result.exit_code == 0, result.output
    assert "kept stages: 1 of 3 accounts recomputed" in flat(result.output)
