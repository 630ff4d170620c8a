"""Every metric on Spark equals DuckDB, the reference, to the cent (DESIGN.md "Shape": one
conformance suite on every engine).

A :class:`Twin` is a DuckDB workspace whose every metric is also computed by the Spark engine
over the same canonical tables (read the way users' workspaces are read: exported to Parquet);
each result must be the same Frame: the same columns, the same Arrow types (DECIMAL money with
its scale, dates, BIGINT counts) and the same rows in the same order, with DOUBLE ratios equal
to the last bit. Two inputs:

- the sample company (revbook.sample, a few hundred accounts), every metric, grain and slice;
- the worked examples of docs/definitions.md: their own tests run again with a Twin in place of
  the workspace, so each hand-computed figure is checked on DuckDB and each whole table on Spark.

One Spark session for the whole run (local[2], no web UI, two shuffle partitions).
"""

from __future__ import annotations

import datetime as dt
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import test_conventions as conventions
import test_conventions_tidemill as tidemill
import test_ledger_invoices as invoices_tests
import test_metrics_properties as props
import test_past_due as past_due
from revbook import Config, ConfigError, Workspace, WorkspaceError, sample
from revbook.cli import app
from revbook.frame import Frame
from test_ledger_invoices import invoiced  # noqa: F401  (the fixture, for the invoice examples)
from test_past_due import past_due_company  # noqa: F401  (the fixture, for the past-due example)

pytestmark = pytest.mark.spark

AS_OF = sample.SampleConfig().as_of
SAMPLE = {"accounts": 300, "seed": 5}
METRICS = ("ledger", "mrr", "movements", "account_movements", "retention", "cohorts", "revenue")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("revbook-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # small inputs: compiling whole-stage Java code and re-planning at run time cost more than they save
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# -- the twin ------------------------------------------------------------------------------------
COMPARED: list[str] = []


def assert_same(duck: Frame, spark: Frame, what: str) -> None:
    a, b = duck.to_arrow(), spark.to_arrow()
    assert b.schema == a.schema, f"{what}: types differ\nduckdb: {a.schema}\nspark:  {b.schema}"
    rows_a, rows_b = a.to_pylist(), b.to_pylist()
    for i, (ra, rb) in enumerate(zip(rows_a, rows_b, strict=False)):
        assert ra == rb, f"{what}: row {i} differs\nduckdb: {ra}\nspark:  {rb}"
    assert len(rows_b) == len(rows_a), f"{what}: {len(rows_a)} rows on duckdb, {len(rows_b)} on spark"
    COMPARED.append(what)


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as exc:  # the same error on both engines is conformance too
        return "error", exc


class Twin(Workspace):
    """A DuckDB workspace that also computes every metric on Spark and asserts both are equal."""

    session: Any = None

    def __init__(self, path: str | Path | None = None, *, config: Config | None = None, read_only: bool = False):
        super().__init__(path, config=config, read_only=read_only)
        # the Spark side shares this workspace's connection and tables
        self.spark_side = Workspace.__new__(Workspace)
        self.spark_side.__dict__.update(self.__dict__)
        self.spark_side.engine_name, self.spark_side._spark = "spark", self.session

    def load(self, *args: Any, **kwargs: Any) -> Any:
        results = super().load(*args, **kwargs)
        self.spark_side.reset_derived()
        return results

    def close(self) -> None:
        self.spark_side.reset_derived()
        super().close()

    def _twin(self, method: str, *args: Any, **kwargs: Any) -> Any:
        what = f"{method}({', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in kwargs.items())])})"
        duck = outcome(lambda: getattr(Workspace, method)(self, *args, **kwargs))
        spark = outcome(lambda: getattr(Workspace, method)(self.spark_side, *args, **kwargs))
        if duck[0] == "error":
            assert spark[0] == "error", f"{what}: duckdb raised {duck[1]!r}, spark returned"
            assert (type(spark[1]), str(spark[1])) == (type(duck[1]), str(duck[1])), what
            COMPARED.append(what)
            raise duck[1]
        assert spark[0] == "ok", f"{what}: spark raised {spark[1]!r}"
        if isinstance(duck[1], Frame):
            assert_same(duck[1], spark[1], what)
        else:
            assert spark[1] == duck[1], what
            COMPARED.append(what)
        return duck[1]

    def ledger(self, **kw: Any) -> Frame:
        return self._twin("ledger", **kw)

    def mrr(self, **kw: Any) -> Frame:
        return self._twin("mrr", **kw)

    def movements(self, **kw: Any) -> Frame:
        return self._twin("movements", **kw)

    def account_movements(self, **kw: Any) -> Frame:
        return self._twin("account_movements", **kw)

    def retention(self, **kw: Any) -> Frame:
        return self._twin("retention", **kw)

    def cohorts(self, **kw: Any) -> Frame:
        return self._twin("cohorts", **kw)

    def revenue(self, **kw: Any) -> Frame:
        return self._twin("revenue", **kw)

    def headline(self) -> dict[str, Any]:
        return self._twin("headline")  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def twin_class(spark: Any) -> type[Twin]:
    Twin.session = spark
    return Twin


# -- the sample company --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("company") / "w.duckdb"
    with Workspace(path, config=Config(as_of=AS_OF)) as ws:
        ws.load_frames(sample.generate(**SAMPLE))  # type: ignore[arg-type]
    return path


@pytest.fixture(scope="module")
def twin(company: Path, twin_class: type[Twin]) -> Iterator[Twin]:
    with twin_class(company, config=Config(as_of=AS_OF), read_only=True) as ws:
        yield ws


# Each (grain, slices) group builds its own state stages: the cases reuse a few groups, and each
# group is read by several metrics, so every metric meets every slice kind (attributes from
# account_history, owners and their teams, the largest line's plan, cohort, ARR band) once.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("ledger", {}),
    ("ledger", {"account": ["A000007", "A000042", "nobody"]}),
    ("mrr", {}),
    ("mrr", {"by": "owner,team"}),
    ("mrr", {"grain": "quarter", "by": "plan"}),
    ("mrr", {"grain": "year", "by": "region,industry,cohort,arr_band"}),
    ("mrr", {"accounts": True, "by": "segment", "start": "2025-01-01"}),
    ("movements", {}),
    ("movements", {"grain": "quarter"}),
    ("movements", {"grain": "year", "end": "2025-12-31"}),
    ("movements", {"by": "segment"}),
    ("movements", {"by": "owner,team"}),
    ("movements", {"grain": "quarter", "by": "plan"}),
    ("movements", {"grain": "year", "by": "region,industry,cohort,arr_band"}),
    ("account_movements", {"by": "segment"}),
    ("account_movements", {"grain": "quarter", "by": "plan", "account": "A000007"}),
    ("retention", {}),
    ("retention", {"window": 12, "by": "segment"}),
    ("retention", {"window": [1, 3], "by": "owner,team", "grain": "quarter", "start": "2025-06-30"}),
    ("cohorts", {}),
    ("cohorts", {"triangle": "nrr", "start": "2023-01-01"}),
    ("revenue", {"grain": "quarter"}),
    ("headline", {}),
]


