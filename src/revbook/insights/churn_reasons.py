"""Why customers leave: churn reasons classified, corrected, measured and ranked (Pareto).

Each ``churn_reasons`` row gets one reason, decided in order:

1. a manual correction (``churn_reason_corrections``, the latest one per account and date) wins;
2. else ``primary_reason`` (the picklist) when it has a value other than "other" / "n/a": the
   reason of the taxonomy (:mod:`.taxonomy`) it names by code, label or alias, or, when it names
   none, a reason of its own (its normalised text, :func:`.taxonomy.unmapped_code`, with the
   first-seen spelling as its label; listed by :func:`unmapped_reasons`). A picklist value is
   never reassigned by keywords;
3. else the keyword rules on ``comment``, when exactly one reason's rules match;
4. else the text model (:class:`.model.ReasonModel`) trained on the rows decided by 1-2 that have
   a comment;
5. else ``unknown``.

Every row says which step decided (``source``), how sure it is (``confidence``) and the words
that decided it (``evidence``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..definitions import LOSSES_SQL
from ..errors import ConfigError, WorkspaceError
from ..frame import Frame
from ..metrics import tables
from ..metrics.book import book_of
from .taxonomy import UNKNOWN, Taxonomy, normalise, taxonomy, unmapped_code

if TYPE_CHECKING:
    from ..store import Store
    from .model import ReasonModel

__all__ = ["CORRECTIONS_TABLE", "classify_reasons", "correct_reason", "pareto", "reason_events", "unmapped_reasons"]

CORRECTIONS_TABLE = "churn_reason_corrections"
#: fewer labelled comments than this and no model is trained (the rest stay unknown)
MIN_TRAINING_ROWS = 10
RULE_CONFIDENCE = 0.9


def _tax(reasons: Taxonomy | Mapping[str, object] | None) -> Taxonomy:
    return reasons if isinstance(reasons, Taxonomy) else taxonomy(reasons)


def _clean(text: object) -> str:
    """A comment as plain text for matching: HTML tags and control characters become spaces.

    The stored comment is never changed; this is only what the rules and the model read.
    """
    if not isinstance(text, str):
        return ""
    t = re.sub(r"<[^>]{0,200}>", " ", text)
    t = re.sub(r"[\x00-\x1f\x7f]+", " ", t)
    return t.replace("\u2019", "'").strip()


def _corrections(ws: Store) -> pa.Table | None:
    exists = ws.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [CORRECTIONS_TABLE]
    ).fetchone()
    if not exists or not exists[0]:
        return None
    return ws.con.execute(
        f"""SELECT account_id, date, reason, corrected_by, corrected_at FROM {CORRECTIONS_TABLE}
            QUALIFY row_number() OVER (PARTITION BY account_id, date ORDER BY corrected_at DESC, rowid DESC) = 1"""
    ).to_arrow_table()


class _Rules:
    """The keyword rules of a taxonomy, compiled once."""

    def __init__(self, tax: Taxonomy) -> None:
        self.rules = [(r.code, [re.compile(k, re.IGNORECASE) for k in r.keywords]) for r in tax.reasons if r.keywords]

    def match(self, text: str) -> tuple[list[str], list[str]]:
        """(reasons whose rules match, the matched words)."""
        codes, words = [], []
        for code, patterns in self.rules:
            hit = [m.group(0) for p in patterns if (m := p.search(text))]
            if hit:
                codes.append(code)
                words += hit
        return codes, words


def _decide(
    table: pa.Table,
    tax: Taxonomy,
    corrections: pa.Table | None,
    *,
    train: np.ndarray | None = None,
    truth: Sequence[str | None] | None = None,
    use_primary: bool = True,
    model: ReasonModel | None = None,
) -> dict[str, list[Any]]:
    """The decision of every row (see the module docstring), as columns.

    ``truth`` / ``train`` (for accuracy) train the model on the given labels of the ``train`` rows
    instead of steps 1-2; ``use_primary=False`` ignores primary_reason so comments are judged alone.
    """
    n = table.num_rows
    aliases = tax.aliases()
    accounts = table["account_id"].to_pylist()
    dates = table["date"].to_pylist()
    primary = table["primary_reason"].to_pylist() if "primary_reason" in table.column_names else [None] * n
    comments = table["comment"].to_pylist() if "comment" in table.column_names else [None] * n
    clean = [_clean(c) for c in comments]
    reason: list[str | None] = [None] * n
    source: list[str] = ["none"] * n
    confidence: list[float] = [0.0] * n
    evidence: list[str] = [""] * n
    fixed: dict[tuple[object, object], str] = {}
    if corrections is not None:
        for row in corrections.to_pylist():
            fixed[(row["account_id"], row["date"])] = row["reason"]
    for i in range(n):
        c = fixed.get((accounts[i], dates[i]))
        if c is not None:
            reason[i], source[i], confidence[i], evidence[i] = c, "correction", 1.0, "manual correction"
            continue
        p = normalise(primary[i]) if use_primary else ""
        code = aliases.get(p, unmapped_code(p)) if p else UNKNOWN
        if code != UNKNOWN:
            said = str(primary[i]) if p in aliases else f"{primary[i]} (a picklist value not in the taxonomy)"
            reason[i], source[i], confidence[i], evidence[i] = code, "primary_reason", 1.0, said
    rules = _Rules(tax)
    for i in range(n):
        if reason[i] is None and clean[i]:
            codes, words = rules.match(clean[i])
            if len(codes) == 1:
                reason[i], source[i], confidence[i] = codes[0], "rule", RULE_CONFIDENCE
                evidence[i] = ", ".join(dict.fromkeys(w.lower() for w in words))
    rest = [i for i in range(n) if reason[i] is None and clean[i]]
    if rest:
        if train is not None and truth is not None:
            learn = [int(i) for i in np.flatnonzero(train) if truth[int(i)] and clean[int(i)]]
            labels = [str(truth[i]) for i in learn]
        else:
            learn = [i for i in range(n) if source[i] in ("correction", "primary_reason") and clean[i]]
            labels = [str(reason[i]) for i in learn]
        if len(learn) >= MIN_TRAINING_ROWS and len(set(labels)) >= 2:
            from .model import ReasonModel

            m = model or ReasonModel()
            m.fit([clean[i] for i in learn], labels)
            proba = m.predict_proba([clean[i] for i in rest])
            pred = m.classes_[proba.argmax(axis=1)]
            why = m.explain([clean[i] for i in rest], list(pred))
            for j, i in enumerate(rest):
                reason[i], source[i] = str(pred[j]), "model"
                confidence[i] = round(float(proba[j].max()), 3)
                evidence[i] = ", ".join(why[j]) or "letter patterns only (misspelt or unseen words)"
    for i in range(n):
        if reason[i] is None:
            reason[i] = UNKNOWN
            evidence[i] = "no reason given" if not clean[i] else "too few labelled comments to train a model"
    return {"reason": reason, "source": source, "confidence": confidence, "evidence": evidence}


def _secondary(value: object, aliases: dict[str, str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    keys = [normalise(p) for p in re.split(r"[,;|]", value)]
    return ",".join(dict.fromkeys(aliases.get(k, unmapped_code(k)) for k in keys if k)) or None


def _unmapped_labels(table: pa.Table, tax: Taxonomy) -> dict[str, list[str]]:
    """Each picklist value no reason knows: its code -> its spellings, the first-seen (earliest
    date, then table order) first."""
    aliases = tax.aliases()
    if "primary_reason" not in table.column_names:
        return {}
    out: dict[str, list[str]] = {}
    rows = zip(table["date"].to_pylist(), range(table.num_rows), table["primary_reason"].to_pylist(), strict=True)
    for _, _, value in sorted(rows, key=lambda r: (r[0] is None, r[0] or dt.date.min, r[1])):
        key = normalise(value)
        if key and key not in aliases:
            spellings = out.setdefault(unmapped_code(key), [])
            if value.strip() not in spellings:
                spellings.append(value.strip())
    return out


def classify_reasons(ws: Store, *, reasons: Taxonomy | Mapping[str, object] | None = None) -> Frame:
    """Every ``churn_reasons`` row with its reason, the function that owns it, how it was decided.

    Columns: account_id, date, primary_reason, secondary_reasons (normalised to codes: a value no
    reason knows to its own code, as for the picklist), comment (as loaded: HTML and control
    characters are data, never rendered here), reason (a taxonomy code, or the code of a picklist
    value the taxonomy does not know), reason_label (for such a value: its first-seen spelling),
    owner_function (who owns fixing it; "unassigned" for such a value), source (correction,
    primary_reason, rule, model, none), confidence (0-1), evidence (the words that decided it).
    ``reasons`` overrides the default taxonomy (the ``[churn_reasons]`` section of revbook.toml).
    """
    tax = _tax(reasons)
    table = ws.table("churn_reasons").to_arrow()
    out = _decide(table, tax, _corrections(ws))
    aliases = tax.aliases()
    known = {r.code: r for r in tax.reasons}
    unmapped = _unmapped_labels(table, tax)
    labels = [known[r].label if r in known else unmapped.get(r, [r])[0] for r in out["reason"]]
    owners = [known[r].owner if r in known else "unassigned" for r in out["reason"]]
    return Frame(
        "churn_reasons_classified",
        pa.table(
            {
                "account_id": table["account_id"],
                "date": table["date"],
                "primary_reason": table["primary_reason"],
                "secondary_reasons": pa.array(
                    [_secondary(v, aliases) for v in table["secondary_reasons"].to_pylist()], pa.string()
                ),
                "comment": table["comment"],
                "reason": pa.array(out["reason"], pa.string()),
                "reason_label": pa.array(labels, pa.string()),
                "owner_function": pa.array(owners, pa.string()),
                "source": pa.array(out["source"], pa.string()),
                "confidence": pa.array(out["confidence"], pa.float64()),
                "evidence": pa.array(out["evidence"], pa.string()),
            }
        ),
    )


def correct_reason(
    ws: Store,
    account_id: str,
    date: str | dt.date,
    reason: str,
    *,
    by: str,
    reasons: Taxonomy | Mapping[str, object] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Record a manual correction of one churn reason; it wins over the picklist, rules and model.

    Stored in the workspace table ``churn_reason_corrections(account_id, date, reason, corrected_by,
    corrected_at)``, created if missing, in one transaction. The latest correction of a row wins.
    """
    tax = _tax(reasons)
    code = tax.lookup(str(reason))
    if code is None:
        raise ConfigError(f"unknown churn reason '{reason}'", hint=f"use one of: {', '.join(tax.codes)}")
    if not str(by).strip():
        raise ConfigError("a correction needs who made it (by=...)")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            raise ConfigError("date must be a date like 2025-01-31", value=date) from None
    found = ws.con.execute(
        "SELECT count(*) FROM churn_reasons WHERE account_id = ? AND date = ?", [account_id, date]
    ).fetchone()
    if not found or not found[0]:
        raise ConfigError(
            f"no churn reason for account '{account_id}' on {date.isoformat()}",
            table="churn_reasons",
            hint="list them with classify_reasons() (`revbook reasons`) and use an account_id and date shown",
        )
    at = at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        ws.con.execute("BEGIN TRANSACTION")
        ws.con.execute(
            f"""CREATE TABLE IF NOT EXISTS {CORRECTIONS_TABLE} (account_id VARCHAR NOT NULL, date DATE NOT NULL,
                reason VARCHAR NOT NULL, corrected_by VARCHAR NOT NULL, corrected_at TIMESTAMP NOT NULL)"""
        )
        ws.con.execute(f"INSERT INTO {CORRECTIONS_TABLE} VALUES (?, ?, ?, ?, ?)", [account_id, date, code, by, at])
        ws.con.execute("COMMIT")
    except Exception as exc:
        ws.con.execute("ROLLBACK")
        raise WorkspaceError(
            f"could not store the correction: {exc}", hint="is the workspace open read-only?"
        ) from None


