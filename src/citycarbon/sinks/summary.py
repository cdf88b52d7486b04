"""The sink summary of one year as plain data: the service behind ``citycarbon sinks`` (and the API).

Combines :func:`~citycarbon.sinks.accounting.account_sinks` (forest stock-difference + wetland/blue
carbon) with :func:`~citycarbon.sinks.indicators.forest_indicators` (projection to the plan years) into
one stable, JSON-ready dictionary, and flattens it into table rows for ``--format table|csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from citycarbon.errors import InputError
from citycarbon.provenance import hash_file
from citycarbon.sinks.accounting import SinkParameters, account_sinks
from citycarbon.sinks.indicators import PLAN_YEARS, forest_indicators

SUMMARY_COLUMNS: tuple[str, ...] = ("section", "item", "value", "unit", "low", "high", "status", "note")


def sink_summary(forest: pd.DataFrame, wetland: pd.DataFrame, year: int, params: SinkParameters | None = None,
                 *, region: str | None = None, input_files: Mapping[str, str | Path] | None = None) -> dict[str, Any]:
    """``{"year", "region", "forest", "wetland", "wetland_sink_tco2", "total_sink_tco2", "units",
    "projection", "provenance"}`` for ``year``.

    ``projection`` maps ``"2025"``/``"2030"`` to the growth-model indicators (value, low, high); if the
    data up to ``year`` cannot calibrate the model, it is empty and ``projection_note`` says why.
    ``input_files`` (name -> path) adds file hashes (besides the frame hashes) to the provenance.
    Bad input raises ``InputError``.
    """
    parameters = params if params is not None else SinkParameters.default()
    account = account_sinks(forest, wetland, year, parameters, region=region)
    projection: dict[str, dict[str, Any]] = {}
    note = None
    calibration = None
    try:
        indicators = forest_indicators(forest, account.year, parameters.forest, region=account.region,
                                       horizons=PLAN_YEARS)
        projection = {str(h): v for h, v in indicators["projection"].items()}
        calibration = indicators["calibration"]
        growth_rows = indicators["parameters"]
    except InputError as error:
        note = f"no projection: {error}"
        growth_rows = []
    provenance = account.provenance.to_dict()
    for name, path in (input_files or {}).items():
        provenance["inputs"][f"{name} file {Path(path).name}"] = hash_file(path)
    if growth_rows:
        provenance["projection_parameters"] = growth_rows
        provenance["calibration"] = calibration
    forest_part = account.forest.to_dict()
    data = {"year": account.year, "region": account.region, "forest": forest_part,
            "wetland": [line.to_dict() for line in account.wetland],
            "wetland_sink_tco2": account.wetland_sink_tco2, "total_sink_tco2": account.total_sink_tco2,
            "units": account.units, "projection": projection, "provenance": provenance}
    if note is not None:
        data["projection_note"] = note
    return data


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """A flat view of :func:`sink_summary` for tables and CSV (columns :data:`SUMMARY_COLUMNS`)."""
    forest = summary["forest"]
    statuses = sorted({p["status"] for p in forest["parameters"]})
    rows = [
        _row("forest", "stock_m3", forest["stock_m3"], "m**3", note=f"year {forest['stock_year']}"),
        _row("forest", "coverage", forest["coverage"], "1", note=f"year {forest['coverage_year']}"),
        _row("forest", "sink_tco2", forest["sink_tco2"], "t CO2/yr", status="/".join(statuses),
             note=forest["basis"]),
    ]
    for line in summary["wetland"]:
        rows.append(_row("wetland", line["ecosystem"], line["sink_tco2"], "t CO2/yr", status=line["status"],
                         note=f"{line['area_ha']:,.0f} ha x {line['rate']} {line['rate_unit']} "
                              f"(area {line['area_year']})"))
    rows.append(_row("total", "total_sink_tco2", summary["total_sink_tco2"], "t CO2/yr"))
    for horizon, entry in summary["projection"].items():
        for name, band in entry.items():
            rows.append(_row("projection", f"{horizon} {name}", band["value"], band["unit"], low=band["low"],
                             high=band["high"], status="estimate", note="growth model"))
    return rows


def _row(section: str, item: str, value: object, unit: str, *, low: object = None, high: object = None,
         status: str = "", note: str = "") -> dict[str, Any]:
    return {"section": section, "item": item, "value": value, "unit": unit, "low": low, "high": high,
            "status": status, "note": note}
