"""The HubSpot connector against a local server speaking HubSpot's CRM v3 object shapes (no network):
the fixture company loads into the same tables, and the same attribution, as its files; custom field
mapping; paging by ``after``; a missing scope; the token never appears anywhere."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from crm_company import AS_OF, billing, crm_files, rows
from typer.testing import CliRunner
from werkzeug import Request, Response

from revbook import Config, Workspace
from revbook.cli import app
from revbook.config.crm import HubspotSettings
from revbook.errors import ConfigError, RevbookError
from revbook.impact.attribution import expansions
from revbook.sources.connectors import connector
from revbook.sources.crm_map import CRM_TABLES
from revbook.sources.hubspot import HOST_ENV, TOKEN_ENV, HubspotConnector

TOKEN = "pat-na1-5ec2e7-d0n7-l34k-7h15-t0k3n"
IDS = {"ada": "1", "bo": "2", "cy": "3", "o901": "901", "o902": "902", "o904": "904"}
IDS |= {"won": "closedwon", "open": "contractsent"}
SETTINGS = {
    "fields": {"segment": "customer_tier__c", "region": "region__c", "deal_source": "deal_source__c"},
    "owner_roles": {"Customer Success": "csm", "Sales": "ae"},
    "deal_sources": {"Partner": "ae"},
    "default_role": "",
}
STAMP = {"createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-12-01T00:00:00.000Z", "archived": False}


def _history(*changes: tuple[str, str]) -> list[dict]:
    """A property's history as HubSpot lists it: newest first."""
    return [{"value": v, "timestamp": t, "sourceType": "CRM_UI", "sourceId": "userId:77"} for t, v in reversed(changes)]


def _company(cid, name, tier, region, industry, created, parent="", owners=(), billing_id=None):
    props = {"name": name, "customer_tier__c": tier, "region__c": region, "industry": industry or None}
    props |= {"createdate": created, "hs_parent_company_id": parent or None, "hs_object_id": cid}
    if billing_id is not None:
        props["billing_id"] = billing_id
    return {"id": cid, "properties": props, "propertiesWithHistory": {"hubspot_owner_id": _history(*owners)}, **STAMP}


def _to(*companies: str) -> dict:
    return {"companies": {"results": [{"id": c, "type": f"x_to_company_{c}"} for c in companies]}}


COMPANIES = [
    _company("101", "Acme", "enterprise", "na", "Software", "2024-01-01T07:04:05.123Z",
             owners=[("2024-01-01T08:00:00.000Z", "1"), ("2024-07-01T09:30:00.000Z", "2")]),
    _company("102", "Brick", "mid_market", "emea", "Construction", "2024-01-20T10:00:00Z",
             owners=[("2024-01-20T10:00:00Z", "3"), ("2024-03-01T12:00:00Z", "2")]),
    # two changes on one day: the last one stands
    _company("103", "Cobalt", "smb", "na", "", "2024-03-01T08:59:59Z",
             owners=[("2024-03-01T09:00:00Z", "3"), ("2024-03-01T16:00:00Z", "1")]),
    _company("104", "Acme EU", "enterprise", "emea", "Software", "2024-01-25T00:00:00Z", parent="101",
             owners=[("2024-01-25T00:00:00Z", "4")]),
]  # fmt: skip
OWNERS = [
    {"id": "2", "email": "bo@example.com", "firstName": "Bo", "lastName": "Diddley", "userId": 12, "type": "PERSON",
     "teams": [{"id": "7", "name": "Customer Success", "primary": True}], **STAMP},
    {"id": "3", "email": "cy@example.com", "firstName": "Cy", "lastName": "Young", "userId": 13, "type": "PERSON",
     "teams": [{"id": "8", "name": "Sales", "primary": True}], **STAMP},
    {"id": "4", "email": "dee@example.com", "firstName": "Dee", "lastName": "Nobody", "userId": 14, "type": "PERSON",
     "teams": [], **STAMP},
]  # fmt: skip
ARCHIVED_OWNERS = [
    {"id": "1", "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "userId": 11, "type": "PERSON",
     "teams": [{"id": "7", "name": "Customer Success", "primary": True}], **STAMP, "archived": True},
]  # fmt: skip