def _config_code(code: str) -> str:
    """A code revbook.toml accepts ([a-z][a-z0-9_]*) for an unmapped value's own code."""
    ascii_ = unicodedata.normalize("NFKD", code).encode("ascii", "ignore").decode()
    out = re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", ascii_.lower())).strip("_")
    return out if re.fullmatch(r"[a-z][a-z0-9_]*", out) else f"reason_{out}".rstrip("_")


def unmapped_reasons(ws: Store, *, reasons: Taxonomy | Mapping[str, object] | None = None) -> Frame:
    """The picklist values no reason of the taxonomy knows, each kept as a reason of its own.

    One row per such reason, most rows first: reason (its code), label (the first-seen spelling),
    spellings (every spelling seen, " | "-separated), rows (churn reasons with it in the picklist),
    suggested (the one reason whose keyword rules match the value's own text, else null: a hint,
    never applied) and config (the revbook.toml lines that map it: under the suggested reason, or
    else under a code of its own to edit). Empty when every picklist value maps.
    """
    tax = _tax(reasons)
    table = ws.table("churn_reasons").to_arrow()
    spellings = _unmapped_labels(table, tax)
    counts: dict[str, int] = {}
    for value in table["primary_reason"].to_pylist() if spellings else ():
        code = unmapped_code(value)
        if code in spellings:
            counts[code] = counts.get(code, 0) + 1
    rules = _Rules(tax)
    rows = []
    for code in sorted(spellings, key=lambda c: (-counts.get(c, 0), c)):
        label = spellings[code][0]
        hits, _ = rules.match(label)
        suggested = hits[0] if len(hits) == 1 else None
        target = suggested or _config_code(code)
        rows.append(
            {
                "reason": code,
                "label": label,
                "spellings": " | ".join(spellings[code]),
                "rows": counts.get(code, 0),
                "suggested": suggested,
                "config": f"[churn_reasons.{target}]\naliases = [{json.dumps(label, ensure_ascii=False)}]",
            }
        )
    schema = pa.schema(
        [("reason", pa.string()), ("label", pa.string()), ("spellings", pa.string()), ("rows", pa.int64()),
         ("suggested", pa.string()), ("config", pa.string())]
    )  # fmt: skip
    return Frame("unmapped_picklist_values", pa.Table.from_pylist(rows, schema=schema))


