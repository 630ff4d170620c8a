"""The contract tables written from the simulated book: accounts, subscriptions, fx_rates,
account_history and invoices (people and owners are in :mod:`revbook.sample.staff`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._util import _MONEY, _RATE, NULL, _date, _day_of, _decimal, _dom_of, _ids, _money, _month_of, _pick, _words
from .plants import plan_of
from .settings import (
    ADDONS,
    CORE_PRODUCT,
    INDUSTRIES,
    K_ADDON,
    K_CORE,
    K_SEATS,
    K_TRIAL,
    K_USAGE,
    PLANS,
    REGIONS,
    SEGMENTS,
    USAGE_PRODUCT,
)
from .simulation import Book

_FIRST = _words(
    "Acme Apex Atlas Beacon Blue Bright Cedar Cobalt Crimson Delta Evergreen Falcon Golden Granite Harbor "
    "Horizon Iron Juniper Keystone Lumen Maple Meridian Northwind Nova Orbit Pioneer Polar Quantum Redwood "
    "River Silver Sterling Stone Summit Tidal Union Velvet Vertex Willow Zenith",
    "Müller",
    "Café",
    "O'Connor",
    "Zürich",
    "Ålesund",
    "L'Étoile",
)
_SECOND = _words(
    "Analytics Logistics Health Foods Software Capital Media Robotics Energy Retail Labs Systems Partners "
    "Dynamics Networks Studios Works Solutions Holdings Brands Freight Bio Learning Security",
    "& Co",
    "& Sons",
    "Bäckerei",
)
_SUFFIX = (("Inc", "LLC", "Corp", ""), ("Ltd", "GmbH", "SA", "BV", "plc", "AG"), ("Pte Ltd", "Pty Ltd", "KK", ""))


def _weighted(rng: np.random.Generator, words: list[str], special: int, n: int, p_special: float) -> np.ndarray:
    """Indices into words whose last ``special`` entries are chosen with total chance p_special."""
    plain = len(words) - special
    p = np.r_[np.full(plain, (1 - p_special) / plain), np.full(special, p_special / special)]
    return rng.choice(len(words), size=n, p=p)


def accounts_table(book: Book, rng: np.random.Generator) -> pa.Table:
    n = book.n
    first = _pick(_FIRST, _weighted(rng, _FIRST, 6, n, 0.02))
    second = _pick(_SECOND, _weighted(rng, _SECOND, 3, n, 0.02))
    suffix_idx = rng.integers(0, 6, n)
    flat = [s for r in _SUFFIX for s in r]
    offs = np.cumsum([0] + [len(r) for r in _SUFFIX])[:-1]
    lens = np.array([len(r) for r in _SUFFIX])
    suffix = _pick(flat, offs[book.region] + suffix_idx % lens[book.region])
    name = pc.utf8_trim_whitespace(pc.binary_join_element_wise(first, second, suffix, " "))
    # a few enterprise subsidiaries of an earlier enterprise account
    ent = np.flatnonzero(book.segment == 2)
    parent = np.full(n, -1, np.int64)
    kids = np.flatnonzero(rng.random(len(ent)) < book.config.parent_share)
    kids = kids[kids > 0]
    parent[ent[kids]] = ent[np.floor(rng.random(len(kids)) * kids).astype(np.int64)]
    ids = book.account_ids
    assert ids is not None
    parent_ids = ids.take(pa.array(np.where(parent >= 0, parent, 0), mask=parent < 0))
    return pa.table(
        {
            "account_id": ids,
            "name": name,
            "segment": _pick(SEGMENTS, book.segment_now),
            "region": _pick(REGIONS, book.region),
            "industry": _pick(INDUSTRIES, _industry_now(book)),
            "created_at": _date(book.created),
            "parent_account_id": parent_ids,
        }
    )


def subscriptions_table(book: Book, rng: np.random.Generator) -> pa.Table:
    ln = book.lines
    acct, life = ln["acct"], ln["life"]
    aid = book.ids_of(acct)
    sub = pc.binary_join_element_wise(pc.utf8_replace_slice(aid, 0, 1, "S"), pa.array(life + 1).cast(pa.string()), "-")
    # line number within a subscription, in start order (lines are sorted by account, start, kind)
    key = acct * 1000 + life
    newsub = np.r_[True, key[1:] != key[:-1]]
    pos = np.arange(len(key))
    line_no = pos - np.maximum.accumulate(np.where(newsub, pos, 0)) + 1
    kind = ln["kind"]
    product_names = (CORE_PRODUCT, *ADDONS, USAGE_PRODUCT)
    per_seat = (kind == K_TRIAL) | (kind == K_CORE) | (kind == K_SEATS)
    plan_names = (*PLANS, "add_on", "metered")
    plan = np.where(per_seat, ln["plan"], np.where(kind == K_USAGE, len(PLANS) + 1, len(PLANS)))
    model = np.where(per_seat, 1, np.where(kind == K_USAGE, 2, 0))
    cur = book.currency_codes[acct] if len(acct) else np.zeros(0, object)
    # a cancellation requested before each credible save, on the line later renewed
    cancel = ln["cancel"].copy()
    planted = plan_of(book)
    cancel[planted.cancel_line] = planted.cancel_day
    return pa.table(
        {
            "account_id": aid,
            "subscription_id": sub,
            "line_id": pa.array(line_no).cast(pa.string()),
            "product": _pick(product_names, ln["product"]),
            "plan": _pick(plan_names, plan),
            "start_date": _date(ln["start"]),
            "end_date": _date(ln["end"]),
            "mrr": _money(ln["mrr"], kind == K_USAGE),
            "amount": _money(ln["amount"], kind == K_ADDON),
            "unit_price": _money(ln["unit"], per_seat),
            "quantity": _decimal(ln["qty"] * 10_000, _MONEY, per_seat),
            "billing_period_months": _decimal(ln["bp"] * 10_000),
            "discount_percent": _decimal(ln["disc"] * 10_000, _MONEY, ln["disc"] > 0),
            "is_trial": pa.array(kind == K_TRIAL),
            "currency": pa.array(cur, pa.string()),
            "pricing_model": _pick(("flat", "per_seat", "usage"), model),
            "contract_end_date": _date(ln["ce"]),
            "cancel_requested_at": _date(cancel),
        }
    )


def fx_rates_table(book: Book, rng: np.random.Generator) -> pa.Table:
    fx = book.fx
    dates = [d for d, _ in fx.values()]
    rates = [r for _, r in fx.values()]
    cur = [np.full(len(d), c, object) for c, (d, _) in fx.items()]

    def cat(parts: list[np.ndarray], dt_: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dt_)

    return pa.table(
        {
            "date": _date(cat(dates, np.int64)),
            "currency": pa.array(cat(cur, object), pa.string()),
            "rate_to_reporting": _decimal(cat(rates, np.int64) * 100, _RATE),
        }
    )


def account_history_table(book: Book, rng: np.random.Generator) -> pa.Table:
    """Segment upgrades and industry reclassifications, each account's first value from created_at."""
    up, ic = book.upgrades, book.industry_changes
    first = np.unique(up["acct"])
    # segment: the value at signup from created_at, then each upgrade
    acct = np.r_[first, up["acct"], ic["acct"], ic["acct"]]
    attr = np.r_[np.zeros(len(first) + len(up["acct"]), np.int64), np.ones(2 * len(ic["acct"]), np.int64)]
    seg_values = np.r_[book.segment[first], up["segment"]]
    ind_values = len(SEGMENTS) + np.r_[ic["old"], ic["new"]]
    value = np.r_[seg_values, ind_values]
    day = np.r_[book.created[first], up["day"], book.created[ic["acct"]], ic["day"]]
    o = np.lexsort((day, attr, acct))
    return pa.table(
        {
            "account_id": book.ids_of(acct[o]),
            "attribute": _pick(("segment", "industry"), attr[o]),
            "value": _pick((*SEGMENTS, *INDUSTRIES), value[o]),
            "valid_from": _date(day[o]),
        }
    )


