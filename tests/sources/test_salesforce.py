"""The Salesforce connector against ``responses`` speaking Salesforce's REST query shapes (simple-
salesforce hard-codes https, so no local server; no network): the fixture org loads into the same
tables, and the same attribution, as its files; custom field mapping (the billing id, a tier
field); paging by nextRecordsUrl; a missing permission; the credentials never appear anywhere."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from crm_company import AS_OF, billing, crm_files, rows
from typer.testing import CliRunner

from revbook import Config, Workspace
from revbook.cli import app
from revbook.config.crm import SalesforceSettings
from revbook.errors import ConfigError, RevbookError
from revbook.impact.attribution import expansions
from revbook.sources.connectors import connector
from revbook.sources.crm_map import CRM_TABLES
from revbook.sources.salesforce import ENV

INSTANCE = "https://acme.my.salesforce.com"
SESSION = "00D5g000004Sess!AQ0AQ.s3cr3t.s3ss10n.1d"
PASSWORD = "hunter2-correct-horse"
SECURITY_TOKEN = "Zx9SecTokEn42"
SECRETS = (SESSION, PASSWORD, SECURITY_TOKEN)

ADA, BO, CY, BOT = "0055g000001AdaLAAS", "0055g000001BoXYAAS", "0055g000001CyXYAAS", "0055g000001IntgAAS"
ACME, BRICK, COBALT, ACME_EU = "0015g00000AcmeXAAQ", "0015g00000BrckXAAQ", "0015g00000CoblXAAQ", "0015g00000AcEUXAAQ"
O901, O902, O903, O904 = "0065g000009010AAAA", "0065g000009020AAAA", "0065g000009030AAAA", "0065g000009040AAAA"
IDS = {"ada": ADA, "bo": BO, "cy": CY, "o901": O901, "o902": O902, "o904": O904}
IDS |= {"won": "closed_won", "open": "negotiation_review"}
SETTINGS = {
    "fields": {"account_id": "Billing_Id__c", "segment": "Customer_Tier__c", "region": "Region__c"},
    "owner_roles": {"Customer Success": "csm", "Sales": "ae"},
    "default_role": "",
    "deal_sources": {"Partner": "ae"},
}


def _record(sobject: str, rid: str | None, **fields) -> dict:
    attributes = {"type": sobject, "url": f"/services/data/v59.0/sobjects/{sobject}/{rid}"}
    return {"attributes": attributes, **({"Id": rid} if rid else {}), **fields}


def _account(rid, billing_id, name, tier, region, industry, created, owner, parent=None):
    return _record("Account", rid, Billing_Id__c=billing_id, Name=name, Customer_Tier__c=tier, Region__c=region,
                   Industry=industry, ParentId=parent, CreatedDate=created, OwnerId=owner)  # fmt: skip


def _user(rid, name, role):
    role_record = None if role is None else {"attributes": {"type": "UserRole"}, "Name": role}
    return _record("User", rid, Name=name, UserRole=role_record, Manager=None)


def _change(account, when, old, new, old_name, new_name):
    """One change of owner as AccountHistory holds it: a row of names and a row of ids."""
    return [
        _record("AccountHistory", None, AccountId=account, Field="Owner", OldValue=o, NewValue=n, CreatedDate=when)
        for o, n in ((old_name, new_name), (old, new))
    ]


def _opportunity(rid, account, kind, amount, stage, created, close, closed, won, owner, source=None):
    return _record("Opportunity", rid, AccountId=account, StageName=stage, CreatedDate=created, CloseDate=close,
                   IsClosed=closed, IsWon=won, OwnerId=owner, Type=kind, Amount=amount, LeadSource=source)  # fmt: skip


def _task(rid, account, day, owner, subtype="Task", kind=None, status="Completed", description=None):
    return _record("Task", rid, AccountId=account, ActivityDate=day, CreatedDate=f"{day}T08:00:00.000+0000",
                   Description=description, OwnerId=owner, TaskSubtype=subtype, Status=status, Type=kind)  # fmt: skip


ORG = {
    "Account": [
        _account(ACME, "101", "Acme", "enterprise", "na", "Software", "2024-01-01T07:04:05.000+0000", BO),
        _account(BRICK, "102", "Brick", "mid_market", "emea", "Construction", "2024-01-20T10:00:00.000+0000", BO),
        _account(COBALT, "103", "Cobalt", "smb", "na", None, "2024-03-01T08:59:59.000+0000", ADA),
        _account(
            ACME_EU,
            "104",
            "Acme EU",
            "enterprise",
            "emea",
            "Software",
            "2024-01-25T00:00:00.000+0000",
            BOT,
            parent=ACME,
        ),
    ],
    "User": [
        _user(ADA, "Ada Lovelace", "Customer Success"),
        _user(BO, "Bo Diddley", "Customer Success"),
        _user(CY, "Cy Young", "Sales"),
        _user(BOT, "Integration User", "System Administrator"),
    ],
    "AccountHistory": [
        *_change(ACME, "2024-07-01T09:30:00.000+0000", ADA, BO, "Ada Lovelace", "Bo Diddley"),
        *_change(BRICK, "2024-03-01T12:00:00.000+0000", CY, BO, "Cy Young", "Bo Diddley"),
        # created by Cy at 08:59, given to Ada the same afternoon: the last change of the day stands
        *_change(COBALT, "2024-03-01T16:00:00.000+0000", CY, ADA, "Cy Young", "Ada Lovelace"),
    ],
    "Opportunity": [
        _opportunity(
            O901,
            ACME,
            "Existing Customer - Upgrade",
            1200.0,
            "Closed Won",
            "2024-05-01T10:00:00.000+0000",
            "2024-06-20",
            True,
            True,
            BO,
            "CSM",
        ),
        _opportunity(
            O902, BRICK, "Renewal", 12000.0, "Closed Won", "2024-10-01T10:00:00.000+0000", "2024-12-15", True, True, BO
        ),
        _opportunity(
            O903,
            COBALT,
            "New Customer",
            2400.0,
            "Closed Won",
            "2024-01-10T10:00:00.000+0000",
            "2024-02-10",
            True,
            True,
            CY,
        ),
        _opportunity(
            O904,
            COBALT,
            "Existing Customer - Upgrade",
            600.0,
            "Negotiation/Review",
            "2024-11-01T10:00:00.000+0000",
            "2025-01-31",
            False,
            False,
            CY,
            "Partner",
        ),
    ],
    "Task": [
        _task("00T1", ACME, "2024-06-10", BO, description="Great QBR & they want more seats"),
        _task("00T2", BRICK, "2024-09-01", BO, description="Budget review: they are considering a cheaper competitor"),
        _task("00T3", COBALT, "2024-08-01", ADA, description="Kick-off done"),
        _task("00T4", COBALT, "2024-08-01", ADA, description="Asked about SSO"),
        _task("00T5", BRICK, "2024-09-02", BO, subtype="Call", kind="Call"),
    ],
    "Event": [
        _record(
            "Event",
            "00U1",
            AccountId=ACME,
            ActivityDate="2024-06-05",
            CreatedDate="2024-05-20T08:00:00.000+0000",
            Description=None,
            OwnerId=BO,
            EventSubtype="Event",
            Type="QBR",
        ),
    ],
}


class FakeSalesforce:
    """The REST query endpoint: two records a page, then ``nextRecordsUrl``; checks the session."""

    def __init__(self, mock: responses.RequestsMock, *, refuse=(), hidden=()):
        self.refuse, self.hidden = set(refuse), set(hidden)
        self.queries: list[str] = []
        query = re.compile(re.escape(f"{INSTANCE}/services/data/v59.0/query/") + r".*")
        mock.add_callback(responses.GET, query, callback=self.handle)

    @staticmethod
    def _error(status: int, code: str, message: str):
        return status, {}, json.dumps([{"message": message, "errorCode": code}])

    def handle(self, request):
        if request.headers.get("Authorization") != f"Bearer {SESSION}":
            return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        url = urlparse(request.url)
        cursor = url.path.rsplit("/", 1)[-1]
        if cursor:  # a next page: 01g-<object>-<start>
            _, sobject, start = cursor.split("-")
            soql, start = "", int(start)
        else:
            soql = parse_qs(url.query)["q"][0]
            self.queries.append(soql)
            sobject, start = re.search(r"FROM (\w+)", soql).group(1), 0
            if sobject in self.refuse:
                return self._error(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
            for field in self.hidden:
                if field in soql:
                    return self._error(400, "INVALID_FIELD", f"No such column '{field}' on entity '{sobject}'.")
        items = ORG[sobject]
        if "COUNT()" in soql:
            return 200, {}, json.dumps({"totalSize": len(items), "done": True, "records": []})
        if "LIMIT 1" in soql:
            items = items[:1]
        page = {"totalSize": len(items), "done": start + 2 >= len(items), "records": items[start : start + 2]}
        if not page["done"]:
            page["nextRecordsUrl"] = f"/services/data/v59.0/query/01g-{sobject}-{start + 2}"
        return 200, {}, json.dumps(page)


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as m:
        yield m


@pytest.fixture
def org(mock, monkeypatch):
    for name in ENV.values():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(ENV["session_id"], SESSION)
    monkeypatch.setenv(ENV["instance_url"], INSTANCE)
    return FakeSalesforce(mock)


def _config(folder: Path, **settings) -> Config:
    salesforce = SalesforceSettings.from_mapping(settings or SETTINGS)
    return Config(workspace=folder / "w.duckdb", as_of=AS_OF, salesforce=salesforce)


def _no_secret(*texts: str) -> None:
    for secret in SECRETS:
        for text in texts:
            assert secret not in text


def test_the_org_loads_as_its_files_do(org, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with Workspace(tmp_path / "files.duckdb", config=_config(tmp_path)) as by_files:
        by_files.load({"subscriptions": billing(tmp_path / "billing"), **crm_files(tmp_path / "crm", IDS)})
        cfg = _config(tmp_path)
        with Workspace(cfg.workspace, config=cfg) as ws:
            ws.load({"subscriptions": billing(tmp_path / "billing")})
            done = connector("salesforce", cfg).sync(ws)
            assert dict(done.rows) == {t: len(rows(by_files, t)) for t in CRM_TABLES}
            for table in (*CRM_TABLES, "subscriptions"):
                assert rows(ws, table) == rows(by_files, table), table
            assert expansions(ws).to_pylist() == expansions(by_files).to_pylist()
            assert [(r["account_id"], r["opportunity_id"]) for r in expansions(ws).to_pylist()] == [("101", O901)]
    assert any("new business" in w for w in done.warnings)
    assert any("1 owners have a team or role that owner_roles does not map" in w for w in done.warnings)
    # the mapped fields are the ones queried; every query was read to its last page
    assert "Billing_Id__c, Name, Customer_Tier__c, Region__c, Industry, ParentId" in org.queries[0]
    assert "Field = 'Owner'" in next(q for q in org.queries if "AccountHistory" in q)
    _no_secret(caplog.text, " ".join(done.warnings))
    data = (tmp_path / "w.duckdb").read_bytes()
    assert not any(s.encode() in data for s in SECRETS)


def test_check_says_what_the_user_can_read_and_what_is_missing(mock, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV["session_id"], SESSION)
    monkeypatch.setenv(ENV["instance_url"], INSTANCE)
    FakeSalesforce(mock, refuse={"AccountHistory"}, hidden={"Customer_Tier__c"})
    cfg = _config(tmp_path)
    seen = {s.objects: s for s in connector("salesforce", cfg).check()}
    assert {k: s.readable for k, s in seen.items()} == {
        "Account": False,
        "User": True,
        "AccountHistory": False,
        "Opportunity": True,
        "Task": True,
        "Event": True,
    }
    assert "Customer_Tier__c" in seen["Account"].detail and "INVALID_FIELD" in seen["Account"].detail
    assert seen["AccountHistory"].detail.startswith("the user cannot read AccountHistory (INVALID_TYPE")
    assert seen["Task"].detail == "5 records"
    result = CliRunner().invoke(app, ["connect", "salesforce", "--check", "--workspace", str(cfg.workspace)])
    assert result.exit_code == 0 and "INVALID_TYPE" in result.output
    _no_secret(result.output)
    with Workspace(cfg.workspace, config=cfg) as ws, pytest.raises(RevbookError, match="would not list Account"):
        connector("salesforce", cfg).sync(ws)


def test_without_account_history_owners_are_left_as_they_were(mock, monkeypatch, tmp_path):
    monkeypatch.setenv(ENV["session_id"], SESSION)
    monkeypatch.setenv(ENV["instance_url"], INSTANCE)
    FakeSalesforce(mock, refuse={"AccountHistory"})
    cfg = _config(tmp_path)
    with Workspace(cfg.workspace, config=cfg) as ws:
        ws.load({"subscriptions": billing(tmp_path / "billing")})
        done = connector("salesforce", cfg).sync(ws)
        assert any(w.startswith("AccountHistory not read") for w in done.warnings)
        # each account keeps its current owner from its creation
        assert rows(ws, "owners") == sorted(
            [("101", BO, "csm", "2024-01-01", ""), ("102", BO, "csm", "2024-01-20", ""),
             ("103", ADA, "csm", "2024-03-01", "")]
        )  # fmt: skip


def test_a_login_with_username_password_and_token_and_a_refused_one(mock, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ENV.values():
        monkeypatch.delenv(name, raising=False)
    cfg = _config(tmp_path)
    with pytest.raises(ConfigError, match="no Salesforce credentials"):
        connector("salesforce", cfg).check()
    monkeypatch.setenv(ENV["username"], "ops@acme.example")
    monkeypatch.setenv(ENV["password"], PASSWORD)
    monkeypatch.setenv(ENV["security_token"], SECURITY_TOKEN)
    FakeSalesforce(mock)
    soap = "https://login.salesforce.com/services/Soap/u/59.0"
    ok = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        'envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>'
        f"<serverUrl>{INSTANCE}/services/Soap/u/59.0/00D5g000004Sess</serverUrl><sessionId>{SESSION}</sessionId>"
        f"<userId>{BO}</userId></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )
    login = mock.add(responses.POST, soap, body=ok, status=200)
    seen = connector("salesforce", cfg).check()
    assert all(s.readable for s in seen) and login.call_count == 1
    body = mock.calls[0].request.body
    assert PASSWORD + SECURITY_TOKEN in (body.decode() if isinstance(body, bytes) else body)  # sent, to login only
    mock.replace(
        responses.POST,
        soap,
        status=500,
        body='<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault><faultcode>INVALID_LOGIN'
        "</faultcode><detail><sf:LoginFault><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>"
        "Invalid username, password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault>"
        "</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
    )
    with pytest.raises(RevbookError) as err:
        connector("salesforce", cfg).check()
    assert "cannot log in to Salesforce: Salesforce refused the login (INVALID_LOGIN)" in str(err.value)
    result = CliRunner().invoke(app, ["connect", "salesforce", "--workspace", str(cfg.workspace)])
    assert result.exit_code != 0 and "INVALID_LOGIN" in result.output
    _no_secret(str(err.value), result.output, caplog.text)


def test_an_unknown_field_key_is_an_error():
    with pytest.raises(
        ConfigError, match=r"unknown key 'acount_id' in \[salesforce.fields\]; did you mean 'account_id'"
    ):
        SalesforceSettings.from_mapping({"fields": {"acount_id": "Billing_Id__c"}})
    with pytest.raises(ConfigError, match="owner_roles: 'VP' maps to 'boss'"):
        SalesforceSettings.from_mapping({"owner_roles": {"VP": "boss"}})


def test_a_sync_the_checks_reject_loads_nothing(org, tmp_path):
    """Billing knows an account the CRM does not: the load's checks reject the sync, all tables or none."""
    cfg = _config(tmp_path)
    with Workspace(cfg.workspace, config=cfg) as ws:
        subs = billing(tmp_path / "billing")
        subs.write_text(subs.read_text() + "105,S6,2024-04-01,,75\n")
        ws.load({"subscriptions": subs})
        with pytest.raises(RevbookError, match="account_id that is not in accounts") as err:
            connector("salesforce", cfg).sync(ws)
        assert "nothing was loaded" in str(err.value)
        counts = ws.row_counts()
        assert counts["subscriptions"] == 6 and all(counts[t] == 0 for t in CRM_TABLES)


def test_the_arr_field_is_queried_and_read_into_account_history_from_the_sync_day(org, tmp_path, monkeypatch):
    import datetime as dt

    accounts = [dict(a, ARR__c=12000 if a["Id"] == ACME else None) for a in ORG["Account"]]
    monkeypatch.setitem(ORG, "Account", accounts)
    cfg = _config(tmp_path, **{**SETTINGS, "fields": {**SETTINGS["fields"], "arr": "ARR__c"}})
    with Workspace(cfg.workspace, config=cfg) as ws:
        ws.load({"subscriptions": billing(tmp_path / "billing")})
        connector("salesforce", cfg).sync(ws)
        history = ws.con.execute(
            "SELECT account_id, value, valid_from FROM account_history WHERE attribute = 'crm_arr' ORDER BY 1"
        ).fetchall()
    assert "ARR__c" in org.queries[0]
    today = dt.datetime.now(dt.UTC).date()
    assert ("101", "12000", today) in history  # the value is known from the day it was read
    assert all(day == today for _, _, day in history)
    assert sum(value is None for _, value, _ in history) == len(history) - 1
