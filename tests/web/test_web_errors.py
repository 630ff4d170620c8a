"""Every page of the dashboard, with bad values of every parameter it accepts: a 400 or a 404 that
names the parameter, never a 500. The pages and their parameters are read from the app (its routes
and the parameters they declare in revbook.web.filters), so a new page or parameter is covered."""

from __future__ import annotations

import html
import importlib
import re
from typing import Any

import pytest

from revbook import Config, Workspace, sample
from support import get, sample_workspace, text_of

httpx = pytest.importorskip("httpx")
web = pytest.importorskip("revbook.web")
from fastapi.routing import APIRoute  # noqa: E402

from revbook.web.filters import Param  # noqa: E402

AS_OF = sample.SampleConfig().as_of
SCRIPT = "<script>alert(1)</script>"
INJECTIONS = (SCRIPT, "1'; DROP TABLE accounts; --", "../../etc/passwd")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """60 accounts with churn reasons and notes, so every lookup (reason, rule, CSM) has data."""
    path = sample_workspace(tmp_path_factory.mktemp("weberrors"), as_of=AS_OF, accounts=60, text=True)
    with Workspace(path, config=Config(as_of=AS_OF), read_only=True) as ws:
        assert ws.row_counts()["notes"] and ws.row_counts()["churn_reasons"]
    return web.create_app(path, config=Config(as_of=AS_OF), token="")


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A workspace with nothing loaded."""
    path = tmp_path_factory.mktemp("webempty") / "w.duckdb"
    with Workspace(path, config=Config(as_of=AS_OF)):
        pass
    return web.create_app(path, config=Config(as_of=AS_OF), token="")


def routes() -> list[APIRoute]:
    """The routes of every page the app serves (``revbook.web.PAGES``)."""
    found = []
    for name in web.PAGES:
        module = importlib.import_module(f"revbook.web.pages.{name}")
        found.extend(r for r in module.router.routes if isinstance(r, APIRoute))
    return found


def pages(app: Any) -> list[tuple[str, list[Param], list[str]]]:
    """(path, query parameters, path parameters) of every page."""
    out = []
    for route in routes():
        params: list[Param] = []
        stack = list(route.dependant.dependencies)
        while stack:
            dep = stack.pop()
            params.extend(getattr(dep.call, "params", ()))
            stack.extend(dep.dependencies)
        out.append((route.path, params, list(route.param_convertors)))
    return out


def bad_values(p: Param) -> list[tuple[str, int]]:
    """(value, expected status) of wrong type, unknown, out of range, injection-like and too long."""
    too_long = [("x" * (p.max_length + 1), 400)]
    if p.kind == "choice":
        return [("nope", 400), ("1", 400), *[(v, 400) for v in INJECTIONS], *too_long]
    if p.kind == "int":
        assert p.low is not None and p.high is not None
        out = [("abc", 400), ("1.5", 400), ("1e9", 400), (str(p.low - 1), 400), (str(p.high + 1), 400)]
        out += [(next(str(n) for n in range(p.low, p.high + 1) if n not in p.choices), 400)] if p.choices else []
        return [*out, *[(v, 400) for v in INJECTIONS], *too_long]
    if p.kind == "flag":
        return [("maybe", 400), ("2", 400), *[(v, 400) for v in INJECTIONS]]
    if p.kind == "date":
        return [("2026-13-01", 400), ("2026-02-30", 400), ("yesterday", 400), ("20260101", 400)] + [
            (v, 400) for v in INJECTIONS
        ]
    if p.kind == "period":
        return [("2026-13", 400), ("26-01", 400), ("2026-Q5", 400), *[(v, 400) for v in INJECTIONS], *too_long]
    if p.kind == "text":
        return too_long
    assert p.kind == "key", p
    malformed = p.pattern is not None
    return [("nope", 404), *[(v, 400 if malformed else 404) for v in INJECTIONS], *too_long]


def context(p: Param, params: list[Param]) -> dict[str, str]:
    """The parameters ``p`` is read with (a slice value needs a slice: the page's first one)."""
    if not p.requires:
        return {}
    needed = next(q for q in params if q.name == p.requires)
    return {needed.name: next(c for c in needed.choices if c)}


def problem_text(r: Any) -> str:
    return html.unescape(text_of(r.text.split("</header>", 1)[-1]))


def cases(app: Any) -> list[tuple[str, dict[str, str], str, int]]:
    out = []
    for path, params, path_params in pages(app):
        if path_params:
            continue
        for p in params:
            for value, status in bad_values(p):
                out.append((path, {**context(p, params), p.name: value}, p.name, status))
    return out


def test_the_pages_declare_their_parameters(app: Any) -> None:
    found = {path: {p.name for p in params} for path, params, _ in pages(app)}
    assert {"/", "/accounts", "/accounts/{account_id}", "/churn", "/signals", "/rum", "/health"} <= set(found)
    assert {"grain", "period", "by", "value", "window", "view", "sort", "page", "size", "q"} <= found["/accounts"]
    assert {"rule", "csm", "team", "account", "since", "until"} <= found["/signals"]
    for route in routes():  # no parameter bypasses revbook.web.filters
        assert not route.dependant.query_params, route.path


def test_every_bad_parameter_is_a_400_or_404_naming_it(app: Any) -> None:
    checked = 0
    for path, query, name, status in cases(app):
        r = get(app, path, params=query)
        where = f"{path}?{query}"
        assert r.status_code == status, (where, r.status_code, problem_text(r)[:300])
        text = problem_text(r)
        assert f"{name}:" in text, (where, text[:300])
        assert "Traceback" not in text
        assert SCRIPT not in r.text, where  # the refused value is shown escaped
        checked += 1
    assert checked > 300


def test_an_empty_value_is_an_absent_one(app: Any) -> None:
    for path, params, path_params in pages(app):
        if path_params:
            continue
        for p in params:
            r = get(app, path, params={p.name: ""})
            assert r.status_code == 200, (path, p.name, problem_text(r)[:300])


def test_free_text_is_data(app: Any) -> None:
    """A search for injection-like text finds nothing and shows it escaped."""
    for value in INJECTIONS:
        r = get(app, "/accounts", params={"q": value})
        assert r.status_code == 200 and "No accounts match" in r.text
        assert SCRIPT not in r.text


@pytest.mark.parametrize("account_id", ["NOPE", SCRIPT, "' OR 1=1 --", "x" * 5000])
def test_an_unknown_account_is_a_404(app: Any, account_id: str) -> None:
    (path,) = [path for path, _, path_params in pages(app) if path_params == ["account_id"]]
    r = get(app, path.replace("{account_id}", httpx.URL(path="/" + account_id).raw_path.decode()[1:]))
    assert r.status_code == 404 and SCRIPT not in r.text
    if "/" not in account_id:  # else no route matches: the router's own 404
        assert "no account" in problem_text(r)


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/?by=segment&value=nope", 404, "value: no segment 'nope' in this workspace; segments: "),
        ("/book?by=owner&value=nobody", 404, "value: no owner 'nobody'"),
        ("/book?by=segment", 400, "by: 'segment' is not a slice dimension; use one of: owner, team"),
        ("/?value=smb", 400, "value: a slice value needs by="),
        ("/?period=2099-01", 400, "period: '2099-01' is not a month of this workspace"),
        ("/churn?start=2099-01", 400, "start: '2099-01' is not a quarter of this workspace"),
        ("/churn?reason=nope", 404, "reason: no churn reason 'nope'"),
        ("/signals?rule=nope", 404, "rule: no signal rule 'nope'"),
        ("/signals?csm=nope", 404, "csm: no CSM 'nope'"),
        ("/signals?account=nope", 404, "account: no account 'nope'"),
        ("/rum?owner=nope", 404, "owner: no CSM 'nope'"),
        ("/rum?team=a&owner=b", 400, "team: choose a team or a CSM"),
        ("/accounts?view=cohort&grain=quarter", 400, "grain: view=cohort reads month snapshots"),
        ("/health?horizon=30", 400, "horizon: '30' is not an allowed backtest horizon (days); use one of: 90, 180"),
    ],
)
def test_messages_name_the_parameter_and_what_it_allows(app: Any, url: str, status: int, message: str) -> None:
    r = get(app, url)
    assert r.status_code == status
    assert message in problem_text(r)


def test_an_empty_workspace_is_a_409_that_says_what_to_do(empty_app: Any) -> None:
    statuses = {}
    for path, _, _ in pages(empty_app):
        r = get(empty_app, re.sub(r"\{[^}]+\}", "X", path))
        statuses[path] = r.status_code
        if r.status_code == 409:
            assert "has no subscriptions loaded; run `revbook load` first" in problem_text(r)
            assert "Traceback" not in r.text
    assert set(statuses.values()) <= {200, 409}, statuses
    assert statuses["/"] == 409
