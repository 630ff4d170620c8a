from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from revbook.contract import table
from revbook.errors import SourceError
from revbook.sources.files import SourceOptions, read_table

D = Decimal


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": True})
    yield c
    c.close()


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def load(con, table_name: str, files, options: SourceOptions | None = None) -> list[dict]:
    files = files if isinstance(files, list) else [files]
    n = read_table(con, table(table_name), files, options or SourceOptions(), target="t")
    cur = con.execute("SELECT * FROM t")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    assert n == len(rows)
    return rows


def fails(con, table_name: str, files, options: SourceOptions | None = None) -> SourceError:
    files = files if isinstance(files, list) else [files]
    with pytest.raises(SourceError) as info:
        read_table(con, table(table_name), files, options or SourceOptions(), target="t")
    return info.value


def invoices(tmp_path: Path, amounts: list[str], name: str = "inv.csv", extra: str = "") -> Path:
    lines = [f"account_id,invoice_date,amount{extra}"]
    lines += [f'A{i},2024-01-0{i % 9 + 1},"{a}"' for i, a in enumerate(amounts, 1)]
    return write(tmp_path, name, "\n".join(lines) + "\n")


def test_subscriptions_are_typed_with_file_and_row(con, tmp_path):
    path = write(
        tmp_path,
        "subs.csv",
        "account_id,subscription_id,start_date,end_date,mrr,currency,pricing_model,quantity,is_trial,notes\n"
        'A1,S1,2024-01-05,,"1,234.56",usd,Flat,3,yes,x\n'
        "A2,S2,2024-02-01,2024-03-01,99.9,EUR,PER_SEAT,,N,y\n",
    )
    rows = load(con, "subscriptions", path)
    assert [r["account_id"] for r in rows] == ["A1", "A2"]
    assert rows[0]["mrr"] == D("1234.5600") and rows[1]["mrr"] == D("99.9000")
    assert rows[0]["start_date"] == day("2024-01-05") and rows[0]["end_date"] is None
    assert rows[1]["end_date"] == day("2024-03-01")
    assert [r["currency"] for r in rows] == ["USD", "EUR"]
    assert [r["pricing_model"] for r in rows] == ["flat", "per_seat"]
    assert [r["is_trial"] for r in rows] == [True, False]
    assert rows[0]["quantity"] == D(3) and rows[1]["quantity"] is None
    assert [(r["_file"], r["_row"]) for r in rows] == [(str(path), 1), (str(path), 2)]
    assert "notes" not in rows[0] and "plan" not in rows[0]
    types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 't'").fetchall())
    assert types["mrr"] == "DECIMAL(18,4)" and types["start_date"] == "DATE" and types["_row"] == "BIGINT"
    assert [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()] == ["t"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("$1,234", "1234"),
        ("€ 99,90", "99.90"),
        ("USD 1200", "1200"),
        ("1200 EUR", "1200"),
        ("1 234,5", "1234.5"),
        ("(100.00)", "-100"),
        ("($1,000.50)", "-1000.50"),
        ("-5", "-5"),
        ("+5", "5"),
        ("-$5", "-5"),
        ("1,5", "1.5"),
        ("0,500", "0.5"),
        ("1.234", "1.234"),
        ("1.234.567", "1234567"),
        ("1,234,567", "1234567"),
        ("1,234,567.891", "1234567.891"),
        ("12,345.6789", "12345.6789"),
        ("0.00005", "0.0001"),
        (".5", "0.5"),
    ],
)
def test_amount_forms(con, tmp_path, text, expected):
    rows = load(con, "invoices", invoices(tmp_path, [text]))
    assert rows[0]["amount"] == D(expected)


@pytest.mark.parametrize(
    ("decimal", "text", "expected"),
    [
        (",", "1.234", "1234"),
        (",", "1.234,5", "1234.5"),
        (",", "12,5", "12.5"),
        (".", "1,234", "1234"),
        (".", "1.5", "1.5"),
    ],
)
def test_declared_decimal_separator(con, tmp_path, decimal, text, expected):
    rows = load(con, "invoices", invoices(tmp_path, [text]), SourceOptions(decimal=decimal))
    assert rows[0]["amount"] == D(expected)


@pytest.mark.parametrize("text", ["abc", "12abc3", "1.2.3", "1,2,3", "(-5)", "12%", "--5", "5 USD EUR"])
def test_bad_amount(con, tmp_path, text):
    path = invoices(tmp_path, ["10", text])
    err = fails(con, "invoices", path)
    assert (err.file, err.row, err.column, err.value) == (str(path), 2, "amount", text)
    assert f"'{text}' is not a valid number" in str(err) and "revbook.toml" in str(err)


