"""A deliberately naive reference for revbook's MRR, movements and cohort retention.

Independent of revbook on purpose: plain Python, ``datetime`` and integer cents, loops
over days and periods, no SQL and no revbook imports. It is slow and obvious so that the
tests can compare revbook's change-point SQL with the written definitions (DESIGN.md):

- a line counts on day d when start <= d < end (end exclusive, None = ongoing); lines that
  start after the as-of date are not read; trial lines count 0;
- an account's MRR on a day is the sum of its lines counting that day; a gap of at most
  ``grace_days`` days at zero between two paid days is bridged at the MRR of the gap's eve;
- the snapshot of a period is its last calendar day, or the as-of date inside the as-of period;
  the periods run from the first one with any positive snapshot to the as-of period;
- movements compare an account's snapshot with its previous one: new (first positive snapshot
  ever), reactivation (positive after zero, having been positive before), expansion,
  contraction, churn (positive to zero);
- cohort retention over a window of w months ending at month e: the cohort is every account
  with MRR > 0 at month e - w; NRR = sum(end) / sum(start), GRR = sum(min(end, start)) /
  sum(start), logo = count(end > 0) / count;
- slices: an attribute read on the snapshot date of the period's start (the previous
  snapshot) for movements (an arriving account: its end snapshot), and on the window's
  start snapshot for retention. A movement row counted in another slice than the account's
  previous row is a transfer out of the old slice and into the new one.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

KINDS = ("new", "reactivation", "expansion", "contraction", "churn")
GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}

SliceOf = Callable[[str, dt.date], str]


@dataclass(frozen=True)
class Line:
    account: str
    start: dt.date
    end: dt.date | None  # exclusive; None = ongoing
    mrr: int  # cents per month
    trial: bool = False


# -- money -------------------------------------------------------------------------------------
def line_mrr_cents(
    price: Decimal | str | int,
    months: Decimal | str | int = 1,
    *,
    discount_percent: Decimal | str | int = 0,
    discount_amount: Decimal | str | int = 0,
    fx: Decimal | str | int = 1,
    minor_units: int = 2,
) -> int:
    """A line's monthly price in minor units (cents), rounded once, half to even."""
    price, months = Decimal(price), Decimal(months)
    with localcontext() as ctx:
        ctx.prec = 80  # exact for any realistic input
        gross = price * (100 - Decimal(discount_percent)) / 100 - Decimal(discount_amount)
        exact = gross * Decimal(fx) * 10**minor_units / months
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def cents(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2)


# -- calendar ----------------------------------------------------------------------------------
def month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def last_day_of_month(mi: int) -> dt.date:
    y, m = divmod(mi, 12)
    return dt.date(y, m + 1, calendar.monthrange(y, m + 1)[1])


@dataclass(frozen=True)
class Grain:
    months: int = 1
    fiscal_start: int = 1

    @property
    def offset(self) -> int:
        return 0 if self.months == 1 else self.fiscal_start - 1

    def period_of(self, d: dt.date) -> int:
        return (month_index(d) - self.offset) // self.months

    def last_month(self, p: int) -> int:
        return p * self.months + self.offset + self.months - 1

    def snapshot_date(self, p: int, as_of: dt.date) -> dt.date:
        return min(last_day_of_month(self.last_month(p)), as_of)


# -- MRR on a day ------------------------------------------------------------------------------
def raw_mrr(lines: Iterable[Line], account: str, day: dt.date, as_of: dt.date) -> int:
    total = 0
    for ln in lines:
        if ln.account != account or ln.start > as_of or ln.trial:
            continue
        if ln.start <= day and (ln.end is None or day < ln.end):
            total += ln.mrr
    return total


def mrr_on(lines: list[Line], account: str, day: dt.date, as_of: dt.date, grace_days: int = 0) -> int:
    value = raw_mrr(lines, account, day, as_of)
    if value > 0 or grace_days == 0:
        return value
    one = dt.timedelta(days=1)
    # the zero run around `day` must be at most grace_days long and lie between two paid days
    before = None
    for k in range(1, grace_days + 1):
        if raw_mrr(lines, account, day - k * one, as_of) > 0:
            before = k
            break
    if before is None:
        return 0
    for k in range(1, grace_days + 2 - before):
        d = day + k * one
        if d > as_of:
            return 0
        if raw_mrr(lines, account, d, as_of) > 0:
            return raw_mrr(lines, account, day - before * one, as_of)
    return 0


# -- snapshots ---------------------------------------------------------------------------------
@dataclass
class Snapshots:
    grain: Grain
    as_of: dt.date
    periods: list[int]
    dates: dict[int, dt.date]
    accounts: list[str]
    mrr: dict[tuple[str, int], int]  # every account x period (and the period before the first), 0 included

    def of(self, account: str, p: int) -> int:
        return self.mrr.get((account, p), 0)


def snapshots(
    lines: list[Line], as_of: dt.date, grain: str = "month", fiscal_start: int = 1, grace_days: int = 0
) -> Snapshots:
    g = Grain(GRAIN_MONTHS[grain], fiscal_start)
    accounts = sorted({ln.account for ln in lines})
    last = g.period_of(as_of)
    starts = [ln.start for ln in lines if ln.start <= as_of]
    lo = g.period_of(min(starts)) if starts else last
    mrr: dict[tuple[str, int], int] = {}
    for a in accounts:
        for p in range(lo, last + 1):
            mrr[(a, p)] = mrr_on(lines, a, g.snapshot_date(p, as_of), as_of, grace_days)
    positive = [p for (_, p), v in mrr.items() if v > 0]
    first = min(positive) if positive else last
    periods = list(range(first, last + 1))
    return Snapshots(g, as_of, periods, {p: g.snapshot_date(p, as_of) for p in periods}, accounts, mrr)