@pytest.mark.parametrize(("metric", "options"), CASES, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CASES)])
def test_sample_company_is_the_same_on_spark(twin: Twin, metric: str, options: dict[str, Any]) -> None:
    before = len(COMPARED)
    result = getattr(twin, metric)(**options)
    assert len(COMPARED) > before  # the headline compares the MRR and retention tables it reads
    assert len(result) > 0 or options.get("account")  # real content was compared


def test_the_sample_company_has_what_the_cases_exercise(twin: Twin) -> None:
    """The cases above mean something: transfers between slices, every movement kind, money in cents."""
    moves = twin.movements(by="owner,team").to_pylist()
    assert sum(r["transfer_in_mrr"] for r in moves) > 0
    assert all(sum(r[f"{k}_accounts"] for r in moves) > 0 for k in ("new", "reactivated", "expanded", "churned"))
    assert twin.ledger().to_arrow().schema.field("mrr").type == pa.decimal128(18, 2)


def test_settings_that_change_the_ledger_and_the_movements(company: Path, twin_class: type[Twin]) -> None:
    """Churn-grace bridges (a stage of their own), returns counted as new, an as-of inside a month."""
    config = Config(as_of=dt.date(2026, 3, 15), churn_grace_days=10, reactivation_as_new_after_months=3)
    with twin_class(company, config=config, read_only=True) as ws:
        moves = ws.movements(by="plan").to_pylist()
    assert moves[-1]["period_end"] == dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    "convention",
    [
        {"movement_grain": "subscription", "churn_grace_days": 10},
        {"intra_month": "gross"},
        {"trial_conversion": "trial_start"},
    ],
    ids=["subscription-grain", "gross", "trial-start"],
)
def test_conventions_on_the_sample_company(company: Path, twin_class: type[Twin], convention: dict[str, Any]) -> None:
    """The conventions users compare with (docs/definitions.md) on every slice's SQL path, on Spark too."""
    with twin_class(company, config=Config(as_of=AS_OF, **convention), read_only=True) as ws:
        moves = ws.movements(by="segment").to_pylist()
        ws.account_movements(by="segment")
        ws.retention(window=3)
    assert sum(r["new_mrr"] for r in moves) > 0


