"""hypothesis strategies that draw long tables from the table registry (``data/tables.yaml``).

Every column is drawn from what the registry says about it: its codelist, its dtype and range, its unit rule
(the unit of each row is its code's reference unit, or a multiple of it), nullability. Rules the registry does
not state (the energy balance's flow/sector kinds, primary electricity only as production, signed flows) are
respected by drawing the balance's flow, sector and fuel together.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import strategies as st

from citycarbon.codelists import fuel_table, load_codelist
from citycarbon.tables import Column, Table
from citycarbon.units import same_dimension

#: units of several dimensions, to pick a wrong one from
UNITS = ("t", "10^4 t", "ha", "MW", "GJ", "10^4 kWh", "10^8 CNY", "10^4 person", "m**3", "10^4 m3", "tce",
         "dimensionless")
#: same-dimension spellings a row may use instead of the reference unit
_SCALED = {"t": ("t", "10^4 t"), "MW": ("MW", "GW"), "10^8 CNY": ("10^8 CNY", "10^4 CNY"),
           "10^4 kWh": ("10^4 kWh", "10^8 kWh"), "ha": ("ha", "km**2")}
_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)


def wrong_unit(reference: str) -> str:
    """A unit of another dimension than ``reference``."""
    return next(u for u in UNITS if not same_dimension(u, reference))


def _balance_codes() -> st.SearchStrategy[tuple[str, str | None, str]]:
    """(flow, sector, fuel) triples the importer accepts."""
    kinds = load_codelist("sectors")["kind"]
    fuels = fuel_table()
    primary = [str(f) for f in fuels.index if fuels.at[f, "primary_electricity"]]
    secondary = [str(f) for f in fuels.index if not fuels.at[f, "primary_electricity"]]
    by_kind = {kind: [str(s) for s in kinds.index if kinds[s] == kind] for kind in ("transformation", "final")}
    flows = [str(f) for f in load_codelist("flows").index]

    @st.composite
    def triple(draw) -> tuple[str, str | None, str]:
        flow = draw(st.sampled_from(flows))
        if flow in ("transformation_input", "transformation_output"):
            sector = draw(st.sampled_from(by_kind["transformation"]))
        elif flow in ("final_consumption", "non_energy_use"):
            sector = draw(st.sampled_from(by_kind["final"]))
        else:
            sector = None
        fuel = draw(st.sampled_from(primary + secondary if flow == "production" else secondary))
        return flow, sector, fuel

    return triple()


def _cell(column: Column, draw) -> object:
    if column.codelist is not None:
        return draw(st.sampled_from(column.codes()))
    if column.dtype == "int":
        low, high = column.range or (1949, 2100)
        value = draw(st.integers(low, high))
        return None if column.nullable and draw(st.booleans()) else value
    if column.name == "source":
        return draw(st.text(alphabet="abcdefghij 统计公报", min_size=1, max_size=20).map(str.strip)
                    .filter(bool))
    value = draw(_TEXT)
    return None if column.nullable and draw(st.booleans()) else value


@st.composite
def rows(draw, spec: Table, size: tuple[int, int] = (1, 6)) -> list[dict[str, object]]:
    """Rows of ``spec`` (typed Python values, ``None`` for missing) with unique keys."""
    references = spec.reference_units()
    rule = spec.unit_rule
    n = draw(st.integers(*size))
    out: list[dict[str, object]] = []
    keys: set[tuple] = set()
    for _ in range(n * 3):
        if len(out) == n:
            break
        row = {c.name: _cell(c, draw) for c in spec.columns if c.name not in (spec.value, "unit")}
        if spec.name == "balance":
            row["flow"], row["sector"], row["fuel"] = draw(_balance_codes())
        if rule is not None and rule.by is not None:
            reference = references[str(row[rule.by])]
            row["unit"] = draw(st.sampled_from(_SCALED.get(reference, (reference,))))
        else:
            row["unit"] = draw(st.sampled_from(("kWh", "tce", "dimensionless")))
        upper = spec.upper_bounds().get(str(row.get(rule.by))) if rule is not None and rule.by else None
        high = 1e6 if upper is None else upper
        if upper is not None:
            row["unit"] = references[str(row[rule.by])]  # the bound is in the reference unit
        row[spec.value] = draw(st.floats(0, high, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 3)))
        key = tuple(row[k] for k in spec.key)
        if key in keys:
            continue
        keys.add(key)
        out.append(row)
    return out


def as_text(spec: Table, records: list[dict[str, object]]) -> pd.DataFrame:
    """The rows as a CSV file reads them (``dtype=str``, empty cells missing), columns in registry order."""
    text = [{k: None if v is None else str(v) for k, v in r.items()} for r in records]
    return pd.DataFrame.from_records(text, columns=list(spec.column_names))


def fixed_rows(spec: Table, n: int) -> list[dict[str, object]]:
    """``n`` valid rows with distinct keys, without hypothesis (the first codes of each codelist)."""
    references = spec.reference_units()
    rule = spec.unit_rule
    out: list[dict[str, object]] = []
    for i in range(n):
        row: dict[str, object] = {}
        for column in spec.columns:
            if column.codelist is not None:
                codes = column.codes()
                row[column.name] = codes[i % len(codes)] if column.name in spec.dims else codes[0]
            elif column.dtype == "int":
                row[column.name] = (column.range or (2000, 2100))[0] + (i if column.name == "year" else 0)
            elif column.dtype == "str":
                row[column.name] = f"{column.name}_{i}"
        if spec.name == "balance":
            row["flow"], row["sector"], row["fuel"] = ("final_consumption", "steel", "raw_coal")
        row["unit"] = references[str(row[rule.by])] if rule is not None and rule.by else "kWh"
        row[spec.value] = 0.25 * (i + 1)
        out.append(row)
    return out
