"""Import of statistical tables (energy balances, statistics) from CSV and the Excel template.

Validation happens here, at the boundary, with pandera schemas; errors name the file, the row (as a
person counts it, header excluded) and the field, with the nearest valid name. A file either imports
whole or not at all: validation runs on the complete table before anything is returned.
"""

from citycarbon.importers.schemas import (
    BALANCE_COLUMNS,
    STATISTICS_COLUMNS,
    validate_balance,
    validate_statistics,
)
from citycarbon.importers.tables import TABLES, read_table, read_workbook

__all__ = [
    "BALANCE_COLUMNS",
    "STATISTICS_COLUMNS",
    "TABLES",
    "read_table",
    "read_workbook",
    "validate_balance",
    "validate_statistics",
]
