"""The Stripe connector against a local server speaking Stripe's documented object shapes (no network):
the mapping of each object, the same metrics as the same company written as files, paging, resume
after an interrupted run, incremental sync, rate limits, permissions, and the key never shown."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from stripe_company import ANY_PATH, FILES, KEY, FakeStripe, company, ts
from typer.testing import CliRunner

from revbook import Config, Workspace
from revbook.cli import app
from revbook.config import StripeSettings, load_config
from revbook.errors import ConfigError, SourceError
from revbook.sources.connectors import connector
from revbook.sources.stripe import KEY_ENV, OBJECTS, STATE, StripeConnector, api_key
from revbook.sources.stripe_map import map_objects

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def fake(httpserver):
    server = FakeStripe(company())
    httpserver.expect_request(ANY_PATH).respond_with_handler(server)
    return server


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    return KEY


def _config(tmp_path: Path, httpserver, *, retries: int = 0, page_size: int = 2, name: str = "s") -> Config:
    settings = StripeSettings(
        api_base=httpserver.url_for("").rstrip("/"), max_network_retries=retries, page_size=page_size
    )
    return Config(workspace=tmp_path / f"{name}.duckdb", as_of=AS_OF, stripe=settings)


def _workspace(tmp_path: Path, cfg: Config) -> Workspace:
    """A workspace with the company's EUR rate loaded from a file (Stripe has no FX rates)."""
    ws = Workspace(cfg.workspace, config=cfg)
    ws.load({"fx_rates": _files(tmp_path)["fx_rates"]})
    return ws


def _files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return {name.removesuffix(".csv"): folder / name for name in FILES}


def _sorted(frame, keys):
    return frame.to_polars().sort(keys).to_dicts()


def test_each_object_maps_as_the_docs_say():
    mapped = map_objects(company())
    lines = {r["line_id"]: r for r in mapped.subscriptions}
    # a 3-month 20% coupon splits the line at the discount's end: the coupon's expiry is expansion
    assert (lines["si_A1.1"]["discount_percent"], lines["si_A1.1"]["end_date"]) == (20, dt.date(2026, 4, 10))
    assert lines["si_A1.2"]["discount_percent"] is None and lines["si_A1.2"]["end_date"] is None
    assert lines["si_A1.1"]["unit_price"] * lines["si_A1.1"]["quantity"] == Decimal("200.00")
    # the trial is its own line, is_trial, up to trial_end; the yearly price is 12 months
    assert lines["si_B1.1"]["is_trial"] and lines["si_B1.1"]["end_date"] == dt.date(2026, 2, 15)
    assert not lines["si_B1.2"]["is_trial"] and lines["si_B1.2"]["billing_period_months"] == 12
    # a cancellation: the service ends at ended_at; canceled_at is when it was asked for
    assert (lines["si_C1"]["end_date"], lines["si_C1"]["cancel_requested_at"]) == (
        dt.date(2026, 4, 1),
        dt.date(2026, 3, 20),
    )
    # an amount off the subscription goes on its largest line; a later item starts when it was added
    assert lines["si_D1"]["discount_amount"] == Decimal("10.00") and lines["si_D1"]["currency"] == "EUR"
    assert lines["si_D2"]["start_date"] == dt.date(2026, 5, 1) and lines["si_D2"]["discount_amount"] is None
    rows = {r["line_id"]: r for r in mapped.invoices}
    assert rows["il_1a"]["amount"] == Decimal("160.00")  # after its discount, before tax
    assert rows["il_3a"]["amount"] == Decimal("50.00") and rows["il_3a"]["service_end"] == dt.date(2026, 2, 28)
    assert rows["il_5b"]["service_start"] is None  # a one-time charge has no service period
    assert (rows["cnli_1"]["amount"], rows["cnli_1"]["service_start"]) == (Decimal("-25.00"), dt.date(2026, 2, 1))
    assert "in_4" not in {r["invoice_id"] for r in mapped.invoices}
    text = "\n".join(mapped.warnings)
    assert "sub_E is incomplete_expired" in text and "1 draft invoice not loaded" in text


