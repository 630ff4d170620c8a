"""The SQL warehouse source and write-back, against a real PostgreSQL started by scripts/postgres.

One throwaway cluster per test run (a session fixture); every test works in schemas of its own. When
PostgreSQL is not installed the fixture fails naming scripts/system-deps: nothing is skipped.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from revbook import Config, Workspace
from revbook.cli import app
from revbook.config import WarehouseSettings, load_config
from revbook.contract import LOADABLE_TABLES
from revbook.errors import ConfigError, ContractError, SourceError
from revbook.exports import write_warehouse
from revbook.sources.connectors import connector
from revbook.sources.warehouse_conn import connection_of
from revbook.sources.warehouse_write import write_tables
from support import AS_OF, write

ROOT = Path(__file__).resolve().parents[2]
#: the tables of conftest.small_files, and the metrics compared between the two loads
SMALL = ("accounts", "subscriptions", "fx_rates", "owners", "people")
AS_OF_ARGS = ("--as-of", str(AS_OF))


@pytest.fixture(scope="session")
def pg_url():
    """The URL of a throwaway cluster (scripts/postgres start), stopped at the end of the run."""
    folder = tempfile.mkdtemp(prefix="revbook-pg-")
    run = subprocess.run(
        [str(ROOT / "scripts" / "postgres"), "start", folder], capture_output=True, text=True, timeout=120
    )
    if run.returncode != 0:
        pytest.fail(f"scripts/postgres could not start PostgreSQL (run scripts/system-deps): {run.stderr}")
    try:
        yield run.stdout.strip()
    finally:
        subprocess.run([str(ROOT / "scripts" / "postgres"), "stop", folder], capture_output=True, timeout=60)


@pytest.fixture
def pg(pg_url, monkeypatch):
    """The cluster as the environment names it (REVBOOK_WAREHOUSE_URL, no PG* variables), and a
    connection to it (autocommit) for setting up tables."""
    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("REVBOOK_WAREHOUSE_URL", pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def schema(pg, request):
    """A fresh schema for this test's source tables."""
    name = "t_" + request.node.name.removeprefix("test_")[:50].lower()
    pg.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    pg.execute(f'CREATE SCHEMA "{name}"')
    return name


def files_workspace(tmp_path: Path, files: dict[str, Path], name: str = "files") -> Workspace:
    ws = Workspace(tmp_path / f"{name}.duckdb", config=Config(as_of=AS_OF))
    ws.load(files)
    return ws


def warehouse_config(tmp_path: Path, name: str = "wh", **settings) -> Config:
    return Config(workspace=tmp_path / f"{name}.duckdb", as_of=AS_OF, warehouse=WarehouseSettings(**settings))


def put_company(ws: Workspace, schema: str) -> dict[str, int]:
    """The workspace's canonical tables written into ``schema``, typed (numeric, date, text)."""
    return write_tables(WarehouseSettings(), {t: ws.table(t) for t in SMALL}, schema=schema)


def same_metrics(a: Workspace, b: Workspace) -> None:
    """The two workspaces' metric tables are equal, and their ledgers but for where each line came from."""
    for kind in ("mrr", "movements", "retention", "cohorts", "revenue"):
        left, right = getattr(a, kind)().to_pylist(), getattr(b, kind)().to_pylist()
        assert left == right and left, kind
    left, right = a.ledger().to_pylist(), b.ledger().to_pylist()
    assert [r | {"source_file": None} for r in left] == [r | {"source_file": None} for r in right] and left


