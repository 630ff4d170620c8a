"""The Salesforce connector (read-only, ``simple-salesforce``): Accounts -> accounts, Users and
AccountHistory of the owner field -> owners and people, Opportunities of kind expansion or renewal
-> opportunities, Tasks and Events -> activities and (their descriptions) notes; mapped by
[salesforce] of revbook.toml (revbook.config.crm) and :mod:`revbook.sources.crm_map`, loaded
through the store's atomic load.

Credentials come only from the environment: ``SALESFORCE_USERNAME``, ``SALESFORCE_PASSWORD`` and
``SALESFORCE_SECURITY_TOKEN`` (``SALESFORCE_DOMAIN`` = ``test`` for a sandbox), or a session id
``SALESFORCE_SESSION_ID`` with ``SALESFORCE_INSTANCE_URL``. They go to the client only, never into
a log, the workspace or an error message. Queries are read whole (``query_all``, which follows
``nextRecordsUrl``). Every sync reads everything: a CRM's tables are replaced whole by each load.

What becomes an activity: an Event (type: its Type, else ``meeting``), a Task whose subtype is Call
(its Type, else ``call``) and any other Task that has a Type; the outcome is a Task's Status. A Task's
or Event's Description becomes a note (source ``call`` or ``email`` by the Task's subtype, else
``note``), by its owner. An account's owners: the owner field's AccountHistory (the rows that name user
ids), the first one's old owner from the account's creation; an account without history keeps its
current owner from its creation.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, SourceError
from .connectors import Loads, Seen, Synced
from .crm_map import Activity, Company, Crm, Deal, Note, Person, load_crm, slug, to_date, to_decimal

if TYPE_CHECKING:
    from ..config import Config
    from ..config.crm import SalesforceSettings


__all__ = ["ENV", "SalesforceConnector", "salesforce_connector"]

#: the environment variables credentials come from
ENV = {
    "username": "SALESFORCE_USERNAME",
    "password": "SALESFORCE_PASSWORD",
    "security_token": "SALESFORCE_SECURITY_TOKEN",
    "domain": "SALESFORCE_DOMAIN",
    "session_id": "SALESFORCE_SESSION_ID",
    "instance_url": "SALESFORCE_INSTANCE_URL",
}
_USER_ID = re.compile(r"005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")


@dataclass(frozen=True)
class _Object:
    objects: str
    table: str
    required: bool = False


OBJECTS = (
    _Object("Account", "accounts", required=True),
    _Object("User", "people"),
    _Object("AccountHistory", "owners"),
    _Object("Opportunity", "opportunities"),
    _Object("Task", "activities, notes"),
    _Object("Event", "activities, notes"),
)


class _Refused(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _refusal(exc: Exception, sobject: str) -> _Refused:
    """What a simple-salesforce error says, in our words: never its text (which echoes the response)."""
    name = type(exc).__name__
    if name == "SalesforceAuthenticationFailed":
        code = getattr(exc, "code", None)
        return _Refused(f"Salesforce refused the login ({code or 'authentication failed'})")
    status = getattr(exc, "status", None)
    if status == 401:
        return _Refused("the session was refused (HTTP 401): it is expired or revoked")
    content = getattr(exc, "content", None)
    errors = content if isinstance(content, list) else []
    code = str(errors[0].get("errorCode", "")) if errors and isinstance(errors[0], dict) else ""
    message = str(errors[0].get("message", "")) if errors and isinstance(errors[0], dict) else ""
    if code == "INVALID_TYPE":
        return _Refused(f"the user cannot read {sobject} (INVALID_TYPE: no Read permission, or not in this org)")
    if code == "INVALID_FIELD":
        column = re.search(r"No such column '([\w.]+)'", message)
        field = f" {column.group(1)}" if column else ""
        return _Refused(
            f"a field the mapping reads is not visible on {sobject}{field} (INVALID_FIELD: no field-level access, "
            "or [salesforce.fields] names a field the org does not have)"
        )
    if code == "REQUEST_LIMIT_EXCEEDED":
        return _Refused("the org's API request limit is used up (REQUEST_LIMIT_EXCEEDED); try again when it resets")
    if status == 403:
        return _Refused(f"the user may not use the API or read {sobject} (HTTP 403 {code})".rstrip())
    if status:
        return _Refused(f"Salesforce answered HTTP {status} {code}".rstrip())
    return _Refused("Salesforce could not be reached")


def _get(record: dict[str, Any], path: str) -> Any:
    """A field of a query record; ``A.B`` follows a relationship (None when it is empty)."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(record: dict[str, Any], path: str) -> str | None:
    if not path:
        return None
    value = _get(record, path)
    return None if value is None or value == "" else str(value)