# -- movements ---------------------------------------------------------------------------------
@dataclass
class AccountMovement:
    account: str
    period: int
    start: int
    end: int
    kind: str | None  # None: no change
    slice: str | None = None
    transfer_from: str | None = None  # the slice the account was counted in the previous period


def account_movements(
    snap: Snapshots, *, reactivation_as_new_after_months: int = 0, slice_of: SliceOf | None = None
) -> list[AccountMovement]:
    rows: list[AccountMovement] = []
    for a in snap.accounts:
        last_positive: int | None = None
        prev_row: AccountMovement | None = None
        for p in snap.periods:
            start, end = snap.of(a, p - 1), snap.of(a, p)
            if start == 0 and end == 0:
                continue
            if start == 0:
                zero_months = None if last_positive is None else (p - last_positive - 1) * snap.grain.months
                if zero_months is None or (
                    reactivation_as_new_after_months > 0 and zero_months >= reactivation_as_new_after_months
                ):
                    kind = "new"
                else:
                    kind = "reactivation"
            elif end == 0:
                kind = "churn"
            elif end > start:
                kind = "expansion"
            elif end < start:
                kind = "contraction"
            else:
                kind = None
            row = AccountMovement(a, p, start, end, kind)
            if slice_of is not None:
                on = snap.dates.get(p - 1) if start > 0 else snap.dates[p]
                assert on is not None
                row.slice = slice_of(a, on)
                if start > 0 and prev_row is not None and prev_row.period == p - 1 and prev_row.slice != row.slice:
                    row.transfer_from = prev_row.slice
            rows.append(row)
            prev_row = row
            if end > 0:
                last_positive = p
    return rows


@dataclass
class MovementRow:
    start: int = 0
    end: int = 0
    amounts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    start_accounts: int = 0
    end_accounts: int = 0
    transfer_in: int = 0
    transfer_out: int = 0


def movements(
    snap: Snapshots, *, reactivation_as_new_after_months: int = 0, slice_of: SliceOf | None = None
) -> dict[tuple[int, str | None], MovementRow]:
    """(period, slice) -> totals in cents. Unsliced: every period of the spine, slice None."""
    out: dict[tuple[int, str | None], MovementRow] = {}
    if slice_of is None:
        for p in snap.periods:
            out[(p, None)] = MovementRow()
    for r in account_movements(
        snap, reactivation_as_new_after_months=reactivation_as_new_after_months, slice_of=slice_of
    ):
        row = out.setdefault((r.period, r.slice), MovementRow())
        row.start += r.start
        row.end += r.end
        row.start_accounts += r.start > 0
        row.end_accounts += r.end > 0
        if r.kind is not None:
            row.amounts[r.kind] += abs(r.end - r.start)
            row.counts[r.kind] += 1
        if r.transfer_from is not None:
            row.transfer_in += r.start
            out.setdefault((r.period, r.transfer_from), MovementRow()).transfer_out += r.start
    return out


# -- cohort retention --------------------------------------------------------------------------
@dataclass
class RetentionRow:
    start_accounts: int
    retained_accounts: int
    start_mrr: int
    end_mrr: int
    retained_mrr: int

    @property
    def nrr(self) -> Fraction:
        return Fraction(self.end_mrr, self.start_mrr)

    @property
    def grr(self) -> Fraction:
        return Fraction(self.retained_mrr, self.start_mrr)

    @property
    def logo(self) -> Fraction:
        return Fraction(self.retained_accounts, self.start_accounts)


def retention(
    snap: Snapshots, window: int, *, slice_of: SliceOf | None = None
) -> dict[tuple[int, str | None], RetentionRow]:
    """(end month, slice) -> cohort totals, for every window whose start snapshot has a paying account."""
    assert snap.grain.months == 1, "cohort windows are in months"
    out: dict[tuple[int, str | None], RetentionRow] = {}
    for e in snap.periods:
        s = e - window
        if s not in snap.dates:
            continue
        for a in snap.accounts:
            start, end = snap.of(a, s), snap.of(a, e)
            if start <= 0:
                continue
            key = (e, None if slice_of is None else slice_of(a, snap.dates[s]))
            row = out.setdefault(key, RetentionRow(0, 0, 0, 0, 0))
            row.start_accounts += 1
            row.retained_accounts += end > 0
            row.start_mrr += start
            row.end_mrr += end
            row.retained_mrr += min(start, end)
    return out


# -- slices ------------------------------------------------------------------------------------
def attribute_slicer(
    base: dict[str, str | None], history: Iterable[tuple[str, dt.date, str]], unassigned: str = "(none)"
) -> SliceOf:
    """An attribute's value on a date: the latest history row valid then, else the base value."""
    hist = sorted(history, key=lambda h: h[1])

    def slice_of(account: str, day: dt.date) -> str:
        value = base.get(account)
        for acc, valid_from, v in hist:
            if acc == account and valid_from <= day:
                value = v
        return unassigned if value is None else value

    return slice_of


def owner_slicer(owners: Iterable[tuple[str, str, dt.date, dt.date | None]], unassigned: str = "(none)") -> SliceOf:
    """The CSM on a date: of the rows (account, owner, start, end exclusive) running then, the latest start
    (then the smallest owner id)."""
    rows = list(owners)

    def slice_of(account: str, day: dt.date) -> str:
        running = [
            (start, owner)
            for acc, owner, start, end in rows
            if acc == account and start <= day and (end is None or day < end)
        ]
        if not running:
            return unassigned
        latest = max(start for start, _ in running)
        return min(owner for start, owner in running if start == latest)

    return slice_of
