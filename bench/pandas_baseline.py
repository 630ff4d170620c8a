"""A straightforward, idiomatic pandas implementation of revbook's definitions: the baseline.

Not part of the package. It follows docs/definitions.md the obvious way, on an account-month grid:

1. lines: every subscription line normalised to a month (after discount, before tax), converted at
   the FX rate of its start date (latest rate on or before it, fixed for the line), rounded half to
   even to cents once; trials are 0; lines starting after the as-of date are not read, and lines
   still running on it are open-ended;
2. the grid: each line exploded into the months whose snapshot (month end, or the as-of date in
   the as-of month) it is active on, summed per account and month: the month-end snapshots;
   quarter and year snapshots are the snapshots of their last month (or the as-of month);
3. slices per snapshot row, read on the snapshot date: segment / region / industry from
   account_history (else accounts), owner and team from owners (csm) and people, plan of the
   largest active line, cohort = year of the first month with MRR, ARR band;
4. movements: each snapshot paired with the account's previous period, classified new /
   reactivation / expansion / contraction / churn, sliced at the period's start (an arriving
   account: at its end), transfers where the slice changed;
5. retention: for each window w in (1, 3, 12) and each start month, the cohort of accounts with
   MRR at the start, in their slice then; NRR, GRR, logo retention, and the movement measures
   of the window's months.

Money is integer cents throughout (int64); the only floats are the ratios and, transiently, a
line's price before its exact half-even rounding (near-ties are re-done with exact integers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}
KINDS = ("new", "reactivation", "expansion", "contraction", "churn")
PLURAL = {
    "new": "new",
    "reactivation": "reactivated",
    "expansion": "expanded",
    "contraction": "contracted",
    "churn": "churned",
}
NONE = "(none)"
ARR_BANDS = (10_000, 50_000, 250_000)
BAND_LABELS = ("< 10k", "10k-50k", "50k-250k", "250k+")
COMPANIONS = {"owner": ["owner", "owner_name"]}


def expand(dims: Sequence[str]) -> list[str]:
    out: list[str] = []
    for d in dims:
        out += COMPANIONS.get(d, [d])
    return out


def month_index(dates: pd.Series) -> pd.Series:
    return dates.dt.year * 12 + dates.dt.month - 1


def _units(s: pd.Series, scale: int) -> np.ndarray:
    """A decimal column (read as float64) as exact integer units of 1/scale; NaN -> 0."""
    return np.rint(s.fillna(0).to_numpy(dtype="float64") * scale).astype("int64")


def read_parquet(path: Path) -> pd.DataFrame:
    """pandas.read_parquet, with decimals as float64 (exact to their 4 or 8 places) and dates as datetime64."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    cols = []
    for f in t.schema:
        c = t[f.name]
        if pa.types.is_decimal(f.type):
            c = c.cast(pa.float64())
        cols.append(c)
    return pa.table(cols, names=t.column_names).to_pandas(date_as_object=False)