class SalesforceConnector:
    """Reads a Salesforce org through its REST API (see the module docstring)."""

    name = "salesforce"

    def __init__(self, settings: SalesforceSettings) -> None:
        self.settings = settings

    def _client(self) -> Any:
        env = {key: os.environ.get(name, "").strip() for key, name in ENV.items()}
        from simple_salesforce.api import Salesforce

        try:
            if env["session_id"] and env["instance_url"]:
                return Salesforce(session_id=env["session_id"], instance_url=env["instance_url"])
            if env["username"] and env["password"]:
                return Salesforce(
                    username=env["username"],
                    password=env["password"],
                    security_token=env["security_token"],
                    domain=env["domain"] or None,
                )
        except Exception as exc:
            raise SourceError(
                f"cannot log in to Salesforce: {_refusal(exc, 'the org').detail}",
                hint=f"check {ENV['username']}, {ENV['password']} and {ENV['security_token']} "
                f"({ENV['domain']}=test for a sandbox); nothing was loaded",
            ) from None
        raise ConfigError(
            "no Salesforce credentials in the environment",
            hint=f"export {ENV['username']}, {ENV['password']} and {ENV['security_token']}, or "
            f"{ENV['session_id']} and {ENV['instance_url']} (never in revbook.toml)",
        )

    # -- the queries -----------------------------------------------------------------------
    def _fields(self, *keys: str) -> list[str]:
        return [f for f in (self.settings.field_for(k) for k in keys) if f]

    def soql(self, sobject: str) -> str:
        """The query each object is read with."""
        if sobject == "Account":
            keys = ("account_id", "name", "segment", "region", "industry", "parent", "created_at", "owner", "arr")
            fields = ["Id", *self._fields(*keys)]
            return f"SELECT {', '.join(dict.fromkeys(fields))} FROM Account"
        if sobject == "User":
            return "SELECT Id, Name, UserRole.Name, Manager.Name FROM User"
        if sobject == "AccountHistory":
            return (
                "SELECT AccountId, Field, OldValue, NewValue, CreatedDate FROM AccountHistory "
                f"WHERE Field = '{self._history_field()}' ORDER BY AccountId, CreatedDate"
            )
        if sobject == "Opportunity":
            fields = ["Id", "AccountId", "StageName", "CreatedDate", "CloseDate", "IsClosed", "IsWon", "OwnerId"]
            fields += self._fields("deal_kind", "deal_amount", "deal_source")
            return f"SELECT {', '.join(dict.fromkeys(fields))} FROM Opportunity"
        subtype = "TaskSubtype, Status" if sobject == "Task" else "EventSubtype"
        fields = ["Id", "AccountId", "ActivityDate", "CreatedDate", "Description", "OwnerId", subtype]
        fields += self._fields("activity_type")
        return f"SELECT {', '.join(dict.fromkeys(fields))} FROM {sobject} WHERE AccountId != null"

    def _history_field(self) -> str:
        owner = self.settings.field_for("owner")
        return "Owner" if owner == "OwnerId" else owner

    # -- check -----------------------------------------------------------------------------
    def check(self) -> list[Seen]:
        """Per object: readable with the fields the mapping reads (and how many), or what is missing."""
        sf = self._client()
        seen = []
        for obj in OBJECTS:
            try:
                sf.query(self.soql(obj.objects) + " LIMIT 1")
                count = sf.query(f"SELECT COUNT() FROM {obj.objects}").get("totalSize", 0)
            except Exception as exc:
                seen.append(Seen(obj.objects, obj.table, False, _refusal(exc, obj.objects).detail))
                continue
            seen.append(Seen(obj.objects, obj.table, True, f"{count:,} records"))
        return seen

    # -- sync ------------------------------------------------------------------------------
    def read(self) -> tuple[Crm, list[str]]:
        """Everything the user can read, as source-neutral records, and what could not be read."""
        sf = self._client()
        warnings: list[str] = []
        s = self.settings

        def records(sobject: str) -> list[dict[str, Any]]:
            obj = next(o for o in OBJECTS if o.objects == sobject)
            try:
                return list(sf.query_all(self.soql(sobject)).get("records") or [])
            except Exception as exc:
                detail = _refusal(exc, sobject).detail
                if obj.required:
                    raise SourceError(
                        f"Salesforce would not list {sobject}: {detail}",
                        table=obj.table,
                        hint="run `revbook connect salesforce --check` to see what the user can read; "
                        "nothing was loaded",
                    ) from None
                warnings.append(f"{sobject} not read, {obj.table} left as it was: {detail}")
                return []

        mapped = s.field_for("account_id")
        companies, created, current = [], {}, {}
        for a in records("Account"):
            crm_id = str(a["Id"])
            created[crm_id] = to_date(_get(a, s.field_for("created_at") or "CreatedDate"))
            current[crm_id] = _text(a, s.field_for("owner"))
            companies.append(
                Company(
                    crm_id=crm_id,
                    account_id=_text(a, mapped) if mapped else crm_id,
                    name=_text(a, s.field_for("name")),
                    segment=_text(a, s.field_for("segment")),
                    region=_text(a, s.field_for("region")),
                    industry=_text(a, s.field_for("industry")),
                    parent_crm_id=_text(a, s.field_for("parent")),
                    created_at=created[crm_id],
                    arr=_get(a, s.field_for("arr")) if s.field_for("arr") else None,
                )
            )
        people = {
            str(u["Id"]): Person(str(u["Id"]), _text(u, "Name"), _text(u, "UserRole.Name"), _text(u, "Manager.Name"))
            for u in records("User")
        }
        changes = self._owner_changes(records("AccountHistory"), people, created, current)

        deals = [
            Deal(
                crm_id=str(o["Id"]),
                company_crm_id=_text(o, "AccountId"),
                kind_value=_text(o, s.field_for("deal_kind")),
                amount=to_decimal(_get(o, s.field_for("deal_amount"))) if s.field_for("deal_amount") else None,
                stage=_text(o, "StageName"),
                created_at=to_date(_get(o, "CreatedDate")),
                closed_at=to_date(_get(o, "CloseDate")),
                closed=bool(_get(o, "IsClosed")),
                won=bool(_get(o, "IsWon")),
                owner_id=_text(o, "OwnerId"),
                source_value=_text(o, s.field_for("deal_source")),
            )
            for o in records("Opportunity")
        ]
        notes, activities = [], []
        kind_field = s.field_for("activity_type")
        for sobject in ("Task", "Event"):
            for t in records(sobject):
                company = _text(t, "AccountId")
                day = to_date(_get(t, "ActivityDate") or _get(t, "CreatedDate"))
                subtype = (_text(t, "TaskSubtype") or "").lower()
                kind = slug(_text(t, kind_field)) if kind_field else None
                if sobject == "Event" or subtype == "call" or kind:
                    default = "meeting" if sobject == "Event" else "call"
                    activities.append(Activity(company, day, kind or default, slug(_text(t, "Status"))))
                description = (_text(t, "Description") or "").strip()
                if description:
                    source = subtype if subtype in ("call", "email") else "note"
                    notes.append(Note(company, day, _text(t, "OwnerId"), source, description))
        read_on = dt.datetime.now(dt.UTC).date()
        return Crm(companies, people, changes, deals, notes, activities, read_on=read_on), warnings

    def _owner_changes(
        self,
        history: list[dict[str, Any]],
        people: dict[str, Person],
        created: dict[str, Any],
        current: dict[str, str | None],
    ) -> list[tuple[str, Any, str | None]]:
        """(account, date, owner) changes: from the history rows that name user ids (Salesforce writes
        one row of names and one of ids per change), the first old owner from the account's creation."""

        def user(value: object) -> str | None:
            text = None if value is None else str(value)
            return text if text and (text in people or _USER_ID.fullmatch(text)) else None

        by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for h in history:
            if user(h.get("NewValue")) or user(h.get("OldValue")):
                by_account[str(h["AccountId"])].append(h)
        changes: list[tuple[str, Any, str | None]] = []
        for account, start in created.items():
            rows = sorted(by_account.get(account, []), key=lambda h: str(h.get("CreatedDate")))
            first = user(rows[0].get("OldValue")) if rows else current.get(account)
            if start is not None and first:
                changes.append((account, start, first))
            for h in rows:
                day = to_date(h.get("CreatedDate"))
                if day is not None:
                    changes.append((account, day, user(h.get("NewValue"))))
        return changes

    def sync(self, store: Loads, *, full: bool = False, replace: bool = False) -> Synced:
        """Read Salesforce and load it into ``store`` (every sync reads everything; ``full`` changes nothing)."""
        started = time.perf_counter()
        crm, warnings = self.read()
        done = load_crm(store, crm, self.settings, started=started, replace=replace)
        return Synced(done.rows, done.seconds, (*warnings, *done.warnings))


def salesforce_connector(config: Config) -> SalesforceConnector:
    """The registry's factory: the Salesforce connector of a workspace's Config."""
    return SalesforceConnector(config.salesforce)