def test_percent_sign_in_percent_column_and_negative_rejected(con, tmp_path):
    head = "account_id,subscription_id,start_date,mrr,discount_percent,quantity\n"
    path = write(tmp_path, "s.csv", head + "A1,S1,2024-01-01,10,12%,1\nA2,S2,2024-01-01,10, 7.5 % ,2\n")
    assert [r["discount_percent"] for r in load(con, "subscriptions", path)] == [D(12), D("7.5")]
    bad = write(tmp_path, "b.csv", head + "A1,S1,2024-01-01,10,1,1\nA2,S2,2024-01-01,10,0,-2\n")
    err = fails(con, "subscriptions", bad)
    assert (err.row, err.column, err.value) == (2, "quantity", "-2") and "must be >= 0" in str(err)


def test_fx_rate_keeps_eight_decimals(con, tmp_path):
    path = write(
        tmp_path, "fx.csv", 'date,currency,rate_to_reporting\n2024-01-01,eur,1.08765432\n2024-01-01,JPY,"0,0067"\n'
    )
    rows = load(con, "fx_rates", path)
    assert [r["rate_to_reporting"] for r in rows] == [D("1.08765432"), D("0.0067")]
    assert [r["currency"] for r in rows] == ["EUR", "JPY"]


def test_date_shapes(con, tmp_path):
    values = ["2024-01-05", "2024-1-5", "2024-01-05 13:45:00", "2024-01-05T13:45:00Z", "2024/01/05", "05.01.2024"]
    values += ["5-Jan-2024", "05-January-2024", "Jan 5, 2024", "January 5, 2024"]
    body = "".join(f'A{i},"{v}",1\n' for i, v in enumerate(values))
    rows = load(con, "invoices", write(tmp_path, "d.csv", "account_id,invoice_date,amount\n" + body))
    assert [r["invoice_date"] for r in rows] == [day("2024-01-05")] * len(values)


def test_us_and_eu_slash_dates_are_detected(con, tmp_path):
    us = write(tmp_path, "us.csv", "account_id,invoice_date,amount\nA,1/13/2024,1\nB,02/01/2024 10:30 PM,1\n")
    assert [r["invoice_date"] for r in load(con, "invoices", us)] == [day("2024-01-13"), day("2024-02-01")]
    eu = write(tmp_path, "eu.csv", "account_id,invoice_date,amount\nA,13/01/2024,1\nB,02/01/2024,1\n")
    assert [r["invoice_date"] for r in load(con, "invoices", eu)] == [day("2024-01-13"), day("2024-01-02")]


def test_ambiguous_slash_dates(con, tmp_path):
    path = write(tmp_path, "a.csv", "account_id,invoice_date,amount\nA,01/01/2024,1\nB,01/02/2024,1\nC,03/04/2024,1\n")
    err = fails(con, "invoices", path)
    assert "ambiguous" in str(err) and err.column == "invoice_date" and err.row == 2
    assert 'set date_format = "%m/%d/%Y" or "%d/%m/%Y" in revbook.toml [sources.invoices]' in str(err)
    rows = load(con, "invoices", path, SourceOptions(date_format="%d/%m/%Y"))
    assert [r["invoice_date"] for r in rows] == [day("2024-01-01"), day("2024-02-01"), day("2024-04-03")]


def test_all_equal_parts_are_not_ambiguous(con, tmp_path):
    path = write(tmp_path, "a.csv", "account_id,invoice_date,amount\nA,01/01/2024,1\nB,02/02/2024,1\n")
    assert [r["invoice_date"] for r in load(con, "invoices", path)] == [day("2024-01-01"), day("2024-02-02")]


def test_ambiguous_column_follows_other_date_columns(con, tmp_path):
    path = write(
        tmp_path, "i.csv", "account_id,invoice_date,service_start,amount\nA,01/02/2024,25/01/2024,1\nB,03/04/2024,,1\n"
    )
    rows = load(con, "invoices", path)
    assert [r["invoice_date"] for r in rows] == [day("2024-02-01"), day("2024-04-03")]


def test_dates_that_say_both_orders(con, tmp_path):
    path = write(tmp_path, "m.csv", "account_id,invoice_date,amount\nA,13/01/2024,1\nB,01/13/2024,1\n")
    err = fails(con, "invoices", path)
    assert "day-first" in str(err) and "month-first" in str(err) and err.column == "invoice_date"


