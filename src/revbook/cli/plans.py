"""`revbook plan vip|show|create|edit|history|export`: VIP account plans (docs/account-plans.md)."""

from __future__ import annotations

import getpass
import json
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .app import HelpGroup, RevbookCommand, app
from .options import (
    AllRowsOpt,
    AsOfOpt,
    ColumnsOpt,
    ConfigOpt,
    Format,
    FormatOpt,
    LimitOpt,
    OnOpt,
    OutOpt,
    View,
    WideOpt,
    WorkspaceOpt,
    load_config,
    open_workspace,
)
from .output import console, emit, print_frame, say

if TYPE_CHECKING:
    from ..plans import PlanVersion

plan_app = typer.Typer(cls=HelpGroup, help="Account plans of VIP accounts: show, create, edit, history, export.")
app.add_typer(plan_app, name="plan")

AccountArg = Annotated[str, typer.Argument(help="the account id")]
AuthorOpt = Annotated[
    str | None, typer.Option(help="who writes this version (default: env REVBOOK_AUTHOR, else your user name)")
]
NoteOpt = Annotated[str | None, typer.Option(help="why, in a few words (kept in the history)")]
FileOpt = Annotated[Path | None, typer.Option("--file", help="the plan's fields from a TOML or JSON file")]
ChallengeOpt = Annotated[
    list[str] | None, typer.Option("--challenge", help="a challenge (repeatable; replaces the list)")
]
GoalOpt = Annotated[list[str] | None, typer.Option("--goal", help="a goal (repeatable; replaces the list)")]
InitiativeOpt = Annotated[
    list[str] | None, typer.Option("--initiative", help="a key initiative (repeatable; replaces the list)")
]
PlayOpt = Annotated[list[str] | None, typer.Option("--play", help="a next play (repeatable; replaces the list)")]
KpiOpt = Annotated[
    list[str] | None,
    typer.Option("--kpi", help="METRIC=TARGET@DUE, e.g. arr=500000@2027-06-30 (repeatable; replaces the KPIs)"),
]
StageOpt = Annotated[
    list[str] | None,
    typer.Option("--stage", help="OFFERING=STAGE, e.g. 'Analytics=consideration' (repeatable)"),
]


def _author(author: str | None) -> str:
    if author:
        return author
    return os.environ.get("REVBOOK_AUTHOR") or getpass.getuser()


def _fields(
    file: Path | None,
    challenge: list[str] | None,
    goal: list[str] | None,
    initiative: list[str] | None,
    play: list[str] | None,
    kpi: list[str] | None,
    stage: list[str] | None,
) -> dict[str, Any]:
    """The plan's fields: the file's, then the options over them."""
    from ..errors import ConfigError

    fields: dict[str, Any] = {}
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {file}: {exc.strerror}", hint="check the path") from None
        try:
            fields = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"{file} is not valid {'JSON' if file.suffix.lower() == '.json' else 'TOML'}: {exc}",
                hint="see docs/account-plans.md for the file's fields",
            ) from None
        if not isinstance(fields, dict):
            raise ConfigError(f"{file} must hold a table of the plan's fields", hint="see docs/account-plans.md")
    for name, values in (("challenges", challenge), ("goals", goal), ("initiatives", initiative), ("plays", play)):
        if values:
            fields[name] = list(values)
    if kpi:
        fields["kpis"] = [_kpi(k) for k in kpi]
    if stage:
        journey = dict(fields.get("journey") or {})
        for s in stage:
            product, sep, value = s.rpartition("=")
            if not sep or not product.strip():
                raise ConfigError(
                    f"--stage must be OFFERING=STAGE, got {s!r}", hint="e.g. --stage 'Analytics=awareness'"
                )
            journey[product.strip()] = value.strip()
        fields["journey"] = journey
    return fields


def _kpi(text: str) -> dict[str, str]:
    from ..errors import ConfigError

    metric, sep, rest = text.partition("=")
    target, at, due = rest.partition("@")
    if not sep or not at:
        raise ConfigError(f"--kpi must be METRIC=TARGET@DUE, got {text!r}", hint="e.g. --kpi nrr_12m=1.1@2027-06-30")
    return {"metric": metric.strip(), "target": target.strip(), "due": due.strip()}


def _print_plan(view: dict[str, Any], currency: str) -> None:
    import pyarrow as pa

    from ..frame import Frame
    from ..reports.plan import format_kpi

    current: PlanVersion | None = view["current"]
    name = view["name"] or view["account_id"]
    vip = f"VIP ({', '.join(view['vip'])})" if view["vip"] else f"not VIP ({view['rule']})"
    if current is None:
        say(f"{name} ({view['account_id']}): no plan yet; {vip}")
        say(f"create one: revbook plan create {view['account_id']} --goal ...")
        return
    say(
        f"{name} ({view['account_id']}): plan version {current.version} by {current.author}, "
        f"{current.recorded_at:%Y-%m-%d %H:%M} UTC; {vip}; figures on {view['on']} ({currency})"
    )
    out = console()
    plan = current.plan
    for field, label in (
        ("challenges", "Challenges"),
        ("goals", "Goals"),
        ("initiatives", "Key initiatives"),
        ("plays", "Next plays"),
    ):
        items = getattr(plan, field)
        out.print(f"\n{label}", style="bold", markup=False, highlight=False)
        out.print("\n".join(f"  - {i}" for i in items) if items else "  (none)", markup=False, highlight=False)
    if view["kpis"]:
        rows = [
            {
                "kpi": k["metric"],
                "now": format_kpi(k["live"], k["unit"]),
                "target": format_kpi(k["target"], k["unit"]),
                "due": k["due"],
                "status": k["status"],
            }
            for k in view["kpis"]
        ]
        print_frame(
            Frame("plan_kpis", pa.Table.from_pylist(rows)), title="KPIs", all_columns=True, numbers=("now", "target")
        )
    if view["offerings"]:
        rows = [
            {
                "offering": o["product"],
                "stage": o["stage"] or "–",
                "since": o["since"],
                "history": " > ".join(h["stage"] for h in o["history"]) or "–",
            }
            for o in view["offerings"]
        ]
        print_frame(
            Frame("plan_journey", pa.Table.from_pylist(rows)), title="offerings not owned yet", all_columns=True
        )


