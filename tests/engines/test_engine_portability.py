"""Every definition is portable SQL: it transpiles to Spark SQL with nothing unsupported.

The metrics run here on DuckDB through a recording engine; each statement they issue is then
translated by SQLGlot to Spark's dialect with unsupported constructs raised as errors. Running
them on a real Spark session is the conformance suite of the Spark engine.
"""

from __future__ import annotations

import sqlglot
from sqlglot.errors import ErrorLevel

from revbook.engines import DuckDBEngine, portable
from revbook.metrics.book import DIMENSIONS, Book


class RecordingEngine(DuckDBEngine):
    def __init__(self, con):
        super().__init__(con)
        self.statements: list[str] = []

    def materialize(self, name, select):
        self.statements.append(select)
        super().materialize(name, select)

    def arrow(self, sql, params=()):
        self.statements.append(sql)
        return super().arrow(sql, params)


def test_every_definition_transpiles_to_spark(ws, small_files):
    ws.load(small_files)
    engine = RecordingEngine(ws.con)
    ws._derived["book"] = Book(engine, ws.config.with_(churn_grace_days=3))  # the workspace's engine, recorded
    for grain in ("month", "quarter", "year"):
        ws.mrr(grain=grain, by=list(DIMENSIONS))
        ws.movements(grain=grain, by=list(DIMENSIONS))
    ws.retention(by=list(DIMENSIONS), grain="quarter")
    ws.cohorts()
    ws.account_movements(by="segment")
    assert len(engine.statements) > 20
    for sql in engine.statements:
        spark = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
        assert len(spark) == 1
        sqlglot.parse_one(spark[0], read="spark")
        lowered = sql.lower()
        for duckdb_only in (" asof ", "qualify", "range(", "list_", "struct_pack", "::"):
            assert duckdb_only not in lowered, duckdb_only


def test_portable_is_identity_on_the_reference_dialect():
    sql = "SELECT a // 3 FROM t"
    assert portable(sql, "duckdb") == sql
    assert "DIV" in portable(sql, "spark")