def test_the_company_through_stripe_gives_the_metrics_of_the_same_company_as_files(tmp_path, httpserver, fake, key):
    files = _files(tmp_path)
    with Workspace(tmp_path / "f.duckdb", config=Config(as_of=AS_OF)) as by_files:
        by_files.load(files)
        by_files_movements = _sorted(by_files.movements(), ["period"])
        by_files_retention = _sorted(by_files.retention(), ["period", "window_months"])
        by_files_tables = {
            t: _sorted(by_files.table(t), list(by_files.table(t).to_polars().columns))
            for t in ("accounts", "subscriptions", "invoices")
        }
    cfg = _config(tmp_path, httpserver)
    with _workspace(tmp_path, cfg) as ws:
        done = connector("stripe", cfg).sync(ws)
        assert done.rows == {"accounts": 5, "subscriptions": 7, "invoices": 6}
        assert any("sub_E" in w for w in done.warnings)
        for t in ("accounts", "subscriptions", "invoices"):
            assert _sorted(ws.table(t), list(ws.table(t).to_polars().columns)) == by_files_tables[t], t
        movements = _sorted(ws.movements(), ["period"])
        assert movements == by_files_movements
        assert _sorted(ws.retention(), ["period", "window_months"]) == by_files_retention
    april = next(m for m in movements if str(m["period"]).startswith("2026-04"))
    # April: Acme's coupon expires (+40.00) and Gamma's cancellation ends its service (-50.00)
    assert (april["expansion_mrr"], april["churn_mrr"]) == (Decimal("40.00"), Decimal("50.00"))
    # by hand: Acme 160 + Gamma 50; + Beta 1,200 / 12 after its trial; + Delta (80 - 10) x 1.10 EUR;
    # +40 - 50 in April; + Delta's add-on 3 x 20 x 1.10 in May
    assert [m["end_mrr"] for m in movements] == [Decimal(v) for v in ("210", "310", "387", "377", "443", "443")]


def test_an_interrupted_sync_resumes_from_the_last_committed_page(tmp_path, httpserver, fake, key):
    cfg = _config(tmp_path, httpserver)
    fake.fail["invoices"] = 1  # the first page of invoices is served, the second fails
    with _workspace(tmp_path, cfg) as ws:
        with pytest.raises(SourceError, match="Stripe answered 500"):
            StripeConnector(cfg).sync(ws)
        kept = ws.con.execute(f"SELECT count(*) FROM {OBJECTS} WHERE kind = 'invoices'").fetchone()[0]
        after = ws.con.execute(f"SELECT after FROM {STATE} WHERE kind = 'invoices'").fetchone()[0]
        assert kept == 2 and after is not None
        assert ws.row_counts()["subscriptions"] == 0  # nothing loaded by the failed run
        fake.fail.clear()
        fake.requests.clear()
        done = StripeConnector(cfg).sync(ws)
    invoice_calls = [args for path, args in fake.requests if path == "invoices"]
    assert invoice_calls[0].get("starting_after") == after  # resumed, not started again
    assert done.rows["invoices"] == 6
    assert [p for p, _ in fake.requests].count("customers") == 1  # finished kinds read only what is new