class Book:
    def __init__(self, tables: dict[str, pd.DataFrame], as_of: dt.date) -> None:
        self.t = tables
        self.as_of = pd.Timestamp(as_of)
        self.last_month = as_of.year * 12 + as_of.month - 1
        self._cache: dict[object, object] = {}

    @classmethod
    def load(cls, paths: dict[str, Path], as_of: dt.date) -> Book:
        return cls({name: read_parquet(p) for name, p in paths.items()}, as_of)

    def _cached(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    # -- ledger ------------------------------------------------------------------------------------
    def ledger(self) -> pd.DataFrame:
        return self._cached("ledger", self._ledger)

    def _ledger(self) -> pd.DataFrame:
        s = self.t["subscriptions"]
        s = s[s["start_date"] <= self.as_of].copy()
        s = s[s["end_date"].isna() | (s["end_date"] > s["start_date"])]
        # account ids as integer codes: every later join and group-by is on them
        accounts = self.t["accounts"]
        self.account_ids = pd.Index(pd.unique(pd.concat([accounts["account_id"], s["account_id"]])))
        s["acct"] = self.account_ids.get_indexer(s["account_id"])
        s["currency"] = s["currency"].fillna("USD").str.upper()
        s["is_trial"] = s["is_trial"].fillna(False).astype(bool)

        # price per billing period and its months, as exact integers (1/10^4 units)
        has_mrr = s["mrr"].notna().to_numpy()
        has_amount = s["amount"].notna().to_numpy()
        seats = _units(s["unit_price"], 10_000) * _units(s["quantity"], 10_000) // 10_000  # exact: both 4 places
        gross = np.where(has_mrr, _units(s["mrr"], 10_000), np.where(has_amount, _units(s["amount"], 10_000), seats))
        months = np.where(has_mrr, 10_000, _units(s["billing_period_months"], 10_000))
        disc_pct = _units(s["discount_percent"], 10_000) if "discount_percent" in s else 0
        disc_amt = _units(s["discount_amount"], 10_000) if "discount_amount" in s else 0

        # FX: the latest rate on or before the line's start date, fixed for the line
        fx = self.t["fx_rates"].groupby(["currency", "date"], as_index=False)["rate_to_reporting"].max()
        fx = fx.sort_values("date")
        s = s.assign(_gross=gross, _months=months, _dp=disc_pct, _da=disc_amt).sort_values("start_date")
        foreign = s[s["currency"] != "USD"]
        rated = pd.merge_asof(foreign, fx, left_on="start_date", right_on="date", by="currency", direction="backward")
        s["_fx"] = 100_000_000
        s.loc[foreign.index, "_fx"] = _units(rated["rate_to_reporting"], 100_000_000)  # merge_asof keeps the left order
        if (s.loc[foreign.index, "_fx"] == 0).any():
            raise ValueError("no FX rate for a line's currency on or before its start")

        # mrr (cents) = P * F / (M * 10^12), P = gross * (10^6 - discount%) - discount * 10^6, half to even
        P = s["_gross"].to_numpy() * (1_000_000 - s["_dp"].to_numpy()) - s["_da"].to_numpy() * 1_000_000
        F = s["_fx"].to_numpy()
        M = s["_months"].to_numpy()
        v = P.astype("float64") * F.astype("float64") / (M.astype("float64") * 1e12)
        mrr = np.round(v).astype("int64")  # numpy rounds half to even
        frac = v - np.floor(v)
        near = np.flatnonzero(np.abs(frac - 0.5) < 1e-4)
        for i in near:  # exact for the few near-ties
            num, den = int(P[i]) * int(F[i]), int(M[i]) * 10**12
            q, r = divmod(num, den)
            mrr[i] = q + (1 if 2 * r > den or (2 * r == den and q % 2 == 1) else 0)
        mrr[s["is_trial"].to_numpy()] = 0

        end = s["end_date"].where(s["end_date"] <= self.as_of)  # running on the as-of date: open-ended
        lines = pd.DataFrame(
            {
                "acct": s["acct"].to_numpy(),
                "start_month": month_index(s["start_date"]).to_numpy(),
                "end_month": month_index(end).fillna(self.last_month + 1).astype("int64").to_numpy(),
                "mrr": mrr,
                "plan": s["plan"].fillna(NONE).astype("category").values,
            }
        )
        return lines

    # -- the account-month grid --------------------------------------------------------------------
    def monthly(self) -> pd.DataFrame:
        """Month-end snapshots: (acct, period, mrr) with MRR above zero, sorted, and the plan of the
        account's largest line that month (the ``plan`` slice), from the exploded line-month grid."""
        return self._cached("monthly", self._monthly)

    def _monthly(self) -> pd.DataFrame:
        lines = self.ledger()
        lines = lines[lines["mrr"] != 0]
        n = (lines["end_month"] - lines["start_month"]).clip(lower=0).to_numpy()
        # the grid: one row per line and month whose snapshot the line is active on
        grid = lines.loc[lines.index.repeat(n), ["acct", "start_month", "mrr", "plan"]]
        grid["month"] = grid["start_month"].to_numpy() + grid.groupby(level=0).cumcount().to_numpy()
        grid = grid.drop(columns="start_month").reset_index(drop=True)
        m = grid.groupby(["acct", "month"], as_index=False, sort=True)["mrr"].sum()
        m["mrr"] = m["mrr"].clip(lower=0)
        m = m[m["mrr"] > 0].rename(columns={"month": "period"}).reset_index(drop=True)
        # plan: the largest active line's plan (ties: the first plan by name)
        paid = grid[grid["mrr"] > 0]
        top = paid.sort_values(["acct", "month", "mrr", "plan"], ascending=[True, True, False, True])
        top = top.drop_duplicates(["acct", "month"])
        del grid, paid
        m = m.merge(
            top[["acct", "month", "plan"]].rename(columns={"month": "period"}), on=["acct", "period"], how="left"
        )
        return m

    def period_of_month(self, grain: str, month: np.ndarray | pd.Series) -> np.ndarray:
        return np.asarray(month) // GRAIN_MONTHS[grain]

    def snapshots(self, grain: str) -> pd.DataFrame:
        def build() -> pd.DataFrame:
            m = self.monthly()
            if grain == "month":
                snap = m.copy()
                snap["month"] = snap["period"]
            else:
                k = GRAIN_MONTHS[grain]
                last_of_period = (m["period"] % k == k - 1) | (m["period"] == self.last_month)
                snap = m[last_of_period].copy()
                snap["month"] = snap["period"]
                snap["period"] = snap["period"] // k
            periods = self.spine(grain)
            snap = snap.merge(periods[["period", "period_end"]], on="period", how="left")
            return snap

        return self._cached(("snap", grain), build)

    def spine(self, grain: str) -> pd.DataFrame:
        def build() -> pd.DataFrame:
            k = GRAIN_MONTHS[grain]
            last = self.last_month // k
            first = min(int(self.monthly()["period"].min()) // k, last)
            rows = []
            for p in range(first, last + 1):
                fm = p * k
                y, mo = divmod(fm, 12)
                start = dt.date(y, mo + 1, 1)
                ly, lm = divmod(fm + k - 1, 12)
                end = (pd.Timestamp(dt.date(ly, lm + 1, 1)) + pd.offsets.MonthEnd(0)).date()
                end = min(end, self.as_of.date())
                label = (
                    f"{y}-{mo + 1:02d}"
                    if grain == "month"
                    else (f"{y}-Q{mo // 3 + 1}" if grain == "quarter" else f"{y}")
                )
                rows.append((p, label, start, end))
            df = pd.DataFrame(rows, columns=["period", "label", "period_start", "period_end"])
            df["period_end_ts"] = pd.to_datetime(df["period_end"]).astype("datetime64[ms]")
            return df

        return self._cached(("spine", grain), build)

    # -- slices ------------------------------------------------------------------------------------
    def slices(self, grain: str, dims: Sequence[str]) -> pd.DataFrame:
        """The snapshot rows (acct, period, mrr) with each dimension's value on the snapshot date."""
        snap = self.snapshots(grain)
        out = snap[["acct", "period", "mrr"]].copy()
        for d in dims:
            for col, values in self._dimension(grain, d).items():
                out[col] = values
        return out

    def _dimension(self, grain: str, dim: str) -> dict[str, pd.Categorical]:
        """Kept per grain and dimension, as categoricals aligned with ``snapshots(grain)``."""

        def build() -> dict[str, pd.Categorical]:
            return {k: pd.Categorical(v) for k, v in self._build_dimension(grain, dim).items()}

        return self._cached(("dim", grain, dim), build)

    def _rows(self, grain: str) -> pd.DataFrame:
        snap = self.snapshots(grain)
        periods = self.spine(grain)
        r = snap[["acct", "period", "month"]].reset_index(drop=True)
        r["date"] = r["period"].map(periods.set_index("period")["period_end_ts"])
        r["row"] = np.arange(len(r))
        return r

    def _build_dimension(self, grain: str, dim: str) -> dict[str, np.ndarray]:
        rows = self._rows(grain)
        n = len(rows)
        if dim in ("segment", "region", "industry"):
            acc = self.t["accounts"]
            base = pd.Series(acc[dim].to_numpy(), index=self.account_ids.get_indexer(acc["account_id"]))
            h = self.t["account_history"]
            h = h[h["attribute"] == dim].copy()
            h["acct"] = self.account_ids.get_indexer(h["account_id"])
            h = h.sort_values("valid_from")[["acct", "valid_from", "value"]]
            r = pd.merge_asof(
                rows.sort_values("date"), h, left_on="date", right_on="valid_from", by="acct", direction="backward"
            ).sort_values("row")
            value = r["value"].to_numpy(dtype=object)
            fallback = base.reindex(rows["acct"]).to_numpy(dtype=object)
            value = np.where(pd.isna(value), fallback, value)
            value = np.where(pd.isna(value), NONE, value)
            return {dim: value}
        if dim in ("owner", "team"):
            o = self.t["owners"]
            o = o[o["role"] == "csm"].copy()
            o["acct"] = self.account_ids.get_indexer(o["account_id"])
            m = rows[["row", "acct", "date"]].merge(o[["acct", "owner_id", "start_date", "end_date"]], on="acct")
            m = m[(m["start_date"] <= m["date"]) & (m["end_date"].isna() | (m["end_date"] > m["date"]))]
            m = m.sort_values(["row", "start_date", "owner_id"], ascending=[True, False, True])
            m = m.drop_duplicates("row")
            owner = pd.Series(np.full(n, None, dtype=object))
            owner.iloc[m["row"].to_numpy()] = m["owner_id"].to_numpy()
            people = self.t["people"].drop_duplicates("owner_id").set_index("owner_id")
            if dim == "team":
                team = owner.map(people["team"])
                return {"team": team.fillna(NONE).to_numpy(dtype=object)}
            name = owner.map(people["name"]).fillna(owner)
            return {
                "owner": owner.fillna(NONE).to_numpy(dtype=object),
                "owner_name": name.fillna(NONE).to_numpy(dtype=object),
            }
        if dim == "plan":
            r = (
                rows[["row", "acct", "month"]]
                .merge(
                    self.monthly()[["acct", "period", "plan"]].rename(columns={"period": "month"}),
                    on=["acct", "month"],
                    how="left",
                )
                .sort_values("row")
            )
            return {"plan": r["plan"].astype(object).fillna(NONE).to_numpy(dtype=object)}
        if dim == "cohort":
            first = self.monthly().groupby("acct")["period"].min()
            return {"cohort": (rows["acct"].map(first) // 12).astype(str).to_numpy(dtype=object)}
        if dim == "arr_band":
            arr = 12 * self.snapshots(grain)["mrr"].to_numpy()
            idx = np.searchsorted(np.array(ARR_BANDS) * 100, arr, side="right")
            return {"arr_band": np.array(BAND_LABELS, dtype=object)[idx]}
        raise ValueError(dim)

    # -- movements ---------------------------------------------------------------------------------
    def account_movements(self, grain: str, dims: Sequence[str]) -> pd.DataFrame:
        """One row per account and period with MRR at its start or end, classified and sliced."""
        dims = expand(dims)
        key = ("am", grain, tuple(dims))
        if self._cache.get("am_key") == key:
            return self._cache["am"]
        sl = self.slices(grain, [d for d in dims if d != "owner_name"])  # sorted by account, period
        last = self.last_month // GRAIN_MONTHS[grain]
        acct, period, mrr = sl["acct"].to_numpy(), sl["period"].to_numpy(), sl["mrr"].to_numpy()
        same_prev = np.r_[False, acct[1:] == acct[:-1]]  # the row before is the same account's
        follows = same_prev & np.r_[False, period[1:] == period[:-1] + 1]  # ... and its previous period
        # every snapshot row: start = the previous period's MRR (if any); then a churn row after
        # each snapshot not followed by the next period's
        cur = pd.DataFrame(
            {
                "acct": acct,
                "period": period,
                "start_mrr": np.where(follows, np.r_[0, mrr[:-1]], 0),
                "end_mrr": mrr,
                "arrival": np.where(follows, None, np.where(same_prev, "reactivation", "new")),
                "slice_row": np.where(follows, np.arange(len(sl)) - 1, np.arange(len(sl))),
            }
        )
        followed = np.r_[follows[1:], False]
        gone = np.flatnonzero(~followed)
        churn = pd.DataFrame(
            {
                "acct": acct[gone],
                "period": period[gone] + 1,
                "start_mrr": mrr[gone],
                "end_mrr": 0,
                "arrival": None,
                "slice_row": gone,
            }
        )
        rows = pd.concat([cur, churn], ignore_index=True)
        rows = rows[rows["period"] <= last].sort_values(["acct", "period"], kind="stable").reset_index(drop=True)
        start, end = rows["start_mrr"].to_numpy(), rows["end_mrr"].to_numpy()
        rows["movement"] = np.select(
            [rows["arrival"].notna().to_numpy(), end == 0, end > start, end < start],
            [rows["arrival"].to_numpy(), "churn", "expansion", "contraction"],
            default=None,
        )
        # slice at the period's start (the previous snapshot), an arriving account at its end
        for d in dims:
            rows[d] = sl[d].array.take(rows["slice_row"].to_numpy())
        if dims:
            a, p = rows["acct"].to_numpy(), rows["period"].to_numpy()
            prev_same = np.r_[False, (a[1:] == a[:-1]) & (p[1:] == p[:-1] + 1)]
            moved = np.zeros(len(rows), dtype=bool)
            for d in dims:
                codes = rows[d].cat.codes.to_numpy()
                moved |= np.r_[False, codes[1:] != codes[:-1]]
                rows[f"prev_{d}"] = rows[d].shift()
            rows["transferred"] = (start > 0) & prev_same & moved
        else:
            rows["transferred"] = False
        self._cache["am_key"], self._cache["am"] = key, rows
        return rows

    def movements(self, grain: str, dims: Sequence[str]) -> pd.DataFrame:
        dims_x = expand(dims)
        rows = self.account_movements(grain, dims)
        f = pd.DataFrame({"period": rows["period"].to_numpy()})
        for d in dims_x:
            f[d] = rows[d].to_numpy()
        start, end = rows["start_mrr"].to_numpy(), rows["end_mrr"].to_numpy()
        mv = rows["movement"].to_numpy()
        f["start_mrr"] = start
        for k in KINDS:
            f[f"{k}_mrr"] = np.where(mv == k, np.abs(end - start), 0)
        f["end_mrr"] = end
        f["start_accounts"] = (start > 0).astype("int64")
        for k in KINDS:
            f[f"{PLURAL[k]}_accounts"] = (mv == k).astype("int64")
        f["end_accounts"] = (end > 0).astype("int64")
        if dims_x:
            tr = rows["transferred"].to_numpy()
            f["transfer_in_mrr"] = np.where(tr, start, 0)
            f["transfer_out_mrr"] = 0
            f["transfer_in_accounts"] = tr.astype("int64")
            f["transfer_out_accounts"] = 0
            out = rows.loc[tr]
            o = pd.DataFrame({"period": out["period"].to_numpy()})
            for d in dims_x:
                o[d] = out[f"prev_{d}"].to_numpy()
            for c in f.columns[len(dims_x) + 1 :]:
                o[c] = 0
            o["transfer_out_mrr"] = out["start_mrr"].to_numpy()
            o["transfer_out_accounts"] = 1
            f = pd.concat([f, o], ignore_index=True)
        agg = f.groupby(["period", *dims_x], as_index=False, sort=True).sum()
        periods = self.spine(grain)[["period", "label", "period_start", "period_end"]]
        res = periods.merge(agg, on="period", how="left" if not dims_x else "inner")
        value_cols = [c for c in agg.columns if c not in ("period", *dims_x)]
        res[value_cols] = res[value_cols].fillna(0).astype("int64")
        res = res.sort_values(["period", *dims_x]).reset_index(drop=True)
        return res.rename(columns={"label": "period_label"})

    # -- retention ---------------------------------------------------------------------------------
    def retention(self, windows: Sequence[int], dims: Sequence[str]) -> pd.DataFrame:
        dims_x = expand(dims)
        sl = self.slices("month", [d for d in dims_x if d != "owner_name"])
        periods = self.spine("month")
        first, last = int(periods["period"].min()), int(periods["period"].max())
        snap = self.snapshots("month")[["acct", "period", "mrr"]]
        cohorts = []
        for w in windows:
            s = sl[sl["period"] + w <= last]
            e = snap.assign(period=snap["period"] - w).rename(columns={"mrr": "e_mrr"})
            c = s.merge(e, on=["acct", "period"], how="left")
            c["end_period"] = c["period"] + w
            c["window_months"] = w
            c["end_mrr"] = c["e_mrr"].fillna(0).astype("int64")
            c["retained_mrr"] = np.minimum(c["end_mrr"], c["mrr"])
            c["retained_accounts"] = c["e_mrr"].notna().astype("int64")
            c["start_accounts"] = 1
            g = c.groupby(["end_period", "window_months", *dims_x], as_index=False, observed=True)[
                ["start_accounts", "mrr", "end_mrr", "retained_mrr", "retained_accounts"]
            ].sum()
            for d in dims_x:
                g[d] = g[d].astype(object)
            cohorts.append(g.rename(columns={"mrr": "start_mrr"}))
        cohort = pd.concat(cohorts, ignore_index=True)

        rows = self.account_movements("month", dims)
        start, end, mv = rows["start_mrr"].to_numpy(), rows["end_mrr"].to_numpy(), rows["movement"].to_numpy()
        mo = pd.DataFrame({"period": rows["period"].to_numpy()})
        for d in dims_x:
            mo[d] = rows[d].to_numpy()
        for k in KINDS:
            mo[k] = np.where(mv == k, np.abs(end - start), 0)
        monthly = mo.groupby(["period", *dims_x], as_index=False).sum()
        windowed = []
        for w in windows:
            for lag in range(w):  # month p contributes to windows ending at p .. p + w - 1
                x = monthly.assign(end_period=monthly["period"] + lag, window_months=w)
                windowed.append(x[(x["end_period"] - w >= first - 1) & (x["end_period"] <= last)])
        win = (
            pd.concat(windowed, ignore_index=True)
            .groupby(["end_period", "window_months", *dims_x], as_index=False)[list(KINDS)]
            .sum()
        )

        x = cohort.merge(win, on=["end_period", "window_months", *dims_x], how="outer")
        num = ["start_accounts", "start_mrr", "end_mrr", "retained_mrr", "retained_accounts", *KINDS]
        x[num] = x[num].fillna(0).astype("int64")
        x = x[x["end_period"] <= last]
        x = x.merge(periods[["period", "label", "period_start", "period_end"]], left_on="end_period", right_on="period")

        def ratio(a, b):
            a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(b == 0, np.nan, a / np.where(b == 0, 1, b))

        sm = x["start_mrr"]
        x["nrr"] = ratio(x["end_mrr"], sm)
        x["grr"] = ratio(x["retained_mrr"], sm)
        x["logo_retention"] = ratio(x["retained_accounts"], x["start_accounts"])
        x["movement_nrr"] = ratio(sm + x["expansion"] - x["contraction"] - x["churn"], sm)
        x["gross_revenue_churn"] = ratio(x["churn"] + x["contraction"], sm)
        x["net_revenue_churn"] = ratio(x["churn"] + x["contraction"] - x["expansion"], sm)
        x["expansion_rate"] = ratio(x["expansion"], sm)
        x["quick_ratio"] = ratio(x["new"] + x["reactivation"] + x["expansion"], x["contraction"] + x["churn"])
        x = x.rename(columns={k: f"{k}_mrr" for k in KINDS} | {"label": "period_label"})
        return x.sort_values(["window_months", "end_period", *dims_x]).reset_index(drop=True)
