"""The Reconcile page over the worked example of docs/reconciliation.md (one planted difference of
each cause): the library's figures, the accounts behind each cause, a validated month filter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from revbook import Config, Workspace
from support import get, text_of
from test_reconcile_causes import _company

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

CONFIG = Config(as_of=dt.date(2024, 3, 31), churn_recognition="cancellation", mrr_price="list")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("recweb") / "r.duckdb"
    with Workspace(path, config=CONFIG) as ws:
        ws.load_frames(_company())
    return web.create_app(path, config=CONFIG, token="")


def test_the_page_shows_the_latest_month_split_by_cause_with_its_accounts(app: Any) -> None:
    r = get(app, "/reconcile")
    assert r.status_code == 200
    page = text_of(r.text)
    assert "revbook MRR 480" in page and "invoiced 980" in page and "difference -500" in page
    for cause, account in [("timing", "T"), ("churn timing", "C"), ("one time", "O"), ("not invoiced", "N")]:
        assert f"{cause} " in page
        assert f'href="/accounts/{account}"' in r.text
    assert "unexplained 0" in page
    assert "CRM's ARR field" not in page  # no CRM ARR read in this workspace


def test_a_month_is_chosen_and_validated(app: Any) -> None:
    page = text_of(get(app, "/reconcile", params={"month": "2024-01"}).text)
    assert "2024-01 the accounts behind each cause" in page
    assert get(app, "/reconcile", params={"month": "2023-01"}).status_code == 404
    assert get(app, "/reconcile", params={"month": "soon"}).status_code == 400


def test_a_workspace_without_invoices_is_told_what_to_load(tmp_path: Path) -> None:
    path = tmp_path / "n.duckdb"
    with Workspace(path, config=CONFIG) as ws:
        ws.load_frames({k: v for k, v in _company().items() if k != "invoices"})
    r = get(web.create_app(path, config=CONFIG, token=""), "/reconcile")
    assert r.status_code == 200
    assert "needs subscriptions and invoices" in text_of(r.text)


def test_the_crm_arr_field_is_shown_beside_revbooks_arr_even_without_invoices(tmp_path: Path) -> None:
    """The CRM worked example of docs/reconciliation.md (no invoices): the invoice table says what to
    load, the CRM section shows March 15 split by cause with the account behind each."""
    from test_reconcile_crm import _company as crm_company

    config = Config(as_of=dt.date(2024, 3, 31))
    path = tmp_path / "c.duckdb"
    with Workspace(path, config=config) as ws:
        ws.load_frames(crm_company())
    r = get(web.create_app(path, config=config, token=""), "/reconcile")
    assert r.status_code == 200
    page = text_of(r.text)
    assert "needs subscriptions and invoices" in page
    assert "Against the CRM's ARR field" in page and "2024-03-15 the accounts behind each cause" in page
    assert "revbook ARR 5,400" in page and "CRM ARR 9,900" in page and "difference -4,500" in page
    for cause, account in [("churned", "C"), ("not in revbook", "P"), ("trials", "T"), ("fx", "X")]:
        assert f"{cause} " in page
        assert f'href="/accounts/{account}"' in r.text
