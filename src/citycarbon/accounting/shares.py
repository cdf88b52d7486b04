"""Shares of an accounting result, each defined once with its basis named.

Every table, key figure and chart of a page reads a share from here, so the same share cannot show two
values (the accounting page once showed coal at one value in the key figures — coal / 能源消费总量 — and at
another in the fuel pie, whose percentages ECharts computed over the positive slices only: a net exporter's
negative electricity row was left out of the denominator).

Basis ``energy_consumption_total``: a fuel group's energy (tce, the engine's production view: primary
electricity produced in the city in ``non_fossil``, electricity as the signed net inflow, on the result's
electricity method) divided by 能源消费总量 (``indicators["energy_consumption_tce"]``); the shares sum to 1,
and a net outflow's share is negative (NBS 能源消费构成; GB/T 2589-2020).
"""

from __future__ import annotations

from dataclasses import dataclass

from citycarbon.accounting.engine import AccountingResult

__all__ = ["SHARE_BASIS", "FuelGroupShare", "fuel_group_shares"]

#: the one basis of the fuel-group shares: the group's energy over total energy consumption (能源消费总量)
SHARE_BASIS = "energy_consumption_total"


@dataclass(frozen=True)
class FuelGroupShare:
    """A fuel group's energy and its share of total energy consumption on the result's method."""

    group: str
    energy_tce: float
    share: float | None  # None when the total is zero
    basis: str
    method: str


def fuel_group_shares(result: AccountingResult) -> dict[str, FuelGroupShare]:
    """Each fuel group's share of total energy consumption (basis :data:`SHARE_BASIS`), by group code.

    ``indicators["coal_share"]`` is ``fuel_group_shares(result)["coal"].share``."""
    total = result.indicators.get("energy_consumption_tce")
    method = str(result.electricity.get("method"))
    out: dict[str, FuelGroupShare] = {}
    for row in result.by_fuel_group.itertuples(index=False):
        energy = float(row.energy_tce)
        share = energy / total if total else None
        out[str(row.group)] = FuelGroupShare(str(row.group), energy, share, SHARE_BASIS, method)
    return out