def test_bad_date_names_file_row_column_value(con, tmp_path):
    path = write(tmp_path, "d.csv", "account_id,invoice_date,amount\nA,2024-01-05,1\nB,2024-02-30,1\n")
    err = fails(con, "invoices", path)
    assert (err.file, err.row, err.column, err.value) == (str(path), 2, "invoice_date", "2024-02-30")
    assert str(err).startswith(
        f"{path}, data row 2 (line 3), column 'invoice_date': '2024-02-30' is not a valid date; expected"
    )
    fmt = write(tmp_path, "f.csv", "account_id,invoice_date,amount\nA,05/01/2024,1\nB,2024-01-05,1\n")
    err = fails(con, "invoices", fmt, SourceOptions(date_format="%d/%m/%Y"))
    assert err.row == 2 and "expected %d/%m/%Y" in str(err)


def test_utf8_bom_and_accents(con, tmp_path):
    path = write(tmp_path, "bom.csv", "account_id,name\nA1,Café Müller\nA2,Zoë Ångström\n", "utf-8-sig")
    rows = load(con, "accounts", path)
    assert [r["name"] for r in rows] == ["Café Müller", "Zoë Ångström"]
    assert rows[0]["account_id"] == "A1"


def test_latin1_semicolon_file(con, tmp_path):
    text = "account_id;name;created_at\nA1;Crème brûlée S.à r.l.;05.01.2024\nA2;José Núñez;06.01.2024\n"
    rows = load(con, "accounts", write(tmp_path, "l1.csv", text, "latin-1"))
    assert [r["name"] for r in rows] == ["Crème brûlée S.à r.l.", "José Núñez"]
    assert [r["created_at"] for r in rows] == [day("2024-01-05"), day("2024-01-06")]
    path = write(tmp_path, "l2.csv", "account_id,name\nA1,Gdańsk Łódź\n", "cp1250")
    assert load(con, "accounts", path, SourceOptions(encoding="cp1250"))[0]["name"] == "Gdańsk Łódź"


def test_utf16_excel_unicode_text(con, tmp_path):
    path = write(tmp_path, "u.txt", "account_id\tname\r\nA1\tSão Paulo\r\n", "utf-16")
    assert load(con, "accounts", path)[0]["name"] == "São Paulo"


def test_tab_and_quoted_fields(con, tmp_path):
    tsv = write(tmp_path, "a.tsv", "account_id\tname\tsegment\nA1\tAcme, Inc.\tsmb\n")
    assert load(con, "accounts", tsv)[0]["name"] == "Acme, Inc."
    csv = write(tmp_path, "q.csv", 'account_id,name,region\nA1,"Acme, ""Big"" Inc.\nsecond line",emea\nA2,Beta,#1\n')
    rows = load(con, "accounts", csv)
    assert rows[0]["name"] == 'Acme, "Big" Inc.\nsecond line'
    assert [(r["account_id"], r["region"], r["_row"]) for r in rows] == [("A1", "emea", 1), ("A2", "#1", 2)]
    piped = write(tmp_path, "p.txt", "account_id|name\nA1|X;Y\n")
    assert load(con, "accounts", piped, SourceOptions(delimiter="|"))[0]["name"] == "X;Y"


def test_null_tokens_and_trimming(con, tmp_path):
    path = write(
        tmp_path,
        "n.csv",
        "account_id,name,segment,region,industry,created_at\n  A1 ,NULL,n/a, None ,na,N/A\nA2,,null,NA,x,none\n",
    )
    rows = load(con, "accounts", path)
    # in text columns only an empty cell or NULL is missing: "NA" is North America, "n/a" a value
    assert [(r["account_id"], r["name"], r["segment"], r["region"]) for r in rows] == [
        ("A1", None, "n/a", "None"),
        ("A2", None, None, "NA"),
    ]
    assert [r["industry"] for r in rows] == ["na", "x"]
    # in typed columns the usual tokens are missing values
    assert [r["created_at"] for r in rows] == [None, None]


def test_required_null(con, tmp_path):
    path = write(tmp_path, "r.csv", "account_id,invoice_date,amount\nA,2024-01-01,1\n,2024-01-01,2\n")
    err = fails(con, "invoices", path)
    assert (err.row, err.column) == (2, "account_id") and "required column 'account_id' is empty" in str(err)


