"""Golden outputs of the shipped scenarios, stored so that an unintended model change shows up in tests.

Regenerate after an intended change (and say why in the commit)::

    .venv/bin/python -m citycarbon.pathways.golden
"""

from __future__ import annotations

import json
from pathlib import Path

from citycarbon.data import data_path

GOLDEN_SCENARIOS = ("BAU", "Plan")
GOLDEN_SERIES = ("co2_emissions_t", "energy_consumption_tce", "non_fossil_share", "wind_solar_capacity_mw",
                 "net_co2_emissions_t", "forest_stock_m3", "gdp_10k_yuan")


def golden_path(name: str) -> Path:
    return data_path(f"pathways/golden/{name}.json")


def golden_record(name: str, city: str = "dalian") -> dict:
    """The golden record of scenario ``name``: code, peak and the main series (every year)."""
    from citycarbon.pathways import build_model, load_scenario

    result = build_model(city).run(load_scenario(name)).to_dict()
    return {"scenario": name, "code": result["code"], "peak_year": result["peak_year"],
            "peak_value": result["peak_value"], "years": result["years"],
            "series": {k: result["series"][k] for k in GOLDEN_SERIES},
            "targets": {t["id"]: t["met"] for t in result["targets"]}}


def write_golden() -> list[Path]:
    written = []
    for name in GOLDEN_SCENARIOS:
        path = golden_path(name)
        path.write_text(json.dumps(golden_record(name), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_golden():
        print(written_path)