def test_reconcile_on_spark_is_refused_with_a_clear_error(company: Path, spark: Any) -> None:
    """Reconciliation builds a second book of the other MRR source beside the first, which the DuckDB
    engine does on a cursor of its own; on Spark it is refused, saying where it runs."""
    refused = pytest.raises(WorkspaceError, match="reconciliation runs on the DuckDB engine only")
    with (
        Workspace(company, config=Config(as_of=AS_OF), read_only=True, engine="spark", spark=spark) as ws,
        refused as err,
    ):
        ws.reconcile()
    assert "engine='duckdb'" in (err.value.hint or "")


# -- the worked examples of docs/definitions.md -------------------------------------------------
def worked_examples() -> list[Any]:
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "definitions.md").read_text(encoding="utf-8")
    names = sorted(set(re.findall(r"`(test_\w+)`", doc)))
    # the catalogue, survival, health and RUM read the activity tables on DuckDB only, and the
    # reconciliation with a CRM its own read days: their worked examples are not engine conformance
    # (any other example must be found below, or this fails)
    tests = Path(__file__).resolve().parents[1]
    duckdb_only = {
        m
        for f in ("test_catalogue.py", "test_survival.py", "test_health.py", "test_rum.py", "test_reconcile_crm.py")
        for m in re.findall(r"^def (test_\w+)", next(tests.rglob(f)).read_text(encoding="utf-8"), re.M)
    }
    params = []
    for name in (n for n in names if n not in duckdb_only):
        module = next(m for m in (props, invoices_tests, conventions, tidemill, past_due) if hasattr(m, name))
        func = getattr(module, name)
        marks = getattr(func, "pytestmark", [])
        cases: list[tuple[Any, ...]] = [()]
        for mark in marks:
            if mark.name == "parametrize":
                cases = [tuple(c) if isinstance(c, (tuple, list)) else (c,) for c in mark.args[1]]
        params += [pytest.param(module, name, case, id=f"{name}-{i}") for i, case in enumerate(cases)]
    return params


@pytest.mark.parametrize(("module", "name", "case"), worked_examples())
def test_worked_example_is_the_same_on_spark(
    module: Any, name: str, case: tuple[Any, ...], twin_class: type[Twin], request: pytest.FixtureRequest, monkeypatch
) -> None:
    for m in {module, props}:  # props too: the examples built with props.workspace
        if hasattr(m, "Workspace"):
            monkeypatch.setattr(m, "Workspace", twin_class)
    func = getattr(module, name)
    args = list(case)
    for param in list(inspect.signature(func).parameters)[: len(inspect.signature(func).parameters) - len(args)]:
        args.insert(0, request.getfixturevalue(param))
    before = len(COMPARED)
    func(*args)
    assert len(COMPARED) > before, f"{name} computed no metric"


def test_a_line_just_below_half_a_cent_rounds_down_on_both_engines(twin_class: type[Twin], monkeypatch) -> None:
    """Found by the 100,000-account benchmark: 1,558.29 EUR at 1.092117 is 1,701.8349993 USD, 7e-7
    below the half cent, so 1,701.83. Spark compared the remainder at fewer decimals and gave 1,701.84."""
    monkeypatch.setattr(props, "Workspace", twin_class)
    rows = props.numbered([props.sub("A", dt.date(2024, 11, 13), None, "1558.29", currency="EUR")])
    fx = [{"date": dt.date(2024, 11, 1), "currency": "EUR", "rate_to_reporting": props.D("1.092117")}]
    with props.workspace({"subscriptions": rows, "fx_rates": fx}, as_of=dt.date(2024, 12, 31)) as ws:
        assert props.ledger_mrr(ws) == {"A": props.D("1701.83")}
        assert props.by_period(ws.movements())["2024-11"]["new_mrr"] == props.D("1701.83")