def test_empty_lines_are_skipped(con, tmp_path):
    path = write(tmp_path, "e.csv", "account_id,name\nA1,x\n,\nA2,y\n")
    assert [(r["account_id"], r["_row"]) for r in load(con, "accounts", path)] == [("A1", 1), ("A2", 3)]


def test_mapping_and_case_insensitive_headers(con, tmp_path):
    path = write(tmp_path, "m.csv", 'Customer ID, INVOICE_DATE ,Total (EUR)\nA1,2024-01-05,"1.234,50"\n')
    options = SourceOptions(columns={"account_id": "customer id", "amount": "Total (EUR)"})
    rows = load(con, "invoices", path, options)
    assert rows == [
        {"account_id": "A1", "invoice_date": day("2024-01-05"), "amount": D("1234.5"), "_file": str(path), "_row": 1}
    ]


def test_errors_name_the_mapped_file_column(con, tmp_path):
    path = write(tmp_path, "m.csv", "Customer,Date,Total\nA1,2024-01-05,x\n")
    options = SourceOptions(columns={"account_id": "Customer", "invoice_date": "Date", "amount": "Total"})
    err = fails(con, "invoices", path, options)
    assert err.column == "amount" and "'x' is not a valid number (file column 'Total')" in str(err)


def test_missing_required_column(con, tmp_path):
    path = write(tmp_path, "x.csv", "Customer,invoice_date,amount\nA1,2024-01-05,1\n")
    err = fails(con, "invoices", path)
    assert err.file == str(path) and err.column == "account_id"
    assert "'Customer', 'invoice_date', 'amount'" in str(err)
    assert 'map it in revbook.toml [sources.invoices.columns] as account_id = "<their column>"' in str(err)


def test_mapped_column_missing(con, tmp_path):
    path = write(tmp_path, "x.csv", "account_id,invoice_date,amount\nA1,2024-01-05,1\n")
    err = fails(con, "invoices", path, SourceOptions(columns={"currency": "Curency"}))
    assert "'Curency'" in str(err) and err.column == "currency"


def test_one_of_groups(con, tmp_path):
    path = write(tmp_path, "s.csv", "account_id,subscription_id,start_date,amount\nA,S,2024-01-01,10\n")
    err = fails(con, "subscriptions", path)
    assert "(mrr) or (amount, billing_period_months) or (unit_price, quantity, billing_period_months)" in str(err)


def test_unknown_currency(con, tmp_path):
    path = invoices(tmp_path, ["1", "2"], extra=",currency")
    path.write_text(path.read_text().replace('"1"', '"1",eur').replace('"2"', '"2",XYZ'))
    err = fails(con, "invoices", path)
    assert (err.row, err.column, err.value) == (2, "currency", "XYZ")
    assert "unknown currency 'XYZ'" in str(err) and "ISO 4217" in str(err)


def test_unknown_choice(con, tmp_path):
    path = write(tmp_path, "o.csv", "account_id,owner_id,role,start_date\nA,O,CSM,2024-01-01\nB,O,boss,2024-01-01\n")
    err = fails(con, "owners", path)
    assert (err.row, err.column, err.value) == (2, "role", "boss") and "not one of: csm, ae" in str(err)


def test_end_before_start(con, tmp_path):
    head = "account_id,owner_id,role,start_date,end_date\n"
    ok = write(tmp_path, "ok.csv", head + "A,O,csm,2021-03-01,2021-03-01\n")
    assert load(con, "owners", ok)[0]["end_date"] == day("2021-03-01")
    bad = write(tmp_path, "bad.csv", head + "A,O,csm,2021-01-01,\nA,O,ae,2021-03-01,2021-01-01\n")
    err = fails(con, "owners", bad)
    assert err.row == 2 and err.column == "end_date"
    assert "end_date 2021-01-01 is before start_date 2021-03-01" in str(err) and "leave end_date empty" in str(err)


def test_booleans_and_bad_boolean(con, tmp_path):
    head = "account_id,subscription_id,start_date,mrr,is_trial\n"
    values = ["true", "No", "Y", "n", "1", "0", "T", "f", "YES", ""]
    body = "".join(f"A,S{i},2024-01-01,1,{v}\n" for i, v in enumerate(values))
    rows = load(con, "subscriptions", write(tmp_path, "b.csv", head + body))
    assert [r["is_trial"] for r in rows] == [True, False, True, False, True, False, True, False, True, None]
    err = fails(con, "subscriptions", write(tmp_path, "c.csv", head + "A,S,2024-01-01,1,maybe\n"))
    assert (err.row, err.value) == (1, "maybe")


