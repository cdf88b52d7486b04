"""The year's energy flow (能流图) as a service: the accounting of ``year`` on an electricity method, and the
energy flow and fuel-group shares drawn from that same result (:mod:`citycarbon.accounting.flows`,
:mod:`citycarbon.accounting.shares`), so the Sankey and the accounting tables show the same totals.

The data follow :func:`citycarbon.services.accounting.account_city`: ``dataset`` when given (the ledger's,
e.g. the app's results cache), else ``source`` (the ledger when a database exists, else the shipped files).
Read-only; every role that may read the accounts may read it (no principal, as the accounting service).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from citycarbon.accounting import AccountingResult
from citycarbon.accounting.flows import EnergyFlows, energy_flows
from citycarbon.accounting.shares import SHARE_BASIS, FuelGroupShare, fuel_group_shares
from citycarbon.datasets import ReferenceDataset
from citycarbon.errors import InputError, Problem
from citycarbon.services.accounting import account_city, load_inputs
from citycarbon.services.sources import Source

__all__ = ["METHODS", "EnergyFlowReport", "energy_flow"]

#: the electricity methods (AccountingOptions.method)
METHODS = ("coal-equivalent", "calorific")


@dataclass(frozen=True)
class EnergyFlowReport:
    """One year's energy flow, the fuel-group shares and the accounting result they were drawn from."""

    flows: EnergyFlows
    shares: dict[str, FuelGroupShare]
    accounts: AccountingResult

    def to_dict(self) -> dict[str, Any]:
        result = self.accounts
        return {
            **self.flows.to_dict(),
            "share_basis": SHARE_BASIS,
            "shares": {g: {"energy_tce": s.energy_tce, "share": s.share} for g, s in self.shares.items()},
            "accounts": {
                "energy_consumption_tce": result.indicators.get("energy_consumption_tce"),
                "coal_share": result.indicators.get("coal_share"),
                "by_sector": {str(r.sector): float(r.energy_tce) for r in result.by_sector.itertuples()},
            },
        }


def _check_method(method: str | None) -> None:
    if method is not None and method not in METHODS:
        raise InputError(Problem(f"unknown electricity method '{method}'", field="method", value=method,
                                 suggestion=" or ".join(METHODS)))


def energy_flow(year: int, *, city: str = "dalian", method: str | None = None,
                dataset: ReferenceDataset | None = None, source: str | Source | None = None,
                accounts: AccountingResult | None = None) -> EnergyFlowReport:
    """The energy flow of ``year`` on ``method`` (None: the city's accounting profile).

    ``accounts``: an accounting result of that year already computed on the same data and method (the app's
    cache), else the year is accounted here."""
    _check_method(method)
    inputs = load_inputs(city, dataset=dataset, source=source)
    result = accounts if accounts is not None else account_city(year, city=city, method=method,
                                                                  dataset=dataset, source=source)
    if result.year != year:
        raise InputError(Problem(f"the accounts given are of {result.year}, not {year}", field="year",
                                 value=year))
    return EnergyFlowReport(energy_flows(inputs.balance, result), fuel_group_shares(result), result)
