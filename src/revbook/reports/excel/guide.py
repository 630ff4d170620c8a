"""The sheets that explain the others: Checks (every formula against the engine), Definitions and README."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import definitions
from .facts import FIRST_ROW, HEADER_ROW, RATIO_TOLERANCE, Check, Facts
from .style import Formula, link_to, pass_fail_format, print_setup, put, put_headers, put_title, set_widths, sheet_ref

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = ["DEFINITIONS", "SHEET_NOTES", "WHERE", "checks_sheet", "definitions_sheet", "readme_sheet"]


def checks_sheet(wb: Workbook, facts: Facts, checks: list[Check]) -> None:
    sh = wb["Checks"]
    mu = facts.minor_units
    put_title(
        sh,
        "Checks: every workbook formula against the revbook engine",
        f"Money must equal the engine's to the cent (ROUND(x, {mu})), counts exactly, ratios within "
        f"{RATIO_TOLERANCE:g}. A cell that is not a number (an error, a blank) is a FAIL.",
    )
    families = list(dict.fromkeys(c.family for c in checks))
    header = HEADER_ROW + len(families) + 3
    first, last = header + 1, header + len(checks)
    result = f"$H${first}:$H${last}"
    put(sh, HEADER_ROW, 1, "All checks", "rb_label")
    put(sh, HEADER_ROW, 2, Formula(f'=IF(COUNTIF({result},"PASS")=ROWS({result}),"PASS","FAIL")'), "rb_result")
    put(sh, HEADER_ROW, 3, Formula(f'=COUNTIF({result},"PASS")&" of "&ROWS({result})&" pass"'))
    fam = f"$A${first}:$A${last}"
    for i, name in enumerate(families):
        r = HEADER_ROW + 1 + i
        put(sh, r, 1, name)
        put(
            sh,
            r,
            2,
            Formula(f'=IF(COUNTIFS({fam},A{r},{result},"PASS")=COUNTIF({fam},A{r}),"PASS","FAIL")'),
            "rb_result",
        )
        put(sh, r, 3, Formula(f'=COUNTIFS({fam},A{r},{result},"PASS")&" of "&COUNTIF({fam},A{r})&" pass"'))
    pass_fail_format(sh, f"B{HEADER_ROW}:B{HEADER_ROW + len(families)}")
    cols = [
        "family",
        "period",
        "figure",
        "workbook value",
        "engine value",
        "difference",
        "tolerance",
        "result",
        "go to",
    ]
    put_headers(sh, header, 1, cols)
    for i, c in enumerate(checks):
        r = first + i
        ref = sheet_ref(c.sheet)
        put(sh, r, 1, c.family)
        put(sh, r, 2, c.period)
        put(sh, r, 3, c.figure)
        style = {"money": "rb_money", "count": "rb_count", "ratio": "rb_ratio"}[c.kind]
        put(sh, r, 4, Formula(f"={ref}{c.cell}"), style)
        put(sh, r, 5, Formula(f"={ref}{c.engine}") if isinstance(c.engine, str) else c.engine, style)
        put(sh, r, 6, Formula(f'=IFERROR(D{r}-E{r},"")'), "rb_tolerance" if c.kind == "ratio" else style)
        if c.kind == "ratio":
            tol, value = RATIO_TOLERANCE, f"D{r}"
        elif c.kind == "count":
            tol, value = 0.5, f"ROUND(D{r},0)"
        else:
            tol, value = 0.5 * 10**-mu, f"ROUND(D{r},{mu})"
        put(sh, r, 7, tol, "rb_tolerance")
        put(
            sh,
            r,
            8,
            Formula(f'=IF(AND(ISNUMBER(D{r}),ISNUMBER(E{r})),IF(ABS({value}-E{r})<G{r},"PASS","FAIL"),"FAIL")'),
            "rb_result",
        )
        link = put(sh, r, 9, f"{c.sheet}!{c.cell}")
        link_to(link, c.sheet, c.cell)
    pass_fail_format(sh, f"H{first}:H{last}")
    sh.freeze_panes = f"A{first}"
    sh.auto_filter.ref = f"A{header}:I{last}"
    set_widths(sh, {"A": 16, "B": 10, "C": 34, "D": 16, "E": 16, "F": 14, "G": 12, "H": 9, "I": 22})
    print_setup(sh, f"A1:I{last}", title_rows=f"{header}:{header}")


#: where each term of the Definitions sheet is in this workbook
WHERE = {
    "mrr": "Accounts: start MRR, end MRR",
    "snapshot": "Accounts: period end",
    **{k: f"Waterfall: {k}" for k in definitions.MOVEMENT_KINDS},
    "identity": "Waterfall: identity (must be 0)",
    "retention_cohort": "Retention: cohort accounts",
    "nrr": "Retention: NRR",
    "grr": "Retention: GRR",
    "logo_retention": "Retention: logo retention",
    "arr": "—",  # not in this workbook
    "slice": "Accounts: segment, owner",
}
#: (term, definition, where in this workbook) of the Definitions sheet (revbook.definitions.WORKBOOK)
DEFINITIONS: list[tuple[str, str, str]] = [
    (t.sheet_label or t.label, t.sheet_text, WHERE[t.key]) for t in (definitions.TERMS[k] for k in definitions.WORKBOOK)
]


def definitions_sheet(wb: Workbook) -> None:
    from openpyxl.styles import Alignment

    sh = wb["Definitions"]
    put_title(sh, "Definitions", "From revbook's docs/definitions.md (the full text, with worked examples).")
    put_headers(sh, HEADER_ROW, 1, ["term", "definition", "in this workbook"])
    for i, (term, text, where) in enumerate(DEFINITIONS):
        r = FIRST_ROW + i
        put(sh, r, 1, term, "rb_label")
        put(sh, r, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
        put(sh, r, 3, where)
    set_widths(sh, {"A": 30, "B": 90, "C": 32})
    print_setup(sh, f"A1:C{FIRST_ROW + len(DEFINITIONS) - 1}", title_rows=f"{HEADER_ROW}:{HEADER_ROW}")


SHEET_NOTES = {
    "Checks": "PASS only when every formula's value equals the engine's; one row per figure, with a link to it.",
    "Waterfall": "MRR movements per month (start, new, reactivation, expansion, contraction, churn, end): SUMIFS "
    "over Accounts, with the identity column and the engine's figures beside.",
    "Retention": "NRR, GRR and logo retention over 1, 3 and 12-month windows: formulas over two columns of "
    "MRR by account.",
    "Book change": "Each CSM's book over the year: revbook's figures as facts, the end added up from its parts "
    "(the identity must be 0), and the part of the change that is not growth of the accounts held.",
    "MRR by account": "Accounts x periods of end MRR (SUMIFS over Accounts), totals per period on top.",
    "Accounts": "The facts: one row per account and period, values from the engine (not formulas).",
    "Definitions": "What each figure means (docs/definitions.md).",
}


def readme_sheet(wb: Workbook, facts: Facts) -> None:
    from openpyxl.styles import Alignment

    from ... import __version__

    sh = wb["README"]
    put_title(sh, "revbook: the auditable revenue workbook", "Every derived figure is a live formula over the facts.")
    first, last = facts.shown[0][0], facts.shown[-1][0]
    info: list[tuple[str, Any, str | None]] = [
        ("as of", facts.as_of, "rb_date_fact"),
        ("currency", facts.currency, None),
        (
            "months",
            f"{first} to {last} ({len(facts.shown)}), with {len(facts.periods) - len(facts.shown)} "
            "months of look-back for the retention windows",
            None,
        ),
        ("accounts", len({r["account_id"] for r in facts.rows}), "rb_count"),
        ("account-periods", len(facts.rows), "rb_count"),
        ("workspace", facts.workspace, None),
        ("written by", f"revbook {__version__}", None),
        ("all checks", Formula("=Checks!B4"), "rb_result"),
    ]
    for i, (k, v, style) in enumerate(info):
        put(sh, 4 + i, 1, k, "rb_label")
        put(sh, 4 + i, 2, v, style)
    check_row = 4 + len(info) - 1
    pass_fail_format(sh, f"B{check_row}")
    r = check_row + 2
    put_headers(sh, r, 1, ["sheet", "what it holds"])
    for i, (name, text) in enumerate(SHEET_NOTES.items()):
        cell = put(sh, r + 1 + i, 1, name)
        link_to(cell, name, "A1")
        put(sh, r + 1 + i, 2, text)
    r += len(SHEET_NOTES) + 2
    put(sh, r, 1, "How to audit a number", "rb_label")
    steps = [
        "1. Click the figure: the formula bar shows how it is computed (e.g. =SUMIFS(acc_end,acc_period_end,$B5,"
        'acc_movement,"new")); acc_* are named ranges, columns of the Accounts sheet (Formulas > Name Manager).',
        "2. Filter the Accounts sheet on the same period and movement to see every account behind it.",
        "3. The grey cells beside each figure are the revbook engine's own values (constants); the Checks sheet "
        "compares every figure with them, and links to each.",
        "4. Colours: blue text is a value typed in (the facts, the engine's constants); black text is a formula.",
        "5. Change a fact and the figures follow; the Checks sheet then shows which no longer match the engine.",
    ]
    for i, s in enumerate(steps):
        put(sh, r + 1 + i, 1, s).alignment = Alignment(wrap_text=False)
    set_widths(sh, {"A": 18, "B": 110})
    print_setup(sh, f"A1:B{r + len(steps)}")
