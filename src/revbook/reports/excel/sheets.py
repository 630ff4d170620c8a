"""The figure sheets: Accounts (the facts), Waterfall, MRR by account, Retention; each formula beside the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...definitions import MOVEMENT_KINDS
from .facts import FIRST_ROW, GRID_FIRST_ROW, GRID_HEADER_ROW, HEADER_ROW, WINDOWS, Check, Facts, num
from .style import Formula, col_letter, print_setup, put, put_headers, put_title, set_widths, sheet_ref

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = ["accounts_sheet", "grid_sheet", "retention_sheet", "waterfall_sheet"]


def accounts_sheet(wb: Workbook, facts: Facts) -> dict[str, tuple[int, int]]:
    """The facts, one row per account and period; returns each account's first and last row."""
    from openpyxl.workbook.defined_name import DefinedName

    sh = wb["Accounts"]
    put_title(
        sh,
        "Accounts: the facts, one row per account and period",
        f"Values from the revbook engine (not formulas), {facts.currency}. A row for every account that had MRR at "
        "the period's start or end snapshot; start MRR is the previous snapshot. Movement is blank when MRR did not "
        "change. Segment and owner are the ones the account had at the period's start.",
    )
    cols = ["account_id", "name", "period", "period end", "segment", "owner", "start MRR", "end MRR", "movement"]
    put_headers(sh, HEADER_ROW, 1, cols)
    blocks: dict[str, tuple[int, int]] = {}
    names = facts.names
    for i, r in enumerate(facts.rows):
        row = FIRST_ROW + i
        aid = str(r["account_id"])
        put(sh, row, 1, aid, "rb_text_fact")
        put(sh, row, 2, names.get(aid, ""), "rb_text_fact")
        put(sh, row, 3, r["period"], "rb_text_fact")
        put(sh, row, 4, r["period_end"], "rb_date_fact")
        put(sh, row, 5, r.get("segment"), "rb_text_fact")
        put(sh, row, 6, r.get("owner_name") or r.get("owner"), "rb_text_fact")
        put(sh, row, 7, num(r["start_mrr"]), "rb_money_fact")
        put(sh, row, 8, num(r["end_mrr"]), "rb_money_fact")
        put(sh, row, 9, r["movement"], "rb_text_fact")
        first, _ = blocks.get(aid, (row, row))
        blocks[aid] = (first, row)
    last = FIRST_ROW + len(facts.rows) - 1
    for name, col in (
        ("acc_account", "A"),
        ("acc_period_end", "D"),
        ("acc_start", "G"),
        ("acc_end", "H"),
        ("acc_movement", "I"),
    ):
        wb.defined_names[name] = DefinedName(name, attr_text=f"Accounts!${col}${FIRST_ROW}:${col}${last}")
    sh.freeze_panes = f"B{FIRST_ROW}"
    sh.auto_filter.ref = f"A{HEADER_ROW}:I{last}"
    set_widths(sh, {"A": 12, "B": 30, "C": 9, "D": 12, "E": 13, "F": 22, "G": 15, "H": 15, "I": 13})
    print_setup(sh, f"A1:I{last}", title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    return blocks


def waterfall_sheet(wb: Workbook, facts: Facts, checks: list[Check]) -> None:
    sh = wb["Waterfall"]
    mu = facts.minor_units
    put_title(
        sh,
        "MRR waterfall",
        "Each figure is a SUMIFS over the Accounts sheet (named ranges acc_*). The identity column must be 0; "
        "the grey block on the right is the revbook engine's own figures, which the Checks sheet compares.",
    )
    cols = [
        "period",
        "period end",
        "start MRR",
        *MOVEMENT_KINDS,
        "end MRR",
        "identity (must be 0)",
        "accounts at end",
    ]
    figures = ["start MRR", *MOVEMENT_KINDS, "end MRR"]
    engine_cols = [*figures, "accounts"]
    put_headers(sh, HEADER_ROW, 1, cols)
    put_headers(sh, HEADER_ROW, 13, [f"engine: {c}" for c in engine_cols], "rb_header_engine")
    put(sh, HEADER_ROW - 1, 13, "revbook engine (constants)", "rb_label")

    def sumifs(column: str, row: int, movement: str | None = None) -> str:
        extra = f',acc_movement,"{movement}"' if movement else ""
        return f"SUMIFS({column},acc_period_end,$B{row}{extra})"

    keys = ["start_mrr", *(f"{k}_mrr" for k in MOVEMENT_KINDS), "end_mrr"]
    for i, (label, end) in enumerate(facts.shown):
        r = FIRST_ROW + i
        put(sh, r, 1, label)
        put(sh, r, 2, end, "rb_date_fact")
        formulas = [
            sumifs("acc_start", r),
            sumifs("acc_end", r, "new"),
            sumifs("acc_end", r, "reactivation"),
            f"{sumifs('acc_end', r, 'expansion')}-{sumifs('acc_start', r, 'expansion')}",
            f"{sumifs('acc_start', r, 'contraction')}-{sumifs('acc_end', r, 'contraction')}",
            sumifs("acc_start", r, "churn"),
            sumifs("acc_end", r),
        ]
        for j, f in enumerate(formulas):
            put(sh, r, 3 + j, Formula(f"=ROUND({f},{mu})"), "rb_money")
        put(sh, r, 10, Formula(f"=ROUND(C{r}+D{r}+E{r}+F{r}-G{r}-H{r}-I{r},{mu})"), "rb_money")
        put(sh, r, 11, Formula(f'=COUNTIFS(acc_period_end,$B{r},acc_end,">0")'), "rb_count")
        m = facts.movements.get(label)
        if m is None:
            continue
        for j, key in enumerate(keys):
            col = 13 + j
            put(sh, r, col, num(m[key]), "rb_money_engine")
            checks.append(
                Check(
                    "Waterfall",
                    label,
                    figures[j],
                    "Waterfall",
                    f"{col_letter(3 + j)}{r}",
                    f"{col_letter(col)}{r}",
                    "money",
                )
            )
        put(sh, r, 20, int(m["end_accounts"]), "rb_count_engine")
        checks.append(Check("Waterfall", label, "accounts at end", "Waterfall", f"K{r}", f"T{r}", "count"))
        checks.append(Check("Identity", label, "start+new+react+exp-contr-churn-end", "Waterfall", f"J{r}", 0, "money"))
    first, last = FIRST_ROW, FIRST_ROW + len(facts.shown) - 1
    t = last + 1
    put(sh, t, 1, "total", "rb_label")
    put(sh, t, 3, Formula(f"=C{first}"), "rb_money_total")
    for c in "DEFGH":
        put(sh, t, ord(c) - 64, Formula(f"=ROUND(SUM({c}{first}:{c}{last}),{mu})"), "rb_money_total")
    put(sh, t, 9, Formula(f"=I{last}"), "rb_money_total")
    put(sh, t, 10, Formula(f"=ROUND(C{t}+D{t}+E{t}+F{t}-G{t}-H{t}-I{t},{mu})"), "rb_money_total")
    sh.freeze_panes = f"C{FIRST_ROW}"
    set_widths(sh, {col_letter(c): 15 for c in range(3, 21)} | {"A": 10, "B": 12, "L": 3})
    print_setup(sh, f"A1:T{t}", title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    sh.row_dimensions[HEADER_ROW].height = 30


def grid_sheet(wb: Workbook, facts: Facts, blocks: dict[str, tuple[int, int]], checks: list[Check]) -> int:
    """Accounts x periods of end MRR, each cell a SUMIFS over the account's own rows of Accounts."""
    sh = wb["MRR by account"]
    mu = facts.minor_units
    put_title(
        sh,
        "MRR by account and period (end-of-period snapshot)",
        "Each cell is a SUMIFS over that account's rows of the Accounts sheet (sorted by account, so the range is "
        f"only its own rows). The first {len(facts.periods) - len(facts.shown)} period columns are the look-back "
        "the 12-month retention windows start from. Totals on top; the grey rows are the engine's.",
    )
    n_fixed = 3
    last_row = GRID_FIRST_ROW + len(blocks) - 1
    put_headers(sh, GRID_HEADER_ROW, 1, ["account_id", "name", "segment (latest)"])
    labels = ["Total MRR", "Total MRR, engine", "Accounts with MRR", "Accounts, engine"]
    for i, text in enumerate(labels):
        put(sh, 4 + i, 1, text, "rb_label")
    n_lookback = len(facts.periods) - len(facts.shown)
    for j, (label, end) in enumerate(facts.periods):
        c = col_letter(n_fixed + 1 + j)
        put(sh, GRID_HEADER_ROW, n_fixed + 1 + j, end, "rb_header").number_format = "yyyy-mm"
        if j == 0 and n_lookback:
            put(sh, 3, n_fixed + 1, "look-back for retention →", "rb_note")
        if j == n_lookback:
            put(sh, 3, n_fixed + 1 + j, "waterfall months →", "rb_note")
        rng = f"{c}{GRID_FIRST_ROW}:{c}{last_row}"
        put(sh, 4, n_fixed + 1 + j, Formula(f"=ROUND(SUM({rng}),{mu})"), "rb_money")
        put(sh, 6, n_fixed + 1 + j, Formula(f'=COUNTIF({rng},">0")'), "rb_count")
        m = facts.mrr.get(label)
        if m is not None:
            put(sh, 5, n_fixed + 1 + j, num(m["mrr"]), "rb_money_engine")
            put(sh, 7, n_fixed + 1 + j, int(m["accounts"]), "rb_count_engine")
            checks.append(Check("MRR by account", label, "total MRR", "MRR by account", f"{c}4", f"{c}5", "money"))
            checks.append(Check("MRR by account", label, "accounts", "MRR by account", f"{c}6", f"{c}7", "count"))
    segments: dict[str, Any] = {}
    for r in facts.rows:
        segments[str(r["account_id"])] = r.get("segment")
    first_period_col = n_fixed + 1
    for i, (aid, (lo, hi)) in enumerate(blocks.items()):
        row = GRID_FIRST_ROW + i
        put(sh, row, 1, aid, "rb_text_fact")
        put(sh, row, 2, facts.names.get(aid, ""), "rb_text_fact")
        put(sh, row, 3, segments.get(aid), "rb_text_fact")
        value = f"Accounts!$H${lo}:$H${hi}"
        account = f"Accounts!$A${lo}:$A${hi}"
        period = f"Accounts!$D${lo}:$D${hi}"
        for j in range(len(facts.periods)):
            c = col_letter(first_period_col + j)
            put(
                sh,
                row,
                first_period_col + j,
                Formula(f"=SUMIFS({value},{account},$A{row},{period},{c}${GRID_HEADER_ROW})"),
                "rb_money",
            )
    sh.freeze_panes = f"{col_letter(first_period_col)}{GRID_FIRST_ROW}"
    sh.auto_filter.ref = f"A{GRID_HEADER_ROW}:{col_letter(n_fixed + len(facts.periods))}{last_row}"
    set_widths(
        sh, {"A": 18, "B": 28, "C": 14} | {col_letter(first_period_col + j): 13 for j in range(len(facts.periods))}
    )
    # one column per period: three landscape pages wide (at about two thirds of full size), with the
    # account and the header on each (the demo's 1,862 accounts x 36 periods: 84 pages, 369 before)
    last_col = col_letter(n_fixed + len(facts.periods))
    area = f"A1:{last_col}{last_row}"
    print_setup(sh, area, title_rows=f"{GRID_HEADER_ROW}:{GRID_HEADER_ROW}", title_cols="A:B", pages_wide=3)
    return last_row


def retention_sheet(wb: Workbook, facts: Facts, last_grid_row: int, checks: list[Check]) -> None:
    sh = wb["Retention"]
    mu = facts.minor_units
    put_title(
        sh,
        "Retention by trailing window (cohort method)",
        "Cohort: accounts with MRR > 0 on the window's start snapshot. Each figure reads two columns of the "
        '\'MRR by account\' sheet (start S and end E): NRR = SUMIFS(E, S, ">0") / SUMIF(S, ">0"); GRR caps each '
        'account at its start MRR with SUMPRODUCT; logo retention = COUNTIFS(S, ">0", E, ">0") / COUNTIF(S, ">0").',
    )
    cols = [
        "window (months)",
        "period",
        "start snapshot",
        "end snapshot",
        "cohort accounts",
        "retained accounts",
        "start MRR",
        "end MRR",
        "retained MRR (capped)",
        "NRR",
        "GRR",
        "logo retention",
    ]
    engine = ["cohort accounts", "retained accounts", "start MRR", "end MRR", "retained MRR", "NRR", "GRR", "logo"]
    put_headers(sh, HEADER_ROW, 1, cols)
    put_headers(sh, HEADER_ROW, 14, [f"engine: {c}" for c in engine], "rb_header_engine")
    put(sh, HEADER_ROW - 1, 14, "revbook engine (constants)", "rb_label")
    index = {label: j for j, (label, _) in enumerate(facts.periods)}
    grid = sheet_ref("MRR by account")
    keys = [
        ("start_accounts", "count", "rb_count_engine"),
        ("retained_accounts", "count", "rb_count_engine"),
        ("start_mrr", "money", "rb_money_engine"),
        ("end_mrr", "money", "rb_money_engine"),
        ("retained_mrr", "money", "rb_money_engine"),
        ("nrr", "ratio", "rb_ratio_engine"),
        ("grr", "ratio", "rb_ratio_engine"),
        ("logo_retention", "ratio", "rb_ratio_engine"),
    ]
    figures = ["cohort accounts", "retained accounts", "start MRR", "end MRR", "retained MRR", "NRR", "GRR", "logo"]
    r = FIRST_ROW
    for w in WINDOWS:
        for label, _ in facts.shown:
            e = index[label]
            s = e - w
            engine_row = facts.retention.get((w, label))
            if s < 0 or engine_row is None or not engine_row["start_accounts"]:
                continue
            sc, ec = col_letter(4 + s), col_letter(4 + e)
            S = f"{grid}${sc}${GRID_FIRST_ROW}:${sc}${last_grid_row}"
            E = f"{grid}${ec}${GRID_FIRST_ROW}:${ec}${last_grid_row}"
            put(sh, r, 1, w, "rb_count")
            put(sh, r, 2, label)
            put(sh, r, 3, Formula(f"={grid}{sc}${GRID_HEADER_ROW}"), "rb_period")
            put(sh, r, 4, Formula(f"={grid}{ec}${GRID_HEADER_ROW}"), "rb_period")
            put(sh, r, 5, Formula(f'=COUNTIF({S},">0")'), "rb_count")
            put(sh, r, 6, Formula(f'=COUNTIFS({S},">0",{E},">0")'), "rb_count")
            put(sh, r, 7, Formula(f'=ROUND(SUMIF({S},">0"),{mu})'), "rb_money")
            put(sh, r, 8, Formula(f'=ROUND(SUMIFS({E},{S},">0"),{mu})'), "rb_money")
            put(sh, r, 9, Formula(f"=ROUND(SUMPRODUCT(({S}>0)*(({E}<{S})*{E}+({E}>={S})*{S})),{mu})"), "rb_money")
            put(sh, r, 10, Formula(f'=IF(G{r}>0,H{r}/G{r},"")'), "rb_ratio")
            put(sh, r, 11, Formula(f'=IF(G{r}>0,I{r}/G{r},"")'), "rb_ratio")
            put(sh, r, 12, Formula(f'=IF(E{r}>0,F{r}/E{r},"")'), "rb_ratio")
            for k, (key, kind, style) in enumerate(keys):
                value = engine_row[key]
                if value is None:
                    continue
                put(sh, r, 14 + k, int(value) if kind == "count" else num(value), style)
                checks.append(
                    Check(
                        "Retention",
                        label,
                        f"{w}m {figures[k]}",
                        "Retention",
                        f"{col_letter(5 + k)}{r}",
                        f"{col_letter(14 + k)}{r}",
                        kind,
                    )
                )
            r += 1
    sh.freeze_panes = f"C{FIRST_ROW}"
    sh.auto_filter.ref = f"A{HEADER_ROW}:L{max(r - 1, FIRST_ROW)}"
    set_widths(sh, {col_letter(c): 14 for c in range(1, 22)} | {"M": 3})
    print_setup(sh, f"A1:U{max(r - 1, FIRST_ROW)}", title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    sh.row_dimensions[HEADER_ROW].height = 30
