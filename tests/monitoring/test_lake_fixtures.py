"""Small literal registry and readings shared by the lake/ingest/rollup tests (no tests of its own).

Two enterprises in two Dalian districts; electricity (interval, CT ratio 2 on one point), natural gas in
m3, heat in GJ, and a cumulative electricity register with a known rollover value.
"""

from __future__ import annotations

import pandas as pd

from citycarbon.monitoring.registry import Registry, load_registry
from citycarbon.monitoring.uscc import uscc_check_character

LOCAL = "Asia/Shanghai"


def uscc(body: str) -> str:
    """A valid 18-character code from a 17-character body (GB 32100-2015 check character)."""
    return body + uscc_check_character(body)


def make_registry() -> Registry:
    enterprises = pd.DataFrame([
        {"enterprise_id": "E1", "name": "大连石化示例", "uscc": uscc("91210200MA0000001"), "industry_code": "2511",
         "region": "210211", "tier": "1", "annual_budget_tce": "120000", "budget_year": "2024"},
        {"enterprise_id": "E2", "name": "大连钢铁示例", "uscc": uscc("91210200MA0000002"), "industry_code": "3110",
         "region": "210213", "tier": "1", "annual_budget_tce": "", "budget_year": ""},
    ])
    points = pd.DataFrame([
        {"point_id": "E1-EL", "enterprise_id": "E1", "energy_type": "electricity", "unit": "kWh",
         "kind": "interval", "multiplier": "2", "parent_point_id": "", "interval_minutes": "15",
         "register_max": "", "purpose": "main"},
        {"point_id": "E1-NG", "enterprise_id": "E1", "energy_type": "natural_gas", "unit": "m**3",
         "kind": "interval", "multiplier": "1", "parent_point_id": "", "interval_minutes": "60",
         "register_max": "", "purpose": "main"},
        {"point_id": "E2-EL", "enterprise_id": "E2", "energy_type": "electricity", "unit": "kWh",
         "kind": "interval", "multiplier": "1", "parent_point_id": "", "interval_minutes": "15",
         "register_max": "", "purpose": "main"},
        {"point_id": "E2-HEAT", "enterprise_id": "E2", "energy_type": "heat", "unit": "GJ",
         "kind": "interval", "multiplier": "1", "parent_point_id": "", "interval_minutes": "60",
         "register_max": "", "purpose": "main"},
        {"point_id": "E2-REG", "enterprise_id": "E2", "energy_type": "electricity", "unit": "kWh",
         "kind": "cumulative", "multiplier": "1", "parent_point_id": "", "interval_minutes": "15",
         "register_max": "100000", "purpose": "main"},
    ])
    return load_registry({"enterprises": enterprises, "points": points})


def interval_rows(point: str, start: str, count: int, minutes: int, values: list[float] | None = None,
                  unit: str = "kWh", tz: str = "+08:00") -> pd.DataFrame:
    """``count`` consecutive intervals of ``point`` from local ``start`` as ISO strings with offset."""
    begin = pd.Timestamp(start)
    starts = [begin + pd.Timedelta(minutes=minutes * i) for i in range(count)]
    return pd.DataFrame({
        "point_id": point,
        "start": [s.strftime("%Y-%m-%dT%H:%M:%S") + tz for s in starts],
        "end": [(s + pd.Timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S") + tz for s in starts],
        "value": values if values is not None else [float(10 + i % 7) for i in range(count)],
        "unit": unit,
    })


#: the ingest clock of the tests: after every reading they write (ingest rejects readings ending more than 5 min
#: after its clock as readings from the future)
NOW = pd.Timestamp("2024-06-01T00:00:00Z")