@plan_app.command(cls=RevbookCommand)
def vip(
    on: OnOpt = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
    limit: LimitOpt = None,
    all_: AllRowsOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """The VIP accounts ([vip] of revbook.toml), largest ARR first, and which rule makes each VIP."""
    from ..plans import unknown_listed, vip_accounts

    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws:
        frame = vip_accounts(ws, on)
        missing = unknown_listed(ws)
    if missing:
        say(f"warning: [vip] accounts lists ids no account has: {', '.join(missing)}", stderr=True)
    view = View.of(columns, wide, limit, all_)
    emit(frame, f"VIP accounts: {cfg.vip.describe()}", format, out, view=view, order="largest ARR first")


@plan_app.command(cls=RevbookCommand)
def show(
    account: AccountArg,
    on: OnOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """The account's current plan: its lists, each KPI's live figure against its target, and the
    decision journey of each offering it does not own yet."""
    from ..plans import plan_view

    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws:
        _print_plan(plan_view(ws, account, on), cfg.reporting_currency)


@plan_app.command(cls=RevbookCommand)
def create(
    account: AccountArg,
    file: FileOpt = None,
    challenge: ChallengeOpt = None,
    goal: GoalOpt = None,
    initiative: InitiativeOpt = None,
    play: PlayOpt = None,
    kpi: KpiOpt = None,
    stage: StageOpt = None,
    author: AuthorOpt = None,
    note: NoteOpt = None,
    force: Annotated[bool, typer.Option("--force", help="create it even if the account is not VIP")] = False,
    on: OnOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Create the account's plan (version 1), from options or a TOML/JSON file."""
    from ..plans import create_plan

    cfg = load_config(config, workspace, as_of)
    fields = _fields(file, challenge, goal, initiative, play, kpi, stage)
    with open_workspace(cfg, read_only=True) as ws:
        made = create_plan(ws, account, fields, author=_author(author), note=note, force=force, on=on)
    say(f"created the plan of {account}: version {made.version} by {made.author}")


@plan_app.command(cls=RevbookCommand)
def edit(
    account: AccountArg,
    version: Annotated[int, typer.Option("--version", help="the version you edit (the current one; see plan show)")],
    file: FileOpt = None,
    challenge: ChallengeOpt = None,
    goal: GoalOpt = None,
    initiative: InitiativeOpt = None,
    play: PlayOpt = None,
    kpi: KpiOpt = None,
    stage: StageOpt = None,
    author: AuthorOpt = None,
    note: NoteOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Save a new version of the account's plan: the version you edit with the fields you give
    (a list given replaces the old list; a stage given replaces that offering's stage)."""
    from ..plans import edit_plan

    cfg = load_config(config, workspace, as_of)
    fields = _fields(file, challenge, goal, initiative, play, kpi, stage)
    with open_workspace(cfg, read_only=True) as ws:
        made = edit_plan(ws, account, version, fields, author=_author(author), note=note)
    say(f"saved the plan of {account}: version {made.version} by {made.author}")


@plan_app.command(cls=RevbookCommand)
def history(
    account: AccountArg,
    journey: Annotated[bool, typer.Option("--journey", help="each offering's stages over the versions")] = False,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
    limit: LimitOpt = None,
    all_: AllRowsOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Every version of the account's plan, newest first (who, when, what changed), or with
    --journey each offering's decision-journey stages with the day each was reached."""
    from ..plans import journey_history, plan_history

    cfg = load_config(config, workspace, as_of)
    with open_workspace(cfg, read_only=True) as ws:
        frame = journey_history(ws, account) if journey else plan_history(ws, account)
    view = View.of(columns, wide, limit, all_)
    title = f"decision journey of {account}" if journey else f"plan history of {account}"
    emit(frame, title, format, out, view=view, all_columns=True)


@plan_app.command(cls=RevbookCommand)
def export(
    account: AccountArg,
    out: Annotated[Path | None, typer.Option(help="the HTML file (default: plan-<account>.html)")] = None,
    paper: Annotated[str, typer.Option(help="a4 or letter")] = "a4",
    on: OnOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write the account's plan as one printable HTML page (one sheet of A4 or Letter)."""
    from ..reports.plan import write_plan

    cfg = load_config(config, workspace, as_of)
    path = out or Path(f"plan-{account}.html")
    with open_workspace(cfg, read_only=True) as ws:
        written = write_plan(ws, account, path, paper=paper, on=on)
    say(f"wrote the plan of {account} to {written}")