def test_the_fixture_company_from_the_warehouse_has_the_metrics_it_has_from_files(tmp_path, small_files, schema):
    with files_workspace(tmp_path, small_files) as from_files:
        counts = {t: n for t, n in from_files.row_counts().items() if t in SMALL}
        assert put_company(from_files, schema) == counts
        cfg = warehouse_config(tmp_path, schema=schema)
        with Workspace(config=cfg) as ws:
            done = connector("warehouse", cfg).sync(ws)
            assert (
                dict(done.rows)
                == counts
                == {"accounts": 3, "subscriptions": 4, "fx_rates": 2, "owners": 3, "people": 2}
            )
            same_metrics(from_files, ws)
            assert {r["source_file"] for r in ws.ledger().to_pylist()} == {f"warehouse table {schema}.subscriptions"}
            # money arrived exact: B's EUR 12,000.00 a year, 1,100.00 a month at February's 1.10
            amount = {r["subscription_id"]: r["amount"] for r in ws.table("subscriptions").to_pylist()}
            assert amount["S3"] == Decimal("12000.0000") and amount["S1"] == Decimal("100.0000")
            february = [r for r in ws.retention().to_pylist() if r["period"] == "2024-02" and r["window_months"] == 1]
            assert february[0]["new_mrr"] == Decimal("1100.00")
            # an unchanged warehouse is skipped; --full reads it again
            again = connector("warehouse", cfg).sync(ws, full=True)
            assert dict(again.rows) == counts


def test_a_query_source_with_its_own_column_names_and_exact_numerics(tmp_path, pg, schema):
    pg.execute(f'CREATE TABLE "{schema}".customers (id text, title text, tier text)')
    pg.execute(f"INSERT INTO \"{schema}\".customers VALUES ('A', 'Acme', 'smb'), ('B', 'Bo', 'enterprise')")
    pg.execute(
        f'CREATE TABLE "{schema}".billing (customer text, sub text, started date, ended date, '
        "monthly numeric(14, 2), cur char(3), note text)"
    )
    pg.execute(
        f"INSERT INTO \"{schema}\".billing VALUES ('A', 'S1', '2024-01-01', NULL, 1234567.89, 'USD', 'x'),"
        f"('B', 'S2', '2024-02-01', '2024-08-01', 0.10, 'USD', 'y'), ('B', 'S3', '2023-01-01', NULL, 5, 'USD', 'z')"
    )
    cfg = warehouse_config(
        tmp_path,
        schema=schema,
        queries={
            "accounts": f"SELECT id AS account_id, title AS name, tier AS segment, "
            f"TIMESTAMP '2023-05-06 13:45:00' AS created_at FROM \"{schema}\".customers",
            "subscriptions": f"SELECT * FROM \"{schema}\".billing WHERE started >= DATE '2024-01-01'",
        },
        columns={
            "subscriptions": {
                "account_id": "customer",
                "subscription_id": "sub",
                "start_date": "started",
                "end_date": "ended",
                "mrr": "monthly",
                "currency": "cur",
            }
        },
    )
    with Workspace(config=cfg) as ws:
        done = connector("warehouse", cfg).sync(ws)
        assert dict(done.rows) == {"accounts": 2, "subscriptions": 2}  # the query's WHERE left S3 out
        rows = {r["subscription_id"]: r for r in ws.table("subscriptions").to_pylist()}
        assert rows["S1"]["mrr"] == Decimal("1234567.89") and rows["S2"]["mrr"] == Decimal("0.10")
        assert str(rows["S2"]["end_date"]) == "2024-08-01"
        assert {str(r["created_at"]) for r in ws.table("accounts").to_pylist()} == {"2023-05-06"}  # a timestamp's date
        assert ws.mrr().to_pylist()[-1]["mrr"] == Decimal("1234567.89")  # December 2024: S1 only
        assert ws.config.warehouse.queries["accounts"].startswith("SELECT id")
    # the same through the command line, which prints the rows, the headline and the time it took
    toml = tmp_path / "revbook.toml"
    toml.write_text(
        f'[workspace]\npath = "cli.duckdb"\nas_of = "{AS_OF}"\n[warehouse]\nschema = "{schema}"\n'
        f"[warehouse.queries]\n{_toml_table(cfg.warehouse.queries)}[warehouse.columns.subscriptions]\n"
        f"{_toml_table(cfg.warehouse.columns['subscriptions'])}",
        encoding="utf-8",
    )
    result = CliRunner(env={"COLUMNS": "120"}).invoke(app, ["connect", "warehouse", "-c", str(toml)])
    assert result.exit_code == 0, result.output
    assert "loaded from warehouse in" in result.output and "accounts 2, subscriptions 2" in result.output
    assert "from credentials to the first figures:" in result.output and "1,234,567.89" in result.output