def invoices_table(book: Book, rng: np.random.Generator) -> pa.Table:
    """Invoice lines of a few accounts: one per billing period of each paid line, billed in advance."""
    cfg, ln, as_of = book.config, book.lines, book.as_of
    payers = np.flatnonzero(book.paid_start != NULL)
    k = max(1, round(cfg.invoice_share * len(payers))) if len(payers) else 0
    chosen = np.zeros(book.n, bool)
    chosen[rng.choice(payers, size=min(k, len(payers)), replace=False)] = True
    sel = np.flatnonzero(chosen[ln["acct"]] & (ln["kind"] != K_TRIAL))
    start, end, bp = ln["start"][sel], ln["end"][sel], ln["bp"][sel]
    stop = np.where(end == NULL, as_of + 1, np.minimum(end, as_of + 1))  # first day not billed
    m_s, dom = _month_of(start), _dom_of(start)
    n_per = (_month_of(stop) - m_s) // bp + 2
    rep = np.repeat(np.arange(len(sel)), n_per)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(n_per) - n_per, n_per)
    ps = _day_of(m_s[rep] + j * bp[rep], dom[rep])
    pe = _day_of(m_s[rep] + (j + 1) * bp[rep], dom[rep])
    keep = ps < stop[rep]
    rep, ps, pe = rep[keep], ps[keep], pe[keep]
    line = sel[rep]
    actual = np.where(end[rep] == NULL, pe, np.minimum(pe, end[rep]))
    kind = ln["kind"][line]
    full = np.where(
        kind == K_USAGE,
        ln["mrr"][line],
        np.where(kind == K_ADDON, ln["amount"][line], ln["unit"][line] * ln["qty"][line]),
    ).astype(float)
    full = full * (100 - ln["disc"][line]) / 100
    amount = np.round(full * (actual - ps) / (pe - ps)).astype(np.int64)
    inv_day, s_start, s_end = ps.copy(), ps.copy(), actual - 1
    acct = ln["acct"][line]
    # credits: a few negative lines on a billed period, one of them without a service period
    nc = min(cfg.invoice_credits, len(line))
    if nc:
        c = rng.choice(len(line), size=nc, replace=False)
        c_day = np.minimum(ps[c] + rng.integers(5, 21, nc), as_of)
        c_amt = -np.round(np.abs(amount[c]) * rng.uniform(0.1, 0.5, nc)).astype(np.int64)
        c_start, c_end = ps[c].copy(), s_end[c].copy()
        c_start[0], c_end[0] = NULL, NULL
        line, acct = np.r_[line, line[c]], np.r_[acct, acct[c]]
        inv_day, s_start, s_end = np.r_[inv_day, c_day], np.r_[s_start, c_start], np.r_[s_end, c_end]
        amount = np.r_[amount, c_amt]
    o = np.lexsort((line, inv_day, acct))
    line, acct, inv_day, s_start, s_end, amount = (x[o] for x in (line, acct, inv_day, s_start, s_end, amount))
    key = acct * 100_000 + inv_day
    new = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    inv_no = np.cumsum(new)
    pos = np.arange(len(key))
    line_no = pos - np.maximum.accumulate(np.where(new, pos, 0)) + 1
    products = (CORE_PRODUCT, *ADDONS, USAGE_PRODUCT)
    plan_names = (*PLANS, "add_on", "metered")
    lk = ln["kind"][line]
    per_seat = (lk == K_CORE) | (lk == K_SEATS)
    plan = np.where(per_seat, ln["plan"][line], np.where(lk == K_USAGE, len(PLANS) + 1, len(PLANS)))
    return pa.table(
        {
            "account_id": book.ids_of(acct),
            "invoice_id": _ids("INV-", inv_no, 7),
            "line_id": pa.array(line_no).cast(pa.string()),
            "invoice_date": _date(inv_day),
            "service_start": _date(s_start),
            "service_end": _date(s_end),
            "amount": _money(amount),
            "currency": pa.array(book.currency_codes[acct] if len(acct) else [], pa.string()),
            "product": _pick(products, ln["product"][line]),
            "plan": _pick(plan_names, plan),
        }
    )


def _industry_now(book: Book) -> np.ndarray:
    now = book.industry.copy()
    ch = book.industry_changes
    if ch:
        now[ch["acct"]] = ch["new"]
    return now
