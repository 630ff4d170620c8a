# ruff: noqa: E501  (the exports are written as Stripe writes them, one row per line)
"""Stripe's dashboard exports (subscriptions, invoices) loaded through a named mapping: the worked
example of docs/connectors.md, "Stripe's CSV exports"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from revbook import Config, Workspace
from revbook.config import load_config
from revbook.errors import ConfigError, SourceError
from support import write

SUBSCRIPTIONS = """id,Customer ID,Customer Description,Customer Email,Plan,Product,Quantity,Interval,Amount,Currency,Status,Created (UTC),Start Date (UTC),Trial Start (UTC),Trial End (UTC),Coupon,Canceled At (UTC),Cancel At Period End,Ended At (UTC)
sub_A,cus_A,Acme,a@example.com,seat,prod_core,2,month,100.00,usd,active,2026-01-10 09:30,2026-01-10 09:30,,,SAVE20,,false,
sub_B,cus_B,Beta,b@example.com,annual,prod_core,1,year,1200.00,usd,active,2026-02-01 00:00,2026-02-01 00:00,2026-02-01 00:00,2026-02-15 00:00,,,false,
sub_C,cus_C,Gamma,c@example.com,basic,prod_core,1,month,50.00,usd,canceled,2026-01-01 00:00,2026-01-01 00:00,,,,2026-03-20 14:02,true,2026-04-01 00:00
sub_D,cus_D,Delta GmbH,d@example.com,eu,prod_core,1,month,80.00,eur,active,2026-03-01 00:00,2026-03-01 00:00,,,,,false,
sub_E,cus_E,Epsilon,e@example.com,basic,prod_core,1,month,50.00,usd,incomplete_expired,2026-03-03 00:00,2026-03-03 00:00,,,,,false,
"""
INVOICES = """id,Number,Customer,Customer Name,Date (UTC),Period Start (UTC),Period End (UTC),Subtotal,Discount,Tax,Total,Amount Paid,Currency,Status
in_1,A-0001,cus_A,Acme,2026-01-10 09:30,2026-01-10 09:30,2026-02-10 09:30,200.00,40.00,,160.00,160.00,usd,paid
in_3,C-0002,cus_C,Gamma,2026-02-01 00:00,2026-02-01 00:00,2026-03-01 00:00,50.00,,5.00,55.00,55.00,usd,paid
in_4,A-0002,cus_A,Acme,2026-02-10 09:30,2026-02-10 09:30,2026-03-10 09:30,200.00,40.00,,160.00,0.00,usd,draft
in_9,D-0001,cus_D,Delta GmbH,2026-03-01 00:00,2026-03-01 00:00,2026-03-01 00:00,50.00,,,50.00,50.00,eur,paid
"""


@pytest.fixture
def exports(tmp_path):
    write(
        tmp_path / "accounts.csv",
        "account_id,name\ncus_A,Acme\ncus_B,Beta\ncus_C,Gamma\ncus_D,Delta GmbH\ncus_E,Epsilon\n",
    )
    write(tmp_path / "subscriptions.csv", SUBSCRIPTIONS)
    write(tmp_path / "invoices.csv", INVOICES)
    write(tmp_path / "fx.csv", "date,currency,rate_to_reporting\n2026-01-01,EUR,1.10\n")
    toml = write(
        tmp_path / "revbook.toml",
        '[workspace]\nas_of = "2026-06-30"\n'
        '[sources.accounts]\npath = "accounts.csv"\n[sources.fx_rates]\npath = "fx.csv"\n'
        '[sources.subscriptions]\npath = "subscriptions.csv"\npreset = "stripe_subscriptions_export"\n'
        '[sources.invoices]\npath = "invoices.csv"\npreset = "stripe_invoices_export"\n',
    )
    return toml


def test_stripe_exports_load_through_their_presets(exports):
    cfg = load_config(exports)
    with Workspace(cfg.workspace, config=cfg) as ws:
        results = {r.table: r for r in ws.load()}
        subs = {r["subscription_id"]: r for r in ws.table("subscriptions").to_polars().to_dicts()}
        invoices = {r["invoice_id"]: r for r in ws.table("invoices").to_polars().to_dicts()}
        june = ws.mrr(start="2026-06-01", end="2026-06-30").to_polars().to_dicts()[-1]
        loaded_from = ws.con.execute("SELECT DISTINCT _file FROM subscriptions").fetchall()
    assert set(subs) == {"sub_A", "sub_B", "sub_C", "sub_D"}  # sub_E never started
    assert subs["sub_B"]["start_date"] == dt.date(2026, 2, 15)  # paid from the trial's end
    assert (subs["sub_C"]["end_date"], subs["sub_C"]["cancel_requested_at"]) == (
        dt.date(2026, 4, 1),
        dt.date(2026, 3, 20),
    )
    assert subs["sub_B"]["billing_period_months"] == 12 and subs["sub_D"]["currency"] == "EUR"
    # June: Acme 2 x 100 (the export names SAVE20 but not its value) + Beta 1,200 / 12 + Delta 80 x 1.10
    assert june["mrr"] == Decimal("388.00")
    # invoices: the total less tax; the period end made inclusive; a draft is not billed
    assert invoices["in_3"]["amount"] == Decimal("50.00") and invoices["in_3"]["service_end"] == dt.date(2026, 2, 28)
    assert invoices["in_1"]["amount"] == Decimal("160.00") and "in_4" not in invoices
    assert invoices["in_9"]["service_start"] is None  # a one-time charge
    sub_warnings = " ".join(w.message for w in results["subscriptions"].warnings)
    assert "1 rows never started" in sub_warnings and "coupon but not its value" in sub_warnings
    assert "draft or void" in " ".join(w.message for w in results["invoices"].warnings)
    assert loaded_from == [(str(exports.parent / "subscriptions.csv"),)]  # the user's file, not the rewrite


def test_an_export_that_is_not_the_presets_is_named(tmp_path, exports):
    write(exports.parent / "subscriptions.csv", "account_id,mrr\nA,10\n")
    cfg = load_config(exports)
    with Workspace(cfg.workspace, config=cfg) as ws, pytest.raises(SourceError, match="no column 'Customer ID'"):
        ws.load()


def test_an_export_interval_other_than_month_or_year_is_refused(tmp_path, exports):
    weekly = SUBSCRIPTIONS.replace("2,month,100.00", "2,week,100.00")
    write(exports.parent / "subscriptions.csv", weekly)
    cfg = load_config(exports)
    with Workspace(cfg.workspace, config=cfg) as ws, pytest.raises(SourceError, match=r"subscriptions\.csv") as err:
        ws.load()
    assert "row 1" in str(err.value)


def test_a_preset_fits_its_table_only(tmp_path):
    toml = write(
        tmp_path / "revbook.toml", '[sources.invoices]\npath = "i.csv"\npreset = "stripe_subscriptions_export"\n'
    )
    with pytest.raises(ConfigError, match="not a mapping of invoices"):
        load_config(toml)
    assert Config().sources == {}


PAYMENTS = """id,Number,Customer,Date (UTC),Due Date (UTC),Period Start (UTC),Period End (UTC),Tax,Total,Amount Paid,Currency,Status,Paid At (UTC)
in_1,A-0001,cus_A,2026-01-10 09:30,,2026-01-10 09:30,2026-02-10 09:30,,160.00,160.00,usd,paid,2026-01-10 09:31
in_2,A-0002,cus_A,2026-02-10 09:30,2026-02-20 00:00,2026-02-10 09:30,2026-03-10 09:30,,160.00,0.00,usd,open,
in_3,C-0002,cus_C,2026-02-01 00:00,,2026-02-01 00:00,2026-03-01 00:00,5.00,55.00,55.00,usd,paid,
in_5,D-0001,cus_D,2026-03-01 00:00,2026-03-15 00:00,2026-03-01 00:00,2026-04-01 00:00,,80.00,80.00,eur,paid,2026-04-02 10:00
"""


def test_an_invoices_export_gives_the_due_and_paid_dates_past_due_churn_reads(exports):
    """in_1: charged automatically, due on its date, paid then; in_2: sent for payment, due Feb 20 and
    still open; in_3: paid, no Paid At: paid on its date; in_5: due Mar 15, paid Apr 2 (18 days late).
    With past_due_churn_after_days = 20, Acme (in_2) churns on Mar 12 and Delta, paid within 20 days,
    does not."""
    write(exports.parent / "invoices.csv", PAYMENTS)
    toml = exports.read_text().replace('as_of = "2026-06-30"', 'as_of = "2026-06-30"\npast_due_churn_after_days = 20')
    write(exports, toml)
    cfg = load_config(exports)
    with Workspace(cfg.workspace, config=cfg) as ws:
        ws.load()
        got = {r["invoice_id"]: (r["due_date"], r["paid_date"]) for r in ws.table("invoices").to_polars().to_dicts()}
        moves = ws.account_movements().to_polars()
        acme = moves.filter(account_id="cus_A").to_dicts()
        delta = moves.filter(account_id="cus_D").to_dicts()
    day = dt.date
    assert got == {
        "in_1": (day(2026, 1, 10), day(2026, 1, 10)),
        "in_2": (day(2026, 2, 20), None),
        "in_3": (day(2026, 2, 1), day(2026, 2, 1)),
        "in_5": (day(2026, 3, 15), day(2026, 4, 2)),
    }
    churned = [(r["period"], r["movement"]) for r in acme if r["movement"] == "churn"]
    assert churned == [("2026-03", "churn")], acme
    assert delta and not [r for r in delta if r["movement"] == "churn"]


def test_an_invoices_export_without_a_payment_column_has_no_due_dates(exports):
    bare = "\n".join(",".join(line.split(",")[:-1]) for line in INVOICES.splitlines()) + "\n"  # no Status
    write(exports.parent / "invoices.csv", bare)
    cfg = load_config(exports)
    with Workspace(cfg.workspace, config=cfg) as ws:
        ws.load()
        rows = ws.table("invoices").to_polars().to_dicts()
    assert len(rows) == 4 and all(r["due_date"] is None and r["paid_date"] is None for r in rows)