def _toml_table(values) -> str:
    import json

    return "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())


def test_a_missing_table_names_the_table_the_schema_and_the_fix(tmp_path, small_files, schema):
    with files_workspace(tmp_path, small_files) as from_files:
        put_company(from_files, schema)
    cfg = warehouse_config(tmp_path, schema=schema, tables=("accounts", "subscriptions", "invoices"))
    with Workspace(config=cfg) as ws, pytest.raises(SourceError) as err:
        connector("warehouse", cfg).sync(ws)
    text = str(err.value)
    assert f"there is no warehouse table {schema}.invoices" in text and "[warehouse.queries]" in text
    assert err.value.table == "invoices" and "[warehouse] tables" in (err.value.hint or "")
    cfg = warehouse_config(tmp_path, schema="nowhere_at_all")
    with (
        Workspace(config=cfg) as ws,
        pytest.raises(SourceError, match=r"schema 'nowhere_at_all'.*none of the contract"),
    ):
        connector("warehouse", cfg).sync(ws)


def test_a_bad_query_names_its_table_the_query_and_the_fix(tmp_path, pg, schema):
    cfg = warehouse_config(tmp_path, schema=schema, queries={"accounts": "SELECT account_id FROM no_such_table"})
    with Workspace(config=cfg) as ws, pytest.raises(SourceError) as err:
        connector("warehouse", cfg).sync(ws)
    text = str(err.value)
    assert "cannot run warehouse query [warehouse.queries] accounts" in text
    assert 'relation "no_such_table" does not exist' in text and "fix the query in revbook.toml" in text
    # --check says the same of the query, and goes on to the other tables
    seen = {s.table: s for s in connector("warehouse", cfg).check()}
    assert seen["accounts"].objects == "query" and not seen["accounts"].readable
    assert 'relation "no_such_table" does not exist' in seen["accounts"].detail and set(seen) == set(LOADABLE_TABLES)
    # a query that runs but breaks the contract is named the same way, with the column to map
    cfg = warehouse_config(tmp_path, schema=schema, queries={"accounts": "SELECT 'A' AS id"})
    with Workspace(config=cfg) as ws, pytest.raises(ContractError) as err:
        connector("warehouse", cfg).sync(ws)
    text = str(err.value)
    assert (
        text.startswith("warehouse query [warehouse.queries] accounts")
        and "missing required column 'account_id'" in text
    )
    assert "[warehouse.columns.accounts]" in text and "[sources." not in text and ".parquet" not in text


def test_the_load_is_atomic_a_failing_table_leaves_the_workspace_as_it_was(tmp_path, small_files, schema, pg):
    with files_workspace(tmp_path, small_files, "src") as from_files:
        put_company(from_files, schema)
    # subscriptions are fine, but one owner row names an account no account has: the contract rejects it
    pg.execute(
        f'INSERT INTO "{schema}".owners (account_id, owner_id, role, start_date) '
        "VALUES ('Z', 'P1', 'csm', '2024-01-01')"
    )
    pg.execute(f'UPDATE "{schema}".subscriptions SET amount = amount * 2')
    cfg = warehouse_config(tmp_path, "target", schema=schema)
    with Workspace(config=cfg) as ws:
        ws.load(small_files)
        before = {t: ws.table(t).to_pylist() for t in SMALL}
        with pytest.raises(ContractError) as err:
            connector("warehouse", cfg).sync(ws)
        assert "nothing was loaded" in str(err.value) and err.value.table == "owners"
        assert str(err.value).startswith(f"warehouse table {schema}.owners, row 4, column 'account_id'")
        assert {t: ws.table(t).to_pylist() for t in SMALL} == before


