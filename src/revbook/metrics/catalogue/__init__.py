"""The customer-success metric catalogue: every metric beyond movements, retention and cohorts.

Each metric (definitions in docs/definitions.md "The CS metric catalogue") is one SQL definition of
facts and aggregates, in a module per feature: :mod:`.renewals`, :mod:`.onboarding`,
:mod:`.motions` and :mod:`.expansion`, named in :mod:`.registry`; :mod:`.compute` runs them all
the same way, and :mod:`.context` holds what a definition reads. Conventions of the definitions:

- a fact whose outcome needs a window that is still open on the as-of date and has not succeeded
  yet is **pending**: counted apart, in neither numerator nor denominator;
- MRR and ARR are minor units until printed (``money``); deal amounts are the loaded DECIMALs;
- an account's MRR on a day is the ledger's (:func:`revbook.ledger.account_mrr_sql`, through
  :meth:`Context.mrr_on`).
"""

from __future__ import annotations

from .compute import catalogue
from .context import Metric
from .registry import METRICS

__all__ = ["METRICS", "Metric", "catalogue"]