# -- Pareto --------------------------------------------------------------------------------------


def _period_labels(ws: Store, dates: list[dt.date | None], grain: str) -> list[str | None]:
    cal = book_of(ws).calendar(grain)
    return [cal.label(cal.period_of(d)) if d is not None else None for d in dates]


def reason_events(
    ws: Store,
    *,
    by: Sequence[str] = (),
    grain: str = "quarter",
    reasons: Taxonomy | Mapping[str, object] | None = None,
    classified: Frame | None = None,
) -> pa.Table:
    """Each classified churn reason matched to its movement: the ledger's churn or contraction of the
    account in the month of the reason's date. ARR lost = 12 x (start_mrr - end_mrr) of that month
    (all of the account's ARR for a churn), in the reporting currency. Unmatched reasons keep 0 ARR
    and ``matched = false``. ``by`` slices (segment, owner, team, cohort, ...) are the account's at
    the movement's period start, as everywhere in revbook.
    """
    dims = [d for d in by if d != "period"]
    cls = (classified or classify_reasons(ws, reasons=reasons)).to_arrow()
    cls = cls.append_column("period", pa.array(_period_labels(ws, cls["date"].to_pylist(), grain), pa.string()))
    mv = tables.account_movements(ws, grain="month", by=dims or None, by_subscription=False).to_arrow()
    con = ws.con.cursor()
    try:
        con.register("rb_cls", cls)
        con.register("rb_mv", mv)
        cols = [
            c
            for c in mv.column_names
            if c not in ("period", "period_end", "account_id", "start_mrr", "end_mrr", "movement")
        ]
        dim_sel = "".join(f", coalesce(CAST(m.{c} AS VARCHAR), '(unmatched)') AS {c}" for c in cols)
        return con.execute(
            f"""SELECT c.account_id, c.date, c.period, c.reason, c.reason_label, c.owner_function, c.source,
                       c.confidence{dim_sel},
                       m.movement, m.movement IS NOT NULL AS matched,
                       CAST(coalesce(12 * (m.start_mrr - m.end_mrr), 0) AS DECIMAL(18, 2)) AS arr_lost,
                       CAST(coalesce(12 * m.start_mrr, 0) AS DECIMAL(18, 2)) AS arr_before
                FROM rb_cls c LEFT JOIN rb_mv m ON m.account_id = c.account_id
                     AND m.period = strftime(c.date, '%Y-%m') AND m.movement IN ({LOSSES_SQL})
                ORDER BY c.date, c.account_id"""
        ).to_arrow_table()
    finally:
        con.close()