def test_the_password_never_appears_in_a_message(tmp_path, small_files, pg_url, pg, schema, monkeypatch):
    secret = pg_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    wrong = pg_url.replace(secret, "not-the-" + secret)
    monkeypatch.setenv("REVBOOK_WAREHOUSE_URL", wrong)
    cfg = warehouse_config(tmp_path, schema=schema)
    with Workspace(config=cfg) as ws, pytest.raises(SourceError) as err:
        connector("warehouse", cfg).sync(ws)
    text = str(err.value)
    assert "cannot connect to the warehouse at postgresql://revbook:***@127.0.0.1:" in text
    assert "password authentication failed" in text and secret not in text
    toml = write(tmp_path / "revbook.toml", f'[workspace]\npath = "w.duckdb"\n[warehouse]\nschema = "{schema}"\n')
    for args in (["connect", "warehouse", "--check"], ["connect", "warehouse"], ["export", "--to", "warehouse"]):
        if args[0] == "export":
            files_workspace(tmp_path, small_files, "w").close()
        result = CliRunner().invoke(app, [*args, "-c", str(toml)])
        assert result.exit_code == 2 and "***" in result.output and secret not in result.output, args
    # the libpq variables: the password is masked however it is given
    monkeypatch.delenv("REVBOOK_WAREHOUSE_URL")
    shown = connection_of({"PGHOST": "db.internal", "PGUSER": "cs", "PGPASSWORD": "s3cr%t"})
    assert shown.shown == "PGHOST=db.internal PGUSER=cs PGPASSWORD=***" and shown.mask("x s3cr%t y") == "x *** y"
    encoded = connection_of({"REVBOOK_WAREHOUSE_URL": "postgresql://cs:p%40ss@db:5433/crm?sslmode=require"})
    assert encoded.shown == "postgresql://cs:***@db:5433/crm?sslmode=require"
    assert encoded.mask("for p@ss and p%40ss") == "for *** and ***"
    with pytest.raises(ConfigError, match="no warehouse connection") as err:
        connection_of({})
    assert "REVBOOK_WAREHOUSE_URL" in (err.value.hint or "")


def test_a_connection_in_revbook_toml_is_refused_without_echoing_it(tmp_path):
    toml = write(tmp_path / "revbook.toml", '[warehouse]\nurl = "postgresql://u:hunter2@db/x"\n')
    with pytest.raises(ConfigError) as err:
        load_config(toml)
    assert "never read from revbook.toml" in str(err.value) and "hunter2" not in str(err.value)
    with pytest.raises(ConfigError, match=r"unknown key 'shema' in \[warehouse\].*did you mean 'schema'"):
        WarehouseSettings.from_mapping({"shema": "x"})
    with pytest.raises(ConfigError, match=r"\[warehouse.queries\] names 'subscription'.*did you mean 'subscriptions'"):
        WarehouseSettings.from_mapping({"queries": {"subscription": "SELECT 1"}})
    with pytest.raises(ConfigError, match=r"unknown column 'monthly' in \[warehouse.columns.subscriptions\]"):
        WarehouseSettings.from_mapping({"columns": {"subscriptions": {"monthly": "mrr"}}})
    parsed = load_config(write(tmp_path / "ok.toml", '[warehouse]\nschema = "crm"\ntables = ["accounts"]\n'))
    assert parsed.warehouse.schema == "crm" and parsed.warehouse.tables == ("accounts",)


def test_check_says_which_tables_the_credentials_can_read(tmp_path, small_files, pg_url, pg, schema, monkeypatch):
    with files_workspace(tmp_path, small_files) as from_files:
        put_company(from_files, schema)
    pg.execute("DROP ROLE IF EXISTS reader")
    pg.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-pw-123'")
    pg.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO reader')
    pg.execute(f'GRANT SELECT ON "{schema}".accounts, "{schema}".owners TO reader')
    host = pg_url.split("@", 1)[1]
    monkeypatch.setenv("REVBOOK_WAREHOUSE_URL", f"postgresql://reader:reader-pw-123@{host}")
    seen = {s.table: s for s in connector("warehouse", warehouse_config(tmp_path, schema=schema)).check()}
    assert seen["accounts"].readable and seen["accounts"].detail == "3 rows"
    assert seen["owners"].readable and seen["owners"].detail == "3 rows"
    assert not seen["subscriptions"].readable and "permission denied" in seen["subscriptions"].detail
    assert not seen["invoices"].readable and seen["invoices"].detail == f"no such table in schema {schema}"
    toml = write(tmp_path / "revbook.toml", f'[workspace]\npath = "w.duckdb"\n[warehouse]\nschema = "{schema}"\n')
    result = CliRunner(env={"COLUMNS": "160"}).invoke(app, ["connect", "warehouse", "--check", "-c", str(toml)])
    assert result.exit_code == 0, result.output
    assert "3 rows" in result.output and "permission denied" in result.output and "reader-pw-123" not in result.output
    assert not (tmp_path / "w.duckdb").exists()  # --check loads nothing
    pg.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM reader')
    pg.execute(f'REVOKE USAGE ON SCHEMA "{schema}" FROM reader')
    pg.execute("DROP ROLE reader")


