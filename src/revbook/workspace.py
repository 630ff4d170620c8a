"""The workspace as users meet it: the store (one DuckDB file, atomic loads) with the metrics on
top, as methods. Each method is a one-way convenience over a function of :mod:`revbook.metrics`,
:mod:`revbook.quality` or :mod:`revbook.impact`; nothing below this module imports it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config, load_config
from .frame import Frame
from .store import LoadResult, Store

if TYPE_CHECKING:
    from .contract import Finding
    from .metrics.book import Book

__all__ = ["LoadResult", "Workspace", "open_workspace"]


class Workspace(Store):
    """An open workspace. Use it as a context manager, or call :meth:`close`.

    The metrics run on ``engine``: ``"duckdb"`` (the default, in the workspace itself) or
    ``"spark"``, on the session ``spark`` (default: the active one, else a local one). Spark reads
    the workspace's canonical tables, or those of a Parquet directory (``parquet=``, one
    ``<table>`` or ``<table>.parquet`` per table) or of a Spark catalog database (``database=``).
    """

    #: where a load keeps its contract checks' findings (each at its own severity) from before its
    #: commit to the data-quality findings it keeps after it: the same tables, not checked twice
    _CONTRACT = "quality.contract"

    def _load_checks(self, loaded: tuple[str, ...]) -> list[Finding]:
        """Every load runs the contract checks of :mod:`revbook.quality` before it commits (an error
        rejects it); the findings are read back with :meth:`load_warnings`."""
        from .quality import contract_findings, load_findings

        found = contract_findings(self)
        self._derived[self._CONTRACT] = found  # dropped with the derived stages: on a rollback, too
        return load_findings(self, loaded, found)

    def _keep_stages(self, *, changed: bool) -> None:
        """Every load keeps the shared stages and the data-quality findings in the workspace file
        (:mod:`revbook.metrics.kept`), so the commands after it read them instead of rebuilding."""
        from .errors import RevbookError
        from .metrics.kept import keep_stages

        contract = self._derived.pop(self._CONTRACT, None) if changed else None
        try:
            keep_stages(self, changed=changed, contract=contract)
        except RevbookError:
            # data the metrics cannot compute from (a price too large to hold exactly, say): the load
            # stands, nothing is kept, and the metrics raise the same error when asked, as before
            return

    @property
    def book(self) -> Book:
        """The shared stages every metric reads (built on first use, kept until the next load)."""
        from .metrics.book import book_of

        return book_of(self)

    def ledger(self, *, account: str | Sequence[str] | None = None) -> Frame:
        """The ledger lines: each line's MRR in the reporting currency, constant over its life."""
        from .metrics import tables

        return tables.ledger(self, account=account)

    def mrr(
        self,
        *,
        grain: str = "month",
        by: str | Sequence[str] | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        accounts: bool = False,
        account: str | Sequence[str] | None = None,
    ) -> Frame:
        """MRR and ARR at each period's snapshot, per slice; ``accounts=True`` gives one row per account
        (``account=`` keeps only the given account ids, and implies ``accounts=True``)."""
        from .metrics import tables

        return tables.mrr(self, grain=grain, by=by, start=start, end=end, accounts=accounts, account=account)

    def movements(
        self,
        *,
        grain: str = "month",
        by: str | Sequence[str] | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> Frame:
        """New, reactivation, expansion, contraction and churn per period (and slice), with counts."""
        from .metrics import tables

        return tables.movements(self, grain=grain, by=by, start=start, end=end)

    def account_movements(
        self,
        *,
        grain: str = "month",
        by: str | Sequence[str] | None = None,
        account: str | Sequence[str] | None = None,
        moved_only: bool = False,
    ) -> Frame:
        """One row per account and period it had MRR in, with its movement (the detail behind
        movements); ``moved_only``: only the rows with a movement (much faster on a large book)."""
        from .metrics import tables

        return tables.account_movements(self, grain=grain, by=by, account=account, moved_only=moved_only)

    def retention(
        self,
        *,
        window: int | Sequence[int] = (1, 3, 12),
        by: str | Sequence[str] | None = None,
        grain: str = "month",
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> Frame:
        """NRR, GRR, logo retention and the movement measures over trailing windows (months)."""
        from .metrics import tables

        return tables.retention(self, window=window, by=by, grain=grain, start=start, end=end)

    def revenue(
        self,
        *,
        grain: str = "month",
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        accounts: bool = False,
    ) -> Frame:
        """Recognised revenue per period (day by day, exact), beside MRR; for finance."""
        from .metrics import tables

        return tables.revenue(self, grain=grain, start=start, end=end, accounts=accounts)

    def reconcile(self, *, grain: str = "month") -> Frame:
        """Subscription MRR against invoice MRR, per account and period, for accounts in both."""
        from .metrics.reconcile import reconcile

        return reconcile(self, grain=grain)

    def why_numbers_differ(
        self, *, against: str | Path | dict[str, Any] = "invoices", grain: str = "month", accounts: bool = False
    ) -> Frame:
        """revbook's MRR beside invoices or a user's totals, the difference split by cause."""
        from .metrics.reconcile import why_numbers_differ

        return why_numbers_differ(self, against=against, grain=grain, accounts=accounts)

    def cohorts(
        self,
        *,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        triangle: str | None = None,
    ) -> Frame:
        """Vintage triangles: logo retention and NRR by months since first MRR (long form, or
        ``triangle="logo_retention"`` / ``"nrr"``: one row per cohort, one column per month of age)."""
        from .metrics import tables

        return tables.cohorts(self, start=start, end=end, triangle=triangle)

    def catalogue(
        self,
        metric: str | None = None,
        *,
        grain: str = "quarter",
        by: str | Sequence[str] | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        accounts: bool = False,
    ) -> Frame:
        """A metric of the CS catalogue (renewal rate, time to value, QBR conversion, NPS beside
        retention, ...) per period and slice, with its numerator and denominator; ``metric=None``
        gives every metric's headline; ``accounts=True`` the facts behind it (docs/definitions.md)."""
        from .metrics.catalogue import catalogue

        frame: Frame = catalogue(self, metric, grain=grain, by=by, start=start, end=end, accounts=accounts)
        return frame

    # -- who moved the number (revbook.impact) ----------------------------------------------
    def attribution(
        self,
        *,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        owner: str | None = None,
    ) -> Frame:
        """Every expansion account-month with who or what drove it (csm, ae, product, self_serve,
        price or ambiguous), the rule that decided and its evidence (docs/attribution.md)."""
        from .impact.attribution import expansions

        return expansions(self, start=start, end=end, owner=owner)

    def attribution_summary(self, *, window: int = 12, by: str | None = None) -> Frame:
        """Expansion ARR per class over the trailing ``window`` months, NRR with and without
        product-driven expansion and GRR; ``by="csm"``: per CSM, with the expansion each influenced."""
        from .impact.attribution_summary import summary

        return summary(self, window=window, by=by)

    def concentration(
        self,
        *,
        window: int | None = None,
        tops: Sequence[int] | None = None,
        by: str | Sequence[str] | None = None,
    ) -> Frame:
        """NRR, GRR and logo retention of the trailing window with and without the top expanding
        accounts, the share of expansion they hold and the churn expansion masks, in a sentence
        (docs/concentration.md)."""
        from .impact.concentration import concentration

        return concentration(self, window=window, tops=tops, by=by)

    def concentration_alerts(self, *, window: int | None = None, by: str | Sequence[str] | None = None) -> list[Any]:
        """The [concentration] alerts: NRR carried by a few accounts, logo and dollar retention apart."""
        from .impact.concentration import alerts

        return alerts(self, window=window, by=by)

    def book_change(
        self,
        *,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        owner: str | None = None,
    ) -> Frame:
        """Each CSM's book from ``start`` to ``end``: managed ARR at both dates, new, transferred in and
        out, and the growth of the accounts held, adding up to the cent (docs/concentration.md)."""
        from .impact.book import book_change

        return book_change(self, start=start, end=end, owner=owner)

    def csm_impact(
        self,
        *,
        window: int | None = None,
        end: str | dt.date | None = None,
        owner: str | None = None,
    ) -> Frame:
        """Each CSM's GRR, NRR and logo retention against what models that do not know the CSM expect
        of their book, with a bootstrap interval and a verdict (docs/csm-impact.md)."""
        from .impact.csm import csm_impact

        return csm_impact(self, window=window, end=end, owner=owner)

    def capacity(self, *, on: str | dt.date | None = None, owner: str | None = None) -> Frame:
        """Each CSM's load weighted by account complexity beside their managed ARR (docs/csm-impact.md)."""
        from .impact.capacity import capacity

        return capacity(self, on=on, owner=owner)

    def saves(
        self,
        *,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        owner: str | None = None,
    ) -> Frame:
        """Every claimed save (an at-risk episode that then renewed) with the churn probability the
        health model would have given on its flag date, the segment's base rate, the verdict
        (credible, never really at risk, uncertain) and the expected ARR saved (docs/saves.md)."""
        from .impact.saves import saves

        return saves(self, start=start, end=end, owner=owner)

    def impact_statements(
        self,
        *,
        owner: str | None = None,
        team: str | None = None,
        segment: str | None = None,
        window: int | None = None,
        end: str | dt.date | None = None,
    ) -> Frame:
        """Verified impact statements of a CSM, team or segment (every CSM when none is given): the
        metric before and after with its interval, the method from the activities, and the claims
        refused with the reason (docs/impact-statements.md)."""
        from .impact.statements import statements

        return statements(self, owner=owner, team=team, segment=segment, window=window, end=end)

    # -- the NRR/GRR forecast from RUM (revbook.rum.forecast) --------------------------------
    def forecast(
        self,
        *,
        on: str | dt.date | None = None,
        horizons: Sequence[int] | None = None,
        by: str | None = None,
        draws: int | None = None,
        seed: int | None = None,
    ) -> Frame:
        """Expected NRR, GRR and logo retention of the accounts paying on ``on`` over each horizon
        (months), with the [forecast] interval, by segment, owner or team (docs/forecast.md)."""
        from .rum.forecast import forecast

        return forecast(self, on=on, horizons=horizons, by=by, draws=draws, seed=seed)

    def forecast_backtest(
        self,
        *,
        dates: Sequence[dt.date] | None = None,
        horizons: Sequence[int] | None = None,
        months: int | None = None,
        summary: bool = False,
    ) -> Frame:
        """The forecast made on past month ends against what happened and beside the naive forecast
        (the trailing ratio known then); ``summary=True``: per horizon and metric, the mean absolute
        error in points, the bias and the interval's coverage, model and naive (docs/forecast.md)."""
        from .rum.forecast_backtest import forecast_backtest
        from .rum.forecast_backtest import summary as summarise

        frame = forecast_backtest(self, dates=dates, horizons=horizons, months=months)
        return summarise(frame) if summary else frame

    def renewals(self, *, on: str | dt.date | None = None, within: int = 180, owner: str | None = None) -> Frame:
        """The renewal book: accounts with a renewal due in the next ``within`` days of ``on``, with
        ARR, likelihood to renew, committed or not (and by what), risk reasons, the last touch and the
        owner (docs/renewals.md); :func:`revbook.rum.renewals.summary_of` sums it by bucket."""
        from .rum.renewals import renewal_book

        return renewal_book(self, on=on, within=within, owner=owner)

    def renewal_rate(
        self, *, by: str = "due_month", end: str | dt.date | None = None, owner: str | None = None
    ) -> Frame:
        """The logo and dollar renewal rate per cohort of due date (``by``: due_month, due_quarter or
        due_year), up to ``end``; ``owner``: one CSM's renewals (docs/renewals.md)."""
        from .rum.renewals import renewal_rate

        return renewal_rate(self, by=by, end=end, owner=owner)

    def check(self) -> Frame:
        """Data-quality findings with severities (error, warning, info)."""
        from .metrics.kept import kept_checks
        from .quality import run_checks

        kept = kept_checks(self)
        return Frame("check", kept if kept is not None else run_checks(self))

    def headline(self) -> dict[str, Any]:
        """The figures a CS leader asks for first, at the as-of date."""
        from .metrics import tables

        return tables.headline(self)


def open_workspace(
    path: str | Path | None = None,
    *,
    config: Config | str | Path | None = None,
    read_only: bool = False,
    engine: str = "duckdb",
    spark: Any = None,
    parquet: str | Path | None = None,
    database: str | None = None,
) -> Workspace:
    """Open (or create) a workspace. ``config`` is a :class:`Config` or the path of a revbook.toml;
    ``engine``, ``spark``, ``parquet`` and ``database`` choose where the metrics run (see :class:`Workspace`)."""
    if not isinstance(config, Config):
        config = load_config(config)
    return Workspace(
        path, config=config, read_only=read_only, engine=engine, spark=spark, parquet=parquet, database=database
    )
