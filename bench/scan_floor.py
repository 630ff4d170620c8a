"""The scan floor: the cost no implementation of the metrics can avoid.

DuckDB (in memory, default threads) reads from the Parquet inputs exactly the columns the
computation needs, decoding every value (each column goes through ``hash``, so nothing is
answered from Parquet statistics), and writes a result of the same size as revbook's (the
same number of rows as all its movements and retention tables together, 24 columns, to
Arrow). Nothing is joined, grouped or sorted: any real implementation does at least this.
"""

from __future__ import annotations

from pathlib import Path

#: the input columns the movements and retention of every slice read
NEEDED = {
    "subscriptions": [
        "account_id",
        "start_date",
        "end_date",
        "mrr",
        "amount",
        "unit_price",
        "quantity",
        "billing_period_months",
        "discount_percent",
        "is_trial",
        "currency",
        "plan",
    ],
    "accounts": ["account_id", "segment", "region"],
    "account_history": ["account_id", "attribute", "value", "valid_from"],
    "owners": ["account_id", "owner_id", "role", "start_date", "end_date"],
    "people": ["owner_id", "name", "team"],
    "fx_rates": ["date", "currency", "rate_to_reporting"],
}


def run(paths: dict[str, Path], out_rows: int, needed: dict[str, list[str]] | None = None) -> dict[str, int]:
    """``needed``: the columns to read per table (default: every slice's, NEEDED)."""
    import duckdb

    con = duckdb.connect()
    info: dict[str, int] = {}
    for table, cols in (needed or NEEDED).items():
        hashes = ", ".join(f"bit_xor(hash({c}))" for c in cols)
        row = con.execute(f"SELECT count(*), {hashes} FROM read_parquet('{paths[table]}')").fetchone()
        info[table] = int(row[0])
    result_cols = ", ".join(f"CAST(i * {k} AS BIGINT) AS c{k}" for k in range(24))
    out = con.execute(f"SELECT {result_cols} FROM range({int(out_rows)}) t(i)").to_arrow_table()
    info["result_rows"] = out.num_rows
    con.close()
    return info