def test_several_files_are_concatenated(con, tmp_path):
    a = write(tmp_path, "a.csv", "account_id,name\nA1,x\nA2,y\n")
    b = write(tmp_path, "b.csv", "Account_ID,segment\nB1,smb\n")
    rows = load(con, "accounts", [a, str(b)])
    assert [(r["account_id"], r["name"], r["segment"], r["_file"], r["_row"]) for r in rows] == [
        ("A1", "x", None, str(a), 1),
        ("A2", "y", None, str(a), 2),
        ("B1", None, "smb", str(b), 1),
    ]
    err = fails(con, "invoices", [invoices(tmp_path, ["1"]), invoices(tmp_path, ["2", "x"], name="i2.csv")])
    assert err.file == str(tmp_path / "i2.csv") and err.row == 2


def test_unreadable_files(con, tmp_path):
    err = fails(con, "accounts", tmp_path / "nope.csv")
    assert "not found" in str(err) and str(tmp_path / "nope.csv") in str(err)
    err = fails(con, "accounts", write(tmp_path, "a.json", "{}"))
    assert "unsupported file type '.json'" in str(err) and ".csv" in str(err) and ".xlsx" in str(err)
    err = fails(con, "accounts", write(tmp_path, "bad.parquet", "not parquet"))
    assert "not a readable Parquet file" in str(err) and err.file == str(tmp_path / "bad.parquet")
    assert "delimiter" not in str(err)
    assert [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()] == []