def _deal(did, company, dealtype, amount, stage, created, close, closed, won, owner, source=None):
    props = {"dealname": f"deal {did}", "dealtype": dealtype, "amount": amount, "dealstage": stage}
    props |= {"createdate": created, "closedate": close, "hs_is_closed": closed, "hs_is_closed_won": won}
    props |= {"hubspot_owner_id": owner, "deal_source__c": source}
    return {"id": did, "properties": props, "associations": _to(company), **STAMP}


DEALS = [
    _deal("901", "101", "existingbusiness", "1200", "closedwon", "2024-05-01T10:00:00Z", "2024-06-20T17:00:00Z",
          "true", "true", "2", "CSM"),
    _deal("902", "102", "renewal", "12000.00", "closedwon", "2024-10-01T10:00:00Z", "2024-12-15T12:00:00Z",
          "true", "true", "2"),
    _deal("903", "103", "newbusiness", "2400", "closedwon", "2024-01-10T10:00:00Z", "2024-02-10T10:00:00Z",
          "true", "true", "3"),
    _deal("904", "103", "existingbusiness", "600", "contractsent", "2024-11-01T10:00:00Z", "2025-01-31T00:00:00Z",
          "false", "false", "3", "Partner"),
]  # fmt: skip


def _engagement(eid, company, **props):
    return {"id": eid, "properties": props, "associations": _to(company), **STAMP}


NOTES = [
    _engagement("n1", "101", hs_timestamp="2024-06-10T14:00:00Z", hubspot_owner_id="2",
                hs_note_body="<p>Great QBR &amp; they want <b>more seats</b></p>"),
    _engagement("n2", "102", hs_timestamp="2024-09-01T09:00:00Z", hubspot_owner_id="2",
                hs_note_body="Budget review: they are considering a cheaper competitor"),
    _engagement("n3", "103", hs_timestamp="2024-08-01T09:00:00Z", hubspot_owner_id="1", hs_note_body="Kick-off done"),
    _engagement("n4", "103", hs_timestamp="1722520800000", hubspot_owner_id="1",
                hs_note_body="<div>Asked about SSO</div>"),
]  # fmt: skip
MEETINGS = [_engagement("m1", "101", hs_timestamp="2024-06-05T15:00:00Z", hs_activity_type="QBR",
                        hs_meeting_outcome=None)]  # fmt: skip
CALLS = [_engagement("c1", "102", hs_timestamp="2024-09-02T11:00:00Z", hs_call_status="COMPLETED")]

MISSING_SCOPES = {
    "status": "error",
    "message": "This app hasn't been granted all required scopes to make this call.",
    "correlationId": "0f3b7a52-0000-4000-8000-000000000000",
    "errors": [
        {
            "message": "One or more of the following scopes are required.",
            "context": {"requiredGranularScopes": ["crm.objects.deals.read"]},
        }
    ],
    "category": "MISSING_SCOPES",
}


class FakeHubspot:
    """HubSpot's list endpoints, two results a page, cursor in ``after``; checks the bearer token."""

    def __init__(self, server, *, companies=COMPANIES, refuse=(), limited=0):
        self.limited = limited
        self.lists = {
            "/crm/v3/objects/companies": companies,
            "/crm/v3/objects/deals": DEALS,
            "/crm/v3/objects/notes": NOTES,
            "/crm/v3/objects/meetings": MEETINGS,
            "/crm/v3/objects/calls": CALLS,
        }
        self.refuse = set(refuse)
        self.requests: list[str] = []
        for path in [*self.lists, "/crm/v3/owners/"]:
            server.expect_request(path, method="GET").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        self.requests.append(request.full_path)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            body = {"status": "error", "message": "Authentication credentials not found.", "category": "INVALID_AUTH"}
            return Response(json.dumps(body), 401, content_type="application/json")
        if self.limited:
            self.limited -= 1
            return Response('{"status": "error", "category": "RATE_LIMITS"}', 429, headers={"Retry-After": "0"})
        if request.path in self.refuse:
            return Response(json.dumps(MISSING_SCOPES), 403, content_type="application/json")
        if request.path == "/crm/v3/owners/":
            items = ARCHIVED_OWNERS if (request.args.get("archived") or "").lower() == "true" else OWNERS
        else:
            items = self.lists[request.path]
        start = int(request.args.get("after") or 0)
        page = {"results": items[start : start + 2]}
        if start + 2 < len(items):
            page["paging"] = {"next": {"after": str(start + 2), "link": f"{request.base_url}?after={start + 2}"}}
        return Response(json.dumps(page), 200, content_type="application/json")


