"""A validator for any registry table without a dedicated one (``data/tables.yaml``): columns, dtypes and
year ranges (pandera), codelists, units (parse; the reference unit's dimension where the registry ties the unit
to a code), signs and duplicate keys. Errors name the file, the row and the field.

Used for the ``target_values`` and ``target_allocations`` imports; the generic import workflow (issue 13 item
1) may replace it by its own registry-wide validator.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from citycarbon.codelists import nearest
from citycarbon.errors import Problems
from citycarbon.importers.schemas import (
    STATUSES,
    _check_code,
    _report_duplicates,
    _required_columns,
    _row,
    _run_schema,
    _strip,
    pandera_schema,
)
from citycarbon.tables import table
from citycarbon.units import dimensionality, is_unit

__all__ = ["registry_validator"]


def registry_validator(name: str) -> Callable[[pd.DataFrame, str], pd.DataFrame]:
    """The validator of the registry table ``name`` (returns the canonical frame; raises InputError)."""
    spec = table(name)
    schema = pandera_schema(spec)
    text_columns = tuple(c.name for c in spec.columns if c.dtype == "str")

    def validate(frame: pd.DataFrame, source: str = f"<{name}>") -> pd.DataFrame:
        problems = Problems()
        frame = _strip(frame, text_columns)
        _required_columns(frame, spec.required_on_import, source, problems)
        problems.raise_if_any()
        frame = frame.reset_index(drop=True)
        typed = _run_schema(schema, frame, source, problems)
        problems.raise_if_any()
        assert typed is not None
        for column in spec.columns:
            if column.codelist and column.name in typed.columns:
                valid = list(STATUSES) if column.codelist == "statuses" else column.codes()
                _check_code(typed, column.name, valid, source, problems, column.name,
                            allow_empty=column.nullable)
        rule = spec.unit_rule
        references = spec.reference_units()
        value = spec.value
        for index, row in typed.iterrows():
            if rule is not None:
                unit = row[rule.column]
                if not isinstance(unit, str) or not is_unit(unit):
                    problems.add(f"unknown unit '{unit}'", file=source, row=_row(index), field=rule.column,
                                 value=unit, suggestion=nearest(str(unit), list(set(references.values()))))
                elif rule.by and str(row[rule.by]) in references and (
                        dimensionality(unit) != dimensionality(references[str(row[rule.by])])):
                    problems.add(f"unit '{unit}' does not fit {rule.by} '{row[rule.by]}'", file=source,
                                 row=_row(index), field=rule.column, value=unit)
            number = row[value]
            if number is None or pd.isna(number) or number in (float("inf"), float("-inf")):
                problems.add("value is not a finite number", file=source, row=_row(index), field=value,
                             value=number)
            elif spec.column(value).nonnegative and number < 0:
                problems.add(f"negative value {number}", file=source, row=_row(index), field=value, value=number)
        _report_duplicates(typed, list(spec.key), source, problems, spec.key[-1])
        problems.raise_if_any()
        return typed

    return validate