def test_a_second_run_reads_what_is_new_and_what_changed(tmp_path, httpserver, fake, key):
    cfg = _config(tmp_path, httpserver)
    fake.data["events"] = [
        {
            "id": "evt_0",
            "object": "event",
            "created": ts("2026-05-05"),
            "type": "invoice.paid",
            "data": {"object": {"id": "in_5", "object": "invoice"}},
        }
    ]
    now = lambda: ts("2026-05-25")  # noqa: E731
    with _workspace(tmp_path, cfg) as ws:
        StripeConnector(cfg, now=now).sync(ws)
        # Beta cancels at once after the first run; a new invoice arrives
        beta = next(s for s in fake.data["subscriptions"] if s["id"] == "sub_B")
        beta.update(status="canceled", canceled_at=ts("2026-05-10"), ended_at=ts("2026-05-10"))
        fake.data["events"].append(
            {
                "id": "evt_1",
                "object": "event",
                "created": ts("2026-05-10"),
                "type": "customer.subscription.deleted",
                "data": {"object": dict(beta)},
            }
        )
        new = dict(fake.data["invoices"][1], id="in_6", created=ts("2026-05-20"), effective_at=ts("2026-05-20"))
        new["lines"] = {"object": "list", "has_more": False, "data": [dict(new["lines"]["data"][0], id="il_6a")]}
        fake.data["invoices"].append(new)
        fake.requests.clear()
        done = StripeConnector(cfg, now=now).sync(ws)
        lines = {r["line_id"]: r for r in ws.table("subscriptions").to_polars().to_dicts()}
    assert lines["si_B1.2"]["end_date"] == dt.date(2026, 5, 10)
    assert done.rows["invoices"] == 7
    listed = {p: a for p, a in fake.requests if "/" not in p}
    assert listed["invoices"]["created[gte]"] == str(ts("2026-03-01"))  # from the cursor, not from the start
    assert listed["events"]["created[gte]"] == str(ts("2026-05-05"))
    assert ("subscriptions/sub_B", {"expand[0]": "discounts", "expand[1]": "items.data.discounts"}) in fake.requests


def test_a_cursor_older_than_the_events_stripe_keeps_is_a_warning(tmp_path, httpserver, fake, key):
    cfg = _config(tmp_path, httpserver)
    with _workspace(tmp_path, cfg) as ws:
        StripeConnector(cfg).sync(ws)  # no events yet: the cursor is now
        done = StripeConnector(cfg, now=lambda: ts("2030-01-01")).sync(ws)
    assert any("more than 30 days old" in w and "--full" in w for w in done.warnings)


def test_an_invoice_with_more_lines_than_stripe_embeds_is_read_whole(tmp_path, httpserver, fake, key):
    invoice = next(i for i in fake.data["invoices"] if i["id"] == "in_5")
    extra = dict(invoice["lines"]["data"][1], id="il_5c", amount=700)
    fake.full_lines["in_5"] = [*invoice["lines"]["data"], extra]
    invoice["lines"]["has_more"] = True
    cfg = _config(tmp_path, httpserver)
    with _workspace(tmp_path, cfg) as ws:
        done = StripeConnector(cfg).sync(ws)
        amounts = dict(ws.con.execute("SELECT line_id, amount FROM invoices WHERE invoice_id = 'in_5'").fetchall())
    assert amounts == {"il_5a": Decimal("70.00"), "il_5b": Decimal("50.00"), "il_5c": Decimal("7.00")}
    assert done.rows["invoices"] == 7
    assert ("invoices/in_5/lines", {"limit": "100", "starting_after": "il_5b"}) in fake.requests


def test_rate_limits_are_retried_with_backoff(tmp_path, httpserver, fake, key):
    slept: list[float] = []
    cfg = _config(tmp_path, httpserver, retries=3)
    fake.rate_limited = 2
    with _workspace(tmp_path, cfg) as ws:
        StripeConnector(cfg, sleep=slept.append).sync(ws)
    assert slept == [0.5, 1.0]
    fake.rate_limited = 10
    with (
        _workspace(tmp_path, cfg.with_(workspace=tmp_path / "r.duckdb")) as ws,
        pytest.raises(SourceError, match="rate limit"),
    ):
        StripeConnector(cfg, sleep=slept.append).sync(ws)


def test_check_reports_a_kind_the_key_cannot_read(tmp_path, httpserver, fake, key):
    fake.forbidden.add("credit_notes")
    seen = {s.objects: s for s in StripeConnector(_config(tmp_path, httpserver)).check()}
    assert seen["customers"].readable and seen["invoices"].readable
    assert not seen["credit_notes"].readable and "permission_error" in seen["credit_notes"].detail
    assert "restricted test-mode key" in seen["key"].detail