@pytest.fixture
def hubspot(httpserver, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(HOST_ENV, httpserver.url_for("").rstrip("/"))
    return FakeHubspot(httpserver)


def _config(folder: Path, **settings) -> Config:
    hubspot = HubspotSettings.from_mapping(settings or SETTINGS)
    return Config(workspace=folder / "w.duckdb", as_of=AS_OF, hubspot=hubspot)


def test_the_company_loads_as_its_files_do(hubspot, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with Workspace(tmp_path / "files.duckdb", config=_config(tmp_path)) as by_files:
        by_files.load({"subscriptions": billing(tmp_path / "billing"), **crm_files(tmp_path / "crm", IDS)})
        cfg = _config(tmp_path)
        with Workspace(cfg.workspace, config=cfg) as ws:
            ws.load({"subscriptions": billing(tmp_path / "billing")})
            done = connector("hubspot", cfg).sync(ws)
            assert dict(done.rows) == {t: len(rows(by_files, t)) for t in CRM_TABLES}
            for table in (*CRM_TABLES, "subscriptions"):
                assert rows(ws, table) == rows(by_files, table), table
            # the metric that reads owners, deals and touches: the same expansion, the same deal matched
            assert expansions(ws).to_pylist() == expansions(by_files).to_pylist()
            assert [(r["account_id"], r["opportunity_id"]) for r in expansions(ws).to_pylist()] == [("101", "901")]
    assert any("new business" in w for w in done.warnings)
    # every list was read page by page (companies: 2 pages of 2)
    assert sum(r.startswith("/crm/v3/objects/companies") for r in hubspot.requests) == 2
    assert any("after=2" in r for r in hubspot.requests)
    assert TOKEN not in caplog.text and TOKEN not in " ".join(done.warnings)
    assert TOKEN.encode() not in (tmp_path / "w.duckdb").read_bytes()


def test_a_billing_id_property_maps_account_id_and_companies_without_it_are_left_out(httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(HOST_ENV, httpserver.url_for("").rstrip("/"))
    companies = [
        _company("9001", "Acme", "enterprise", "na", "Software", "2023-11-02", billing_id="A-1",
                 owners=[("2024-01-01T08:00:00Z", "2")]),
        _company("9002", "Acme EU", "enterprise", "emea", "", "2024-01-25", parent="9001", billing_id="A-2"),
        _company("9003", "Prospect", "smb", "na", "", "2024-05-01"),
    ]  # fmt: skip
    FakeHubspot(httpserver, companies=companies)
    settings = {**SETTINGS, "fields": {**SETTINGS["fields"], "account_id": "billing_id", "industry": ""}}
    crm, _ = HubspotConnector(HubspotSettings.from_mapping(settings)).read()
    from revbook.sources.crm_map import contract_rows

    tables, warnings = contract_rows(crm, HubspotSettings.from_mapping(settings))
    assert [(a["account_id"], a["parent_account_id"], a["industry"]) for a in tables["accounts"]] == [
        ("A-1", None, None),
        ("A-2", "A-1", None),
    ]
    assert [(o["account_id"], o["owner_id"], o["role"]) for o in tables["owners"]] == [("A-1", "2", "csm")]
    assert tables["opportunities"] == [] and any("1 companies have no 'billing_id'" in w for w in warnings)


def test_owners_without_a_mapped_team_take_the_default_role_or_are_left_out(hubspot, tmp_path):
    from revbook.sources.crm_map import contract_rows

    for default, expected in (
        ("csm", {"1": "csm", "2": "csm", "3": "csm", "4": "csm"}),
        ("", {"1": "csm", "2": "csm"}),
    ):
        settings = HubspotSettings.from_mapping({"owner_roles": {"Customer Success": "csm"}, "default_role": default})
        tables, warnings = contract_rows(HubspotConnector(settings).read()[0], settings)
        assert {o["owner_id"]: o["role"] for o in tables["owners"]} == expected
        assert any("owner_roles does not map" in w for w in warnings) == (default == "")


def test_the_mapping_is_checked():
    with pytest.raises(ConfigError, match=r"unknown key 'segmnt' in \[hubspot.fields\]; did you mean 'segment'"):
        HubspotSettings.from_mapping({"fields": {"segmnt": "tier"}})
    with pytest.raises(ConfigError, match=r"unknown key 'owner_role' in \[hubspot\]"):
        HubspotSettings.from_mapping({"owner_role": {"CS": "csm"}})
    with pytest.raises(ConfigError, match="deal_kinds: 'upsell' maps to 'upgrade'"):
        HubspotSettings.from_mapping({"deal_kinds": {"upsell": "upgrade"}})
    with pytest.raises(ConfigError, match="default_role must be"):
        HubspotSettings.from_mapping({"default_role": "cfo"})


def test_check_names_the_missing_scope_and_sync_goes_on_without_it(httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(HOST_ENV, httpserver.url_for("").rstrip("/"))
    FakeHubspot(httpserver, refuse={"/crm/v3/objects/deals"})
    cfg = _config(tmp_path)
    seen = {s.objects: s for s in connector("hubspot", cfg).check()}
    assert [s.readable for s in seen.values()] == [True, True, False, True, True, True]
    assert seen["deals"].detail == "the token lacks the scope crm.objects.deals.read (HTTP 403)"
    assert seen["companies"].detail == "2 on the first page (more pages)"
    result = CliRunner().invoke(app, ["connect", "hubspot", "--check", "--workspace", str(cfg.workspace)])
    assert result.exit_code == 0 and "crm.objects.deals.read" in result.output and TOKEN not in result.output
    with Workspace(cfg.workspace, config=cfg) as ws:
        ws.load({"subscriptions": billing(tmp_path / "billing")})
        done = connector("hubspot", cfg).sync(ws)
        assert "opportunities" not in done.rows and ws.row_counts()["opportunities"] == 0
        assert any("deals not read" in w and "crm.objects.deals.read" in w for w in done.warnings)


def test_a_missing_or_refused_token_is_a_clear_error_without_the_token(httpserver, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(HOST_ENV, httpserver.url_for("").rstrip("/"))
    FakeHubspot(httpserver)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ConfigError, match=f"{TOKEN_ENV} is not set"):
        connector("hubspot", _config(tmp_path)).check()
    wrong = TOKEN[::-1]
    monkeypatch.setenv(TOKEN_ENV, wrong)
    cfg = _config(tmp_path)
    with Workspace(cfg.workspace, config=cfg) as ws, pytest.raises(RevbookError) as err:
        connector("hubspot", cfg).sync(ws)
    assert "HTTP 401" in str(err.value) and wrong not in str(err.value) and wrong not in repr(err.value.hint)
    result = CliRunner().invoke(app, ["connect", "hubspot", "--workspace", str(cfg.workspace)])
    assert result.exit_code != 0 and "HTTP 401" in result.output
    assert wrong not in result.output and wrong not in caplog.text
    assert wrong.encode() not in cfg.workspace.read_bytes()


def test_connect_hubspot_loads_and_prints_the_time_to_first_figures(hubspot, tmp_path):
    toml = tmp_path / "revbook.toml"
    toml.write_text(
        f'[workspace]\npath = "w.duckdb"\nas_of = "{AS_OF}"\n'
        '[sources.subscriptions]\npath = "billing/subscriptions.csv"\n'
        '[hubspot]\nowner_roles = { "Customer Success" = "csm", "Sales" = "ae" }\n'
        '[hubspot.fields]\nsegment = "customer_tier__c"\nregion = "region__c"\n'
    )
    billing(tmp_path / "billing")
    runner = CliRunner()
    assert runner.invoke(app, ["load", "--config", str(toml)]).exit_code == 0
    result = runner.invoke(app, ["connect", "hubspot", "--config", str(toml)])
    assert result.exit_code == 0, result.output
    assert "loaded from hubspot" in result.output and "accounts 4" in result.output
    assert "from credentials to the first figures" in result.output and TOKEN not in result.output


def test_a_sync_that_removes_most_accounts_needs_replace(hubspot, tmp_path):
    """Ten accounts loaded from a file, then a CRM that knows four: the sync would remove 60% of
    the accounts, more than max_shrink (half) allows, so it is refused and loads nothing; with
    --replace it loads the four."""
    toml = tmp_path / "revbook.toml"
    toml.write_text(
        f'[workspace]\npath = "w.duckdb"\nas_of = "{AS_OF}"\n'
        '[sources.subscriptions]\npath = "billing/subscriptions.csv"\n'
        '[sources.accounts]\npath = "accounts.csv"\n'
        '[hubspot]\nowner_roles = { "Customer Success" = "csm", "Sales" = "ae" }\n'
    )
    billing(tmp_path / "billing")
    (tmp_path / "accounts.csv").write_text("account_id\n" + "".join(f"{a}\n" for a in range(101, 111)))
    runner = CliRunner()
    assert runner.invoke(app, ["load", "--config", str(toml)]).exit_code == 0
    refused = runner.invoke(app, ["connect", "hubspot", "--config", str(toml)])
    assert refused.exit_code == 2 and "--replace" in refused.output, refused.output
    with Workspace(tmp_path / "w.duckdb", read_only=True) as ws:
        assert ws.row_counts()["accounts"] == 10
    done = runner.invoke(app, ["connect", "hubspot", "--replace", "--config", str(toml)])
    assert done.exit_code == 0 and "accounts 4" in done.output, done.output


def test_owner_periods_end_at_the_next_change_and_at_no_owner():
    import datetime as dt

    from revbook.sources.crm_map import Company, Crm, Person, contract_rows

    d = dt.date.fromisoformat
    people = {"1": Person("1", "Ada", "CS"), "2": Person("2", "Bo", "CS")}
    changes = [
        ("c", d("2024-01-01"), "1"),
        ("c", d("2024-02-01"), "1"),  # the same owner again: one period
        ("c", d("2024-03-01"), None),  # unassigned: the period ends
        ("c", d("2024-05-01"), "2"),
        ("c", d("2024-06-01"), "1"),
    ]
    crm = Crm([Company("c", "A")], people, changes, [], [], [])
    tables, _ = contract_rows(crm, HubspotSettings(owner_roles={"CS": "csm"}))
    assert [(o["owner_id"], str(o["start_date"]), str(o["end_date"])) for o in tables["owners"]] == [
        ("1", "2024-01-01", "2024-03-01"),
        ("2", "2024-05-01", "2024-06-01"),
        ("1", "2024-06-01", "None"),
    ]


def test_a_refusal_that_names_no_scope_still_says_what_to_do():
    from revbook.sources.hubspot import KINDS, _refusal, _why

    class Refused(Exception):
        status = 403
        body = '{"status": "error", "category": "MISSING_SCOPES", "errors": []}'

    notes = next(k for k in KINDS if k.objects == "notes")
    assert _why(_refusal(Refused()), notes).startswith("the token may not read notes (HTTP 403)")
    deals = next(k for k in KINDS if k.objects == "deals")
    assert _why(_refusal(Refused()), deals) == "the token lacks the scope crm.objects.deals.read (HTTP 403)"


def test_the_rate_limit_is_waited_out(httpserver, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(HOST_ENV, httpserver.url_for("").rstrip("/"))
    fake = FakeHubspot(httpserver, limited=2)
    crm, warnings = HubspotConnector(HubspotSettings.from_mapping(SETTINGS)).read()
    assert len(crm.companies) == 4 and warnings == []
    assert sum(r.startswith("/crm/v3/objects/companies") for r in fake.requests) == 4  # 2 refused, 2 pages


def test_the_arr_property_is_asked_for_and_read_with_the_sync_day(httpserver, monkeypatch):
    import datetime as dt

    from revbook.sources.crm_map import contract_rows

    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(HOST_ENV, httpserver.url_for("").rstrip("/"))
    companies = [_company("9001", "Acme", "enterprise", "na", "Software", "2023-11-02")]
    companies[0]["properties"]["arr"] = "24000.50"
    fake = FakeHubspot(httpserver, companies=companies)
    settings = HubspotSettings.from_mapping({**SETTINGS, "fields": {**SETTINGS["fields"], "arr": "arr"}})
    crm, _ = HubspotConnector(settings).read()
    assert any(r.startswith("/crm/v3/objects/companies") and "properties=arr&" in r for r in fake.requests)
    tables, _ = contract_rows(crm, settings)
    today = dt.datetime.now(dt.UTC).date()
    assert tables["account_history"] == [
        {"account_id": "9001", "attribute": "crm_arr", "value": "24000.50", "valid_from": today}
    ]