def test_write_back_round_trip_to_the_cent(tmp_path, small_files, pg):
    pg.execute("DROP SCHEMA IF EXISTS rb_out CASCADE")
    with files_workspace(tmp_path, small_files) as ws:
        written = write_warehouse(ws, schema="rb_out", tables=["retention", "movements_monthly"])
        assert written == {"retention": len(ws.retention()), "movements_monthly": len(ws.movements())}
        expected = ws.retention().to_pylist()
    with pg.cursor() as cur:
        cur.execute("SELECT * FROM rb_out.retention")
        names = [d.name for d in cur.description]
        got = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        types = dict(
            pg.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'rb_out' "
                "AND table_name = 'retention'"
            ).fetchall()
        )
    assert got == expected and len(got) > 3
    money = [k for k, v in expected[0].items() if isinstance(v, Decimal)]
    assert money and all(types[k] == "numeric" for k in money)
    # February's new MRR: B's EUR 1,000.00 a month at 1.10, to the cent
    february = [r for r in got if r["period"] == "2024-02" and r["window_months"] == 1]
    assert february[0]["new_mrr"] == Decimal("1100.00") and february[0]["start_mrr"] == Decimal("100.00")
    comment = pg.execute("SELECT obj_description('rb_out.retention'::regclass)").fetchone()[0]
    assert comment.startswith("revbook retention, as of 2024-12-31, USD")


def test_write_back_replaces_atomically_and_a_failure_leaves_the_old_tables(tmp_path, small_files, pg):
    pg.execute("DROP SCHEMA IF EXISTS rb_atomic CASCADE")
    pg.execute("CREATE SCHEMA rb_atomic")
    pg.execute("CREATE TABLE rb_atomic.movements_monthly (old_column text)")
    pg.execute("INSERT INTO rb_atomic.movements_monthly VALUES ('old')")
    pg.execute("CREATE VIEW rb_atomic.on_movements AS SELECT old_column FROM rb_atomic.movements_monthly")
    pg.execute("CREATE TABLE rb_atomic.retention (kept int)")
    pg.execute("INSERT INTO rb_atomic.retention VALUES (1)")
    with files_workspace(tmp_path, small_files) as ws:
        # retention is written first, then movements_monthly cannot be replaced (a view depends on it)
        with pytest.raises(SourceError) as err:
            write_warehouse(ws, schema="rb_atomic", tables=["retention", "movements_monthly"])
        assert "rb_atomic.movements_monthly" in str(err.value) and "nothing was written" in str(err.value)
        assert pg.execute("SELECT * FROM rb_atomic.retention").fetchall() == [(1,)]
        assert pg.execute("SELECT * FROM rb_atomic.movements_monthly").fetchall() == [("old",)]
        # once the view is gone both are replaced; a second write keeps a view on the same columns
        pg.execute("DROP VIEW rb_atomic.on_movements")
        write_warehouse(ws, schema="rb_atomic", tables=["retention", "movements_monthly"])
        pg.execute("CREATE VIEW rb_atomic.on_retention AS SELECT * FROM rb_atomic.retention")
        n = len(ws.retention())
    result = CliRunner().invoke(
        app,
        [
            "export",
            "--to",
            "warehouse",
            "--schema",
            "rb_atomic",
            "--table",
            "retention",
            "-w",
            str(ws.path),
            *AS_OF_ARGS,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "rb_atomic.retention" in result.output and f"{n:,} rows" in result.output
    assert pg.execute("SELECT count(*) FROM rb_atomic.on_retention").fetchone()[0] == n
