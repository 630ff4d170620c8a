"""The account plans on the dashboard: the VIP list, the plan page, and its form, the dashboard's only
write: POST only, same origin, the session's CSRF token, the access token off loopback; validation
errors on the form; every refused request writes nothing."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from revbook import Config, Workspace
from revbook.config import VipSettings
from revbook.plans import current_plan, plan_history
from support import get, text_of, write

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")

AS_OF = dt.date(2024, 12, 31)
CONFIG = Config(as_of=AS_OF, vip=VipSettings(accounts=("A",)))
ORIGIN = {"origin": "http://127.0.0.1"}
EVIL = "<script>alert(1)</script>"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    files = {
        "accounts": write(data / "accounts.csv", "account_id,name,segment\nA,Acme,enterprise\nB,Bolt,smb\n"),
        "subscriptions": write(
            data / "subscriptions.csv",
            "account_id,subscription_id,product,start_date,end_date,mrr\n"
            "A,S1,core,2023-06-01,,10000\nB,S2,core,2024-01-01,,500\nB,S3,sso,2024-01-01,,100\n",
        ),
    }
    with Workspace(tmp_path / "w.duckdb", config=CONFIG) as ws:
        ws.load(files)
    return tmp_path / "w.duckdb"


@pytest.fixture
def app(path: Path) -> Any:
    return web.create_app(path, config=CONFIG, token="")


def versions(app: Any, account: str = "A") -> list[int]:
    ws = app.state.store.ws
    with app.state.store.lock:
        return [h["version"] for h in plan_history(ws, account).to_pylist()]


def csrf(app: Any, account: str = "A") -> str:
    """The session's token: the cookie the plan page sets, equal to its form's hidden field."""
    r = get(app, f"/plans/{account}")
    token = r.cookies.get("revbook_csrf")
    assert token and f'name="csrf" value="{token}"' in r.text
    return token


def form(token: str, version: int = 0, **fields: Any) -> dict[str, Any]:
    base = {
        "csrf": token,
        "version": str(version),
        "author": "ana",
        "goals": "Grow core\nAdopt SSO",
        "kpi_metric": ["arr", ""],
        "kpi_target": ["150000", ""],
        "kpi_due": ["2025-06-30", ""],
        "stage_product": ["sso"],
        "stage": ["awareness"],
    }
    return {**base, **fields}


def post(app: Any, token: str | None, data: dict[str, Any], *, account: str = "A", **kw: Any) -> Any:
    cookies = {"revbook_csrf": token} if token else None
    return get(
        app, f"/plans/{account}", method="POST", data=data, cookies=cookies, headers=kw.pop("headers", ORIGIN), **kw
    )


def test_the_vip_list_and_a_plan_page(app: Any) -> None:
    page = text_of(get(app, "/plans").text)
    assert "1 VIP account, 0 with a plan" in page and "Acme A enterprise 120,000 list none yet" in page
    r = get(app, "/plans/A")
    assert r.status_code == 200
    assert "has no plan yet" in r.text and 'method="post" action="/plans/A"' in r.text
    assert get(app, "/plans/NOPE").status_code == 404
    assert get(app, "/plans/A?saved=x").status_code == 400
    assert get(app, "/plans/A/print").status_code == 404  # no plan yet
    assert get(app, "/plans/A/print?paper=a3").status_code == 400


def test_create_then_edit_through_the_form(app: Any) -> None:
    token = csrf(app)
    created = post(app, token, form(token))
    assert created.status_code == 303 and created.headers["location"] == "/plans/A?saved=1"
    page = get(app, "/plans/A?saved=1", cookies={"revbook_csrf": token})
    text = text_of(page.text)
    assert "Saved: version 1 of the plan." in text
    assert re.search(r"ARR arr 120,000 150,000 2025-06-30 open", text)
    assert "sso awareness" in text and "Grow core" in text
    edited = post(app, token, form(token, 1, goals="Grow core", note="after the QBR", stage=["consideration"]))
    assert edited.status_code == 303 and versions(app) == [2, 1]
    history = text_of(get(app, "/plans/A").text)
    assert re.search(r"2 \S+ \S+ ana after the QBR goals, journey", history)
    assert "text/html" in get(app, "/plans/A/print").headers["content-type"]
    assert text_of(get(app, "/plans").text).count("version 2") == 1


def test_without_or_with_a_wrong_csrf_token_nothing_is_written(app: Any) -> None:
    token = csrf(app)
    for data, cookie in [
        ({k: v for k, v in form(token).items() if k != "csrf"}, token),  # no field
        (form(token), None),  # no cookie
        (form("wrong"), token),  # a field that is not the cookie
        (form(""), ""),  # both empty
    ]:
        r = post(app, cookie, data)
        assert r.status_code == 403, r.text
        assert "CSRF" in r.text and "nothing was saved" in r.text
    assert versions(app) == []
    assert post(app, token, form(token)).status_code == 303 and versions(app) == [1]


def test_a_post_from_another_origin_or_of_another_kind_is_refused(app: Any) -> None:
    token = csrf(app)
    for headers in ({"origin": "http://evil.example"}, {"origin": "null"}, {}, {"referer": "http://evil.example/x"}):
        r = post(app, token, form(token), headers=headers)
        assert r.status_code == 403 and "nothing was saved" in r.text, headers
    same_page = post(app, token, form(token), headers={"referer": "http://127.0.0.1/plans/A"})
    assert same_page.status_code == 303  # no Origin, but the Referer is this server's page
    as_json = get(app, "/plans/A", method="POST", json=form(token, 1), cookies={"revbook_csrf": token}, headers=ORIGIN)
    assert as_json.status_code == 415
    assert get(app, "/plans", method="POST", data=form(token), headers=ORIGIN).status_code == 405
    assert get(app, "/", method="POST", headers=ORIGIN).status_code == 405
    assert get(app, "/plans/A", method="PUT", data=form(token), headers=ORIGIN).status_code == 405
    assert versions(app) == [1]


def test_off_loopback_a_write_needs_the_access_token(path: Path) -> None:
    open_app = web.create_app(path, config=CONFIG, token="")
    remote = {"client": ("10.1.2.3", 5000), "host": "revbook.example"}
    r = get(
        open_app,
        "/plans/A",
        method="POST",
        data=form("t"),
        cookies={"revbook_csrf": "t"},
        headers={"origin": "http://revbook.example"},
        **remote,
    )
    assert r.status_code == 403 and "serves this machine only" in r.text
    open_app.state.store.close()
    guarded = web.create_app(path, config=CONFIG, token="s3cret")
    headers = {"origin": "http://revbook.example"}
    no_token = get(
        guarded, "/plans/A", method="POST", data=form("t"), cookies={"revbook_csrf": "t"}, headers=headers, **remote
    )
    assert no_token.status_code == 401
    assert versions(guarded) == []
    cookies = {"revbook_csrf": "t", "revbook_token": "s3cret"}
    ok = get(guarded, "/plans/A", method="POST", data=form("t"), cookies=cookies, headers=headers, **remote)
    assert ok.status_code == 303 and versions(guarded) == [1]


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"kpi_metric": ["arrr"], "kpi_target": ["1"], "kpi_due": ["2025-01-01"]}, 400, "unknown KPI metric 'arrr'"),
        ({"kpi_metric": ["arr"], "kpi_target": ["1"], "kpi_due": ["soon"]}, 400, "must be a date like 2026-11-15"),
        ({"kpi_metric": ["arr"], "kpi_target": ["much"], "kpi_due": ["2025-01-01"]}, 400, "must be a number"),
        ({"stage": ["keen"]}, 400, "'keen' is not a stage of the decision journey"),
        ({"goals": "x" * 501}, 400, "over the limit of 500"),
        ({"author": ""}, 400, "the author is empty"),
        ({"version": "abc"}, 400, "the form's version is not a whole number"),
    ],
)
def test_validation_errors_show_on_the_form_and_write_nothing(
    app: Any, fields: dict, status: int, message: str
) -> None:
    token = csrf(app)
    r = post(app, token, form(token, **fields))
    assert r.status_code == status
    assert "Not saved." in r.text and message in text_of(r.text).replace("&#39;", "'")
    assert versions(app) == []


def test_not_vip_needs_the_box_ticked_and_a_stale_edit_keeps_what_was_typed(app: Any) -> None:
    token = csrf(app, "B")
    refused = post(app, token, form(token, stage_product=[], stage=[]), account="B")
    assert refused.status_code == 400 and "B is not a VIP account" in refused.text
    assert post(app, token, form(token, force="1", stage_product=[], stage=[]), account="B").status_code == 303
    assert post(app, token, form(token, 1, goals="First edit"), account="B").status_code == 303
    stale = post(app, token, form(token, 1, goals="Late edit"), account="B")
    assert stale.status_code == 409
    assert "is at version 2 by ana" in text_of(stale.text)
    assert ">Late edit</textarea>" in stale.text and 'name="version" value="2"' in stale.text
    assert versions(app, "B") == [2, 1]


def test_plan_text_is_escaped(app: Any) -> None:
    token = csrf(app)
    assert post(app, token, form(token, goals=EVIL, note=EVIL)).status_code == 303
    for url in ("/plans/A", "/plans/A/print", "/plans"):
        html = get(app, url).text
        assert EVIL not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in get(app, "/plans/A").text
    ws = app.state.store.ws
    with app.state.store.lock:
        assert current_plan(ws, "A").plan.goals == (EVIL,)  # type: ignore[union-attr]