def pareto(
    ws: Store,
    *,
    by: str | Sequence[str] | None = None,
    grain: str = "quarter",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    threshold: float = 0.8,
    reasons: Taxonomy | Mapping[str, object] | None = None,
    classified: Frame | None = None,
) -> Frame:
    """Reasons ranked by count and by ARR lost, with cumulative shares and the vital few.

    One row per reason (and slice of ``by``: ``period`` at ``grain``, segment, owner (CSM), team,
    cohort, ...): events (churns + contractions with a reason), churned_logos, contractions,
    arr_lost (churn plus contraction, see :func:`reason_events`), their shares and cumulative shares,
    rank_count and rank_arr, and vital_few_count / vital_few_arr: the smallest set of top reasons
    that explains ``threshold`` (80%) of the events / of the ARR lost. Rows are ordered by ARR lost.
    ``start`` / ``end`` keep reasons dated in that range.
    """
    from ..metrics.book import DIMENSIONS

    dims = [b.strip() for b in by.split(",")] if isinstance(by, str) else list(by or [])
    for d in dims:
        if d != "period" and d not in DIMENSIONS:
            raise ConfigError(f"unknown slice '{d}'", hint=f"slice by period or one of: {', '.join(DIMENSIONS)}")
    if not 0 < threshold <= 1:
        raise ConfigError("threshold must be a share between 0 and 1", value=threshold)
    ev = reason_events(ws, by=dims, grain=grain, reasons=reasons, classified=classified)
    group = [c for c in ev.column_names if c in dims or (c == "period" and "period" in dims)]
    if "owner" in dims:
        group.insert(group.index("owner") + 1, "owner_name")
    filters = ["true"]
    params: list[object] = []
    for value, op, name in ((start, ">=", "start"), (end, "<=", "end")):
        if value is not None:
            try:
                params.append(value if isinstance(value, dt.date) else dt.date.fromisoformat(value))
            except ValueError:
                raise ConfigError(f"{name} must be a date like 2025-01-31", value=value) from None
            filters.append(f"date {op} ?")
    part = f"PARTITION BY {', '.join(group)}" if group else ""
    g_sel = "".join(f"{g}, " for g in group)
    con = ws.con.cursor()
    try:
        con.register("rb_ev", ev)
        sql = f"""
            WITH agg AS (
                SELECT {g_sel}reason, any_value(reason_label) AS reason_label,
                       any_value(owner_function) AS owner_function,
                       CAST(count(*) AS BIGINT) AS events,
                       CAST(count(*) FILTER (WHERE movement = 'churn') AS BIGINT) AS churned_logos,
                       CAST(count(*) FILTER (WHERE movement = 'contraction') AS BIGINT) AS contractions,
                       CAST(count(*) FILTER (WHERE NOT matched) AS BIGINT) AS unmatched,
                       CAST(sum(arr_lost) AS DECIMAL(18, 2)) AS arr_lost
                FROM rb_ev WHERE {" AND ".join(filters)}
                GROUP BY {g_sel}reason
            ),
            ranked AS (
                SELECT *,
                       events / sum(events) OVER ({part}) AS share_count,
                       sum(events) OVER ({part} ORDER BY events DESC, reason ROWS UNBOUNDED PRECEDING)
                           / sum(events) OVER ({part}) AS cum_share_count,
                       CAST(arr_lost AS DOUBLE) / nullif(sum(arr_lost) OVER ({part}), 0) AS share_arr,
                       sum(arr_lost) OVER ({part} ORDER BY arr_lost DESC, reason ROWS UNBOUNDED PRECEDING)
                           / nullif(sum(arr_lost) OVER ({part}), 0) AS cum_share_arr,
                       row_number() OVER ({part} ORDER BY events DESC, reason) AS rank_count,
                       row_number() OVER ({part} ORDER BY arr_lost DESC, reason) AS rank_arr
                FROM agg
            )
            SELECT {g_sel}reason, reason_label, owner_function, events, churned_logos, contractions, unmatched,
                   arr_lost,
                   share_count, cum_share_count, share_arr, CAST(cum_share_arr AS DOUBLE) AS cum_share_arr,
                   rank_count, rank_arr,
                   cum_share_count - share_count < {threshold} AS vital_few_count,
                   coalesce(cum_share_arr - share_arr < {threshold}, false) AS vital_few_arr
            FROM ranked ORDER BY {g_sel}arr_lost DESC, events DESC, reason"""
        return Frame("pareto", con.execute(sql, params).to_arrow_table())
    finally:
        con.close()
