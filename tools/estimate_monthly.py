"""Write ``src/citycarbon/data/dalian/monthly.csv``: monthly indicators 2015–2024 (estimates) for the nowcast.

Deterministic (fixed seed). Each monthly series is consistent with the annual Dalian dataset as accounted by
``citycarbon.services.accounting.account_city_years``:

* ``electricity_consumption_kwh``: the year's electricity consumption × a seasonal profile (heating-season
  and summer peaks) with 1.5 % noise, rescaled so the twelve months sum to the annual value;
* ``key_unit_energy_tce``: energy use of key energy-using units (重点用能单位, ≥ 10 000 tce, methods.md §5)
  = the year's total energy consumption × a key-unit share drifting from 60 % to 58 % × the industrial
  profile, with 2 % noise (not rescaled: key units are a subset and report with error);
* ``industrial_output_index``: 规上工业增加值 volume index (2015 monthly mean = 100) following GDP at constant
  prices × the industrial profile with 2 % noise.

The profiles, shares and noise levels are assumptions of this script (status ``estimate``); replace the file
with the statistics bureau's monthly releases (methods.md §8.0a) when they are at hand.
Run: ``python tools/estimate_monthly.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from citycarbon.services.accounting import account_city_years

SEED = 20_150_101
OUT = Path(__file__).resolve().parents[1] / "src" / "citycarbon" / "data" / "dalian" / "monthly.csv"
REGION = "210200"
SOURCE = "citycarbon estimate: tools/estimate_monthly.py (annual dataset × seasonal profile + noise)"
ELECTRICITY_PROFILE = np.array([1.10, 0.92, 1.00, 0.95, 0.96, 0.98, 1.06, 1.08, 0.97, 0.96, 0.99, 1.08])
INDUSTRY_PROFILE = np.array([0.92, 0.78, 1.02, 1.01, 1.03, 1.05, 1.00, 1.01, 1.04, 1.02, 1.03, 1.09])
KEY_UNIT_SHARE = (0.60, 0.58)  # first year, last year (linear in between)
NOISE = {"electricity_consumption_kwh": 0.015, "key_unit_energy_tce": 0.02, "industrial_output_index": 0.02}


def main() -> None:
    rng = np.random.default_rng(SEED)
    results = account_city_years(None, city="dalian", source="files")  # the shipped files, whatever database exists
    years = sorted(results)
    first_gdp = results[years[0]].indicators["gdp_10k_yuan"]
    rows = []
    for i, year in enumerate(years):
        ind = results[year].indicators
        share = KEY_UNIT_SHARE[0] + (KEY_UNIT_SHARE[1] - KEY_UNIT_SHARE[0]) * i / max(1, len(years) - 1)
        electricity = ELECTRICITY_PROFILE * (1 + rng.normal(0, NOISE["electricity_consumption_kwh"], 12))
        electricity = electricity / electricity.sum() * ind["electricity_consumption_kwh"]
        key_units = (ind["energy_consumption_tce"] * share * INDUSTRY_PROFILE / INDUSTRY_PROFILE.sum()
                     * (1 + rng.normal(0, NOISE["key_unit_energy_tce"], 12)))
        output = (100 * ind["gdp_10k_yuan"] / first_gdp * INDUSTRY_PROFILE / INDUSTRY_PROFILE.mean()
                  * (1 + rng.normal(0, NOISE["industrial_output_index"], 12)))
        for month in range(12):
            rows.append((year, month + 1, REGION, "electricity_consumption_kwh", round(float(electricity[month])),
                         "kWh"))
            rows.append((year, month + 1, REGION, "key_unit_energy_tce", round(float(key_units[month])), "tce"))
            rows.append((year, month + 1, REGION, "industrial_output_index", round(float(output[month]), 2),
                         "dimensionless"))
    frame = pd.DataFrame(rows, columns=["year", "month", "region", "variable", "value", "unit"])
    frame["status"] = "estimate"
    frame["source"] = SOURCE
    banner = ("# Dalian (大连市, 210200) monthly indicators 2015-2024 for the nowcast and its back-test. ESTIMATES "
              "written by tools/estimate_monthly.py from the annual reference dataset; method in docs/tracking.md. "
              "Do not edit by hand.\n")
    with open(OUT, "w", encoding="utf-8", newline="") as handle:
        handle.write(banner)
        frame.to_csv(handle, index=False)
    print(f"wrote {len(frame)} rows to {OUT}")


if __name__ == "__main__":
    main()
