"""Standard-coal conversion of balance rows (GB/T 2589-2020; NBS 发电煤耗法 for electricity).

Electricity is never converted as a unit: the calorific method uses the tabulated 当量值 factor row
(GB/T 2589 Annex A, a factor row) and the coal-equivalent method the year's thermal-power coal
consumption rate (coal_rate factor row), applied to electricity and primary electricity alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from citycarbon.accounting.options import AccountingOptions
from citycarbon.codelists import fuel_table
from citycarbon.errors import InputError, Problem
from citycarbon.factors import FactorNotFound, FactorRow, FactorTable
from citycarbon.units import UnitError, dimension, product_factor

ELECTRICITY = "electricity"
HEAT = "heat"
_ENERGY_DIMENSION = dimension("tce")  # a pint object: dimensions are compared as objects, never as text


@dataclass(frozen=True)
class CoalFactor:
    """A standard-coal coefficient for one fuel: ``tce = quantity × value`` in ``unit`` (or direct)."""

    fuel: str
    value: float | None  # None: the quantity is already energy and converts by unit
    unit: str | None
    row: FactorRow | None
    method: str  # "factor", "coal_rate", "energy_unit"


def electricity_factor(table: FactorTable, year: int, options: AccountingOptions) -> CoalFactor:
    """kgce per kWh for electricity under ``options.method`` (see module docstring)."""
    if options.method == "calorific":
        row = table.lookup("standard_coal", ELECTRICITY, year, factor_set=options.standard_coal_set)
        return CoalFactor(ELECTRICITY, row.value, row.unit, row, "factor")
    row = table.lookup("coal_rate", options.coal_rate_key, year)
    return CoalFactor(ELECTRICITY, row.value, row.unit, row, "coal_rate")


def coal_factors(fuels: list[str], year: int, table: FactorTable, options: AccountingOptions,
                 units_by_fuel: dict[str, set[str]]) -> dict[str, CoalFactor]:
    """Standard-coal coefficient for each fuel present in a balance year."""
    fuel_info = fuel_table()
    out: dict[str, CoalFactor] = {}
    electric = None
    for fuel in fuels:
        is_electric = fuel == ELECTRICITY or bool(fuel_info.at[fuel, "primary_electricity"])
        if is_electric:
            electric = electric or electricity_factor(table, year, options)
            out[fuel] = CoalFactor(fuel, electric.value, electric.unit, electric.row, electric.method)
            continue
        try:
            row = table.lookup("standard_coal", fuel, year, factor_set=options.standard_coal_set)
            out[fuel] = CoalFactor(fuel, row.value, row.unit, row, "factor")
        except FactorNotFound:
            units = units_by_fuel.get(fuel, set())
            if units and all(dimension(u) == _ENERGY_DIMENSION for u in units):
                out[fuel] = CoalFactor(fuel, None, None, None, "energy_unit")
            else:
                raise InputError(Problem(
                    f"no standard-coal coefficient for fuel '{fuel}' in {year} (factor set "
                    f"{options.standard_coal_set}); give the quantity in an energy unit such as tce, or add "
                    "a factor row", field="fuel", value=fuel)) from None
    return out


def rows_to_tce(frame: pd.DataFrame, factors: dict[str, CoalFactor]) -> pd.Series:
    """tce of every row of ``frame`` (columns fuel, quantity, unit), unsigned."""
    multipliers: dict[tuple[str, str], float] = {}
    for fuel, unit in frame[["fuel", "unit"]].drop_duplicates().itertuples(index=False):
        factor = factors[fuel]
        try:
            if factor.value is None:
                multipliers[(fuel, unit)] = product_factor(unit, "dimensionless", "tce")
            else:
                multipliers[(fuel, unit)] = factor.value * product_factor(unit, factor.unit, "tce")
        except UnitError as exc:
            raise InputError(Problem(f"quantity unit '{unit}' does not fit the coefficient of '{fuel}' "
                                     f"({factor.unit}): {exc}", field="unit", value=unit)) from exc
    keys = list(zip(frame["fuel"], frame["unit"], strict=True))
    return frame["quantity"].astype(float) * pd.Series([multipliers[k] for k in keys], index=frame.index)