# -- the API and CLI around the engine -----------------------------------------------------------
def test_parquet_directory_on_spark_equals_the_workspace(twin: Twin, spark: Any, tmp_path: Path) -> None:
    """A user's Parquet directory (no _file/_row bookkeeping, some tables absent) gives the same metrics."""
    tables = sample.generate(**SAMPLE)  # type: ignore[arg-type]
    for name in ("accounts", "subscriptions", "owners", "people", "fx_rates", "account_history"):
        dataset = tmp_path / "tables" / name  # a dataset directory, as Spark writes them
        dataset.mkdir(parents=True)
        import pyarrow.parquet as pq

        pq.write_table(tables[name], dataset / "part-0.parquet")
    with Workspace(
        tmp_path / "x.duckdb", config=twin.config, engine="spark", spark=spark, parquet=tmp_path / "tables"
    ) as ws:
        for metric, options in (("movements", {"by": "segment"}), ("retention", {"window": 12})):
            assert_same(getattr(Workspace, metric)(twin, **options), getattr(ws, metric)(**options), metric)
        out = ws.mrr().write(tmp_path / "mrr.parquet")
    import pyarrow.parquet as pq

    assert pq.read_table(out).equals(Workspace.mrr(twin).to_arrow())
    # the same directory from the command line
    args = ["metrics", "movements", "--by", "segment", "--engine", "spark", "--tables", str(tmp_path / "tables")]
    args += ["--as-of", AS_OF.isoformat(), "--format", "csv", "--out", str(tmp_path / "cli.csv")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    Workspace.movements(twin, by="segment").write(tmp_path / "duckdb.csv")
    assert (tmp_path / "cli.csv").read_text(encoding="utf-8") == (tmp_path / "duckdb.csv").read_text(encoding="utf-8")


def test_spark_catalog_database_on_spark_equals_the_workspace(twin: Twin, spark: Any) -> None:
    """Tables of a Spark catalog database (here Spark's global_temp, which needs no warehouse on disk)."""
    tables = sample.generate(**SAMPLE)  # type: ignore[arg-type]
    for name in ("accounts", "subscriptions", "owners", "people", "fx_rates", "account_history"):
        spark.createDataFrame(tables[name]).createOrReplaceGlobalTempView(name)
    try:
        with Workspace(":memory:", config=twin.config, engine="spark", spark=spark, database="global_temp") as ws:
            assert_same(Workspace.movements(twin, by="segment"), ws.movements(by="segment"), "movements from a catalog")
    finally:
        for name in tables:
            spark.catalog.dropGlobalTempView(name)
    with (
        Workspace(":memory:", config=twin.config, engine="spark", spark=spark, database="nowhere") as ws,
        pytest.raises(ConfigError, match="no database 'nowhere'"),
    ):
        ws.movements()


def test_cli_engine_spark_writes_the_same_table(company: Path, spark: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    common = ["-w", str(company), "--as-of", AS_OF.isoformat()]
    outs = {}
    for engine in ("duckdb", "spark"):
        outs[engine] = tmp_path / f"{engine}.csv"
        args = ["metrics", "movements", "--by", "segment", "--engine", engine, "--format", "csv"]
        result = runner.invoke(app, [*args, "--out", str(outs[engine]), *common])
        assert result.exit_code == 0, result.output
    text = outs["spark"].read_text(encoding="utf-8")
    assert text == outs["duckdb"].read_text(encoding="utf-8") and text.count("\n") > 100
    duck, spark_run = (runner.invoke(app, ["headline", "--engine", e, *common]) for e in ("duckdb", "spark"))
    assert spark_run.exit_code == 0 and "NRR, 12 months" in spark_run.output, spark_run.output
    assert spark_run.output == duck.output


def test_cli_tables_needs_the_spark_engine(company: Path) -> None:
    result = CliRunner().invoke(app, ["headline", "-w", str(company), "--tables", "somewhere"])
    assert result.exit_code == 2 and "--engine spark" in result.output


def test_missing_pyspark_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from revbook.engines.spark import local_session

    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ConfigError, match="needs pyspark") as info:
        local_session()
    assert "revbook[spark]" in str(info.value)


def test_missing_java_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, spark: Any) -> None:
    import shutil

    from pyspark.sql import SparkSession

    from revbook.engines.spark import local_session

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ConfigError, match="Java runtime") as info:
        local_session()
    assert "default-jre-headless" in str(info.value)


def test_spark_options_need_the_spark_engine(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='engine="spark"'):
        Workspace(tmp_path / "w.duckdb", parquet=tmp_path)
    with pytest.raises(ConfigError, match="unknown engine"):
        Workspace(tmp_path / "w.duckdb", engine="polars")
