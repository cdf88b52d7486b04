"""The facts an assessment scores: the collectors' contract.

A *collector* is a function ``(FactContext) -> {unit code: {fact key: Fact}}`` registered for the fact keys it
fills (:func:`collector`). :func:`collect_facts` calls the collectors the scheme needs (each once) and returns
every unit's facts; a key no collector fills is missing for every unit (the score says so).

Reproducibility: a collector reads the ledger *as of* ``ctx.as_of`` (the moment of the ledger version the run
scores: ``citycarbon.store.ledger`` ``as_of=``) and the other records (filings, supervision items, projects,
monitoring registrations) as they stood at ``ctx.as_of`` where they carry a time, so a re-run on the same
version gives the same facts. Facts carry their evidence (``Fact.evidence``) and whether they are estimates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from citycarbon.assessment import Fact

__all__ = ["COLLECTORS", "FactContext", "Unit", "collect_facts", "collector"]


@dataclass(frozen=True)
class Unit:
    """An assessed unit: an organisation of the governance registry (``gov_orgs``)."""

    code: str
    kind: str  # district | pilot_zone | department
    name_zh: str
    name_en: str
    region_code: str | None = None


@dataclass
class FactContext:
    """What a collector may read: the store, the city, the year, the moment and ledger version of the run, the
    units, and a scratch memo shared by the collectors of one run (e.g. the city data as of the version)."""

    db: Any  # citycarbon.store.db.Database
    city: str
    year: int
    as_of: datetime
    ledger_version: int
    units: list[Unit]
    memo: dict[str, Any] = field(default_factory=dict)

    def memoized(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


Collector = Callable[[FactContext], dict[str, dict[str, Fact]]]
#: fact key → the collector that fills it
COLLECTORS: dict[str, Collector] = {}


def collector(*keys: str) -> Callable[[Collector], Collector]:
    """Register a collector for ``keys`` (a decorator)."""

    def register(fn: Collector) -> Collector:
        for key in keys:
            COLLECTORS[key] = fn
        return fn

    return register


def _load_collectors() -> None:
    from citycarbon.services.assessment import facts_governance, facts_tracking  # noqa: F401  (registers)


def collect_facts(ctx: FactContext, keys: Iterable[str]) -> dict[str, dict[str, Fact]]:
    """Every unit's facts for ``keys`` (unit code → fact key → Fact); each collector runs once."""
    _load_collectors()
    wanted = list(dict.fromkeys(keys))
    out: dict[str, dict[str, Fact]] = {unit.code: {} for unit in ctx.units}
    done: set[int] = set()
    for key in wanted:
        fn = COLLECTORS.get(key)
        if fn is None or id(fn) in done:
            continue
        done.add(id(fn))
        for unit, facts in fn(ctx).items():
            if unit in out:
                out[unit].update({k: v for k, v in facts.items() if k in wanted})
    return out