def test_parquet_with_typed_columns(con, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    data = pa.table(
        {
            "account_id": pa.array([1001, 1002], pa.int64()),
            "invoice_date": pa.array([dt.date(2024, 1, 5), dt.date(2024, 2, 29)], pa.date32()),
            "service_start": pa.array([dt.datetime(2024, 1, 1, 23, 0), None], pa.timestamp("us")),
            "amount": pa.array([0.1, 1234567.89], pa.float64()),
            "currency": pa.array(["eur", "usd"]),
            "product": pa.array([D("1.50"), D("2.25")], pa.decimal128(10, 2)),
        }
    )
    path = tmp_path / "inv.parquet"
    pq.write_table(data, path)
    for options in (SourceOptions(), SourceOptions(decimal=",", date_format="%d/%m/%Y")):
        rows = load(con, "invoices", path, options)
        assert [r["account_id"] for r in rows] == ["1001", "1002"]
        assert [r["invoice_date"] for r in rows] == [day("2024-01-05"), day("2024-02-29")]
        assert [r["service_start"] for r in rows] == [day("2024-01-01"), None]
        assert [r["amount"] for r in rows] == [D("0.1"), D("1234567.89")]
        assert [r["currency"] for r in rows] == ["EUR", "USD"]
        assert [r["_row"] for r in rows] == [1, 2]
    fx = pa.table({"date": ["2024-01-01"], "currency": ["EUR"], "rate_to_reporting": pa.array([D("1.12345678")])})
    pq.write_table(fx, tmp_path / "fx.parquet")
    assert load(con, "fx_rates", tmp_path / "fx.parquet")[0]["rate_to_reporting"] == D("1.12345678")


def test_typed_parquet_fast_path_checks_like_the_text_path(con, tmp_path):
    """Parquet whose numbers, dates and flags are typed skips the text round trip; every check still
    names the file, the row and the column, and a typed and a text file together give the same rows."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")

    def subs(**over):
        cols = {
            "account_id": ["A", "B"],
            "subscription_id": ["S1", "S2"],
            "start_date": pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 1)]),
            "end_date": pa.array([None, dt.date(2024, 5, 1)], pa.date32()),
            "unit_price": pa.array([D("10.5"), D("20")], pa.decimal128(18, 4)),
            "quantity": pa.array([3, 4], pa.int64()),
            "billing_period_months": pa.array([1, 12], pa.int32()),
            "is_trial": pa.array([False, None]),
            "pricing_model": ["Per_Seat", " flat "],
        }
        cols.update(over)
        path = tmp_path / f"s{len(list(tmp_path.iterdir()))}.parquet"
        pq.write_table(pa.table(cols), path)
        return path

    typed = load(con, "subscriptions", subs())
    assert [r["pricing_model"] for r in typed] == ["per_seat", "flat"]
    assert [r["quantity"] for r in typed] == [D("3"), D("4")]
    assert [r["end_date"] for r in typed] == [None, day("2024-05-01")]
    text = write(
        tmp_path,
        "s.csv",
        "account_id,subscription_id,start_date,end_date,unit_price,quantity,billing_period_months,is_trial,pricing_model\n"
        "A,S1,2024-01-01,,10.5,3,1,false,Per_Seat\nB,S2,2024-02-01,2024-05-01,20,4,12,, flat \n",
    )
    mixed = load(con, "subscriptions", [subs(), text])
    strip = [{k: v for k, v in r.items() if k not in ("_file",)} for r in mixed]
    assert strip[:2] == [{k: v for k, v in r.items() if k != "_file"} for r in typed]
    assert [{k: v for k, v in r.items() if k not in ("_file",)} for r in mixed[2:]] == strip[:2]

    err = fails(con, "subscriptions", subs(quantity=pa.array([3, -4], pa.int64())))
    assert (err.row, err.column) == (2, "quantity") and "negative" in str(err)
    err = fails(con, "subscriptions", subs(start_date=pa.array([dt.date(2024, 1, 1), None], pa.date32())))
    assert (err.row, err.column) == (2, "start_date") and "empty" in str(err)
    err = fails(con, "subscriptions", subs(pricing_model=["per_seat", "metered"]))
    assert (err.row, err.column) == (2, "pricing_model") and "metered" in str(err)
    err = fails(con, "subscriptions", subs(end_date=pa.array([dt.date(2023, 1, 1), None], pa.date32())))
    assert (err.row, err.column) == (1, "end_date") and "before" in str(err)
    err = fails(con, "subscriptions", subs(unit_price=pa.array([1e20, 1.0])))
    assert (err.row, err.column) == (1, "unit_price")


def test_excel(con, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Notes"
    first.append(["nothing here"])
    sheet = book.create_sheet("Invoices")
    sheet.append(["Customer", "invoice_date", "amount", "currency", "line_id"])
    sheet.append([1001, dt.date(2024, 1, 5), 1234.5, "eur", 7])
    sheet.append(["A2", dt.datetime(2024, 2, 1, 10, 30), "1.234,56", "usd", 7.5])
    sheet.append([None, None, None, None, None])
    sheet.append(["A3", "13/01/2024", 0.1, None, None])
    path = tmp_path / "inv.xlsx"
    book.save(path)
    options = SourceOptions(columns={"account_id": "customer"}, sheet="Invoices")
    rows = load(con, "invoices", path, options)
    assert [r["account_id"] for r in rows] == ["1001", "A2", "A3"]
    assert [r["invoice_date"] for r in rows] == [day("2024-01-05"), day("2024-02-01"), day("2024-01-13")]
    assert [r["amount"] for r in rows] == [D("1234.5"), D("1234.56"), D("0.1")]
    assert [r["currency"] for r in rows] == ["EUR", "USD", None]
    assert [r["line_id"] for r in rows] == ["7", "7.5", None]
    assert [r["_row"] for r in rows] == [1, 2, 4]
    rows = load(con, "invoices", path, SourceOptions(columns={"account_id": "customer"}, sheet="Invoices", decimal="."))
    assert rows[0]["amount"] == D("1234.5")
    err = fails(con, "invoices", path, SourceOptions(sheet="Missing"))
    assert "no sheet named 'Missing'" in str(err) and "Notes, Invoices" in str(err)
    err = fails(con, "invoices", path)
    assert "missing required column 'account_id'" in str(err) and "'nothing here'" in str(err)


def test_large_file_keeps_order_and_finds_bad_row(con, tmp_path):
    n = 50_000
    lines = ["account_id,invoice_date,amount"]
    lines += [f"A{i},2024-01-{i % 28 + 1:02d},{i}.25" for i in range(1, n + 1)]
    good = write(tmp_path, "good.csv", "\n".join(lines) + "\n")
    read_table(con, table("invoices"), [good], target="big")
    mismatched = con.execute(
        "SELECT count(*) FROM big WHERE account_id <> 'A' || _row OR amount <> CAST(_row AS DECIMAL(18,4)) + 0.25"
    ).fetchone()
    assert mismatched == (0,)
    assert con.execute("SELECT list(_row) = range(1, 50001) FROM big").fetchone() == (True,)
    lines[37_123] = "A37123,2024-13-45,1"
    bad = write(tmp_path, "bad.csv", "\n".join(lines) + "\n")
    err = fails(con, "invoices", bad)
    assert (err.row, err.column, err.value) == (37_123, "invoice_date", "2024-13-45")