def test_a_key_that_cannot_read_events_still_loads_with_a_warning(tmp_path, httpserver, fake, key):
    fake.forbidden.add("events")
    cfg = _config(tmp_path, httpserver)
    with _workspace(tmp_path, cfg) as ws:
        first = StripeConnector(cfg).sync(ws)
        second = StripeConnector(cfg).sync(ws)
    assert first.rows["subscriptions"] == 7
    for done in (first, second):
        assert any("cannot read events" in w and "--full" in w for w in done.warnings)


def test_connect_check_and_sync_from_the_cli_never_show_the_key(tmp_path, httpserver, fake, key, caplog):
    caplog.set_level(logging.DEBUG)
    toml = tmp_path / "revbook.toml"
    toml.write_text(
        f'[workspace]\npath = "w.duckdb"\nas_of = "{AS_OF}"\n[stripe]\napi_base = "{httpserver.url_for("")}"\n'
        "page_size = 2\nmax_network_retries = 0\n",
        encoding="utf-8",
    )
    assert load_config(toml).stripe.page_size == 2
    fake.forbidden.add("credit_notes")
    runner = CliRunner()
    checked = runner.invoke(app, ["connect", "stripe", "--check", "--config", str(toml)])
    assert checked.exit_code == 0, checked.output
    assert "credit_notes" in checked.output and "from credentials to the first report" in checked.output
    failed = runner.invoke(app, ["connect", "stripe", "--config", str(toml)])  # the 403 names the key in full
    assert failed.exit_code == 2 and "cannot read credit notes" in failed.output
    fake.forbidden.clear()
    fx = _files(tmp_path)["fx_rates"]
    loaded = runner.invoke(app, ["load", f"fx_rates={fx}", "--config", str(toml)])
    assert loaded.exit_code == 0, loaded.output
    synced = runner.invoke(app, ["connect", "stripe", "--config", str(toml)])
    texts = [checked.output, failed.output, synced.output, caplog.text]
    assert f"Bearer {KEY}" in fake.auth  # the key was sent ...
    for text in texts:  # ... and appears nowhere else
        assert KEY not in text and KEY[8:] not in text
    assert KEY.encode() not in (tmp_path / "w.duckdb").read_bytes()
    assert synced.exit_code == 0, synced.output
    assert "loaded from stripe" in synced.output and "from credentials to the first figures" in synced.output


def test_a_revoked_key_is_a_clear_error_that_does_not_show_it(tmp_path, httpserver, fake, key):
    fake.revoked = True
    cfg = _config(tmp_path, httpserver)
    for attempt in (lambda: StripeConnector(cfg).check(), lambda: StripeConnector(cfg).sync(_workspace(tmp_path, cfg))):
        with pytest.raises(ConfigError, match="Stripe refused the key") as err:
            attempt()
        assert KEY not in str(err.value) and KEY[8:] not in str(err.value)


def test_a_key_of_the_wrong_shape_is_refused_without_being_shown(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "pk_test_notasecret1234567")
    with pytest.raises(ConfigError, match="not a secret") as err:
        api_key()
    assert "notasecret" not in str(err.value)
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ConfigError, match="STRIPE_API_KEY is not set"):
        api_key()


def test_a_column_mapping_of_a_table_stripe_loads_is_refused(tmp_path, httpserver, fake, key):
    from revbook.config import SourceConfig

    cfg = _config(tmp_path, httpserver)
    mapped = SourceConfig(table="subscriptions", paths=(), columns={"account_id": "Customer ID"})
    cfg = cfg.with_(sources={"subscriptions": mapped})
    with (
        _workspace(tmp_path, cfg) as ws,
        pytest.raises(ConfigError, match=r"maps the columns of \[sources.subscriptions\]"),
    ):
        StripeConnector(cfg).sync(ws)
    assert fake.requests == []  # refused before anything was read


def test_stripe_settings_are_checked():
    with pytest.raises(ConfigError, match="page_size must be 1 to 100"):
        StripeSettings.from_mapping({"page_size": 500})
    with pytest.raises(ConfigError, match="unknown key 'api_key'"):
        StripeSettings.from_mapping({"api_key": "sk_test_x"})
