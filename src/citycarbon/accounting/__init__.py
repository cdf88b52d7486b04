"""Official energy and CO2 accounting from a city's energy balance (pure functions over DataFrames).

Entry point: :func:`account_energy_balance` (one year) and :func:`account_years` (a series with
year-on-year and five-year-period intensity reductions). See ``docs/accounting.md`` for the method.
"""

from citycarbon.accounting.engine import (
    METHOD_VERSION,
    AccountingResult,
    account_energy_balance,
    account_years,
    period_base_year,
)
from citycarbon.accounting.options import AccountingOptions

__all__ = [
    "METHOD_VERSION",
    "AccountingOptions",
    "AccountingResult",
    "account_energy_balance",
    "account_years",
    "period_base_year",
]
