"""Rollups above point level add up main meters only: sub-meters and product-output points are not energy
to be summed again (issue 6 review defect 1)."""

from __future__ import annotations

import pandas as pd
import pytest

from citycarbon.monitoring.ingest import ingest_frame
from citycarbon.monitoring.lake import Lake
from citycarbon.monitoring.registry import load_registry, tce_factors
from citycarbon.monitoring.rollup import rollup

try:
    from tests.monitoring.test_lake_fixtures import NOW, interval_rows, uscc
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import NOW, interval_rows, uscc

MAIN = [100.0, 120.0, 80.0, 100.0]
SUB_A = [60.0, 70.0, 50.0, 55.0]
SUB_B = [m - a for m, a in zip(MAIN, SUB_A, strict=True)]  # the two sub-meters add up to the main meter
OUTPUT = [2.0, 2.5, 1.5, 2.0]  # t of clinker


def _registry():
    enterprises = pd.DataFrame([
        {"enterprise_id": "E1", "name": "大连水泥示例", "uscc": uscc("91210200MA0000001"), "industry_code": "3011",
         "region": "210211", "tier": "1", "annual_budget_tce": "120000", "budget_year": "2024"}])
    common = {"enterprise_id": "E1", "kind": "interval", "multiplier": "1", "interval_minutes": "15",
              "register_max": ""}
    points = pd.DataFrame([
        {**common, "point_id": "E1-EL", "energy_type": "electricity", "unit": "kWh", "parent_point_id": "",
         "purpose": "product:CL"},
        {**common, "point_id": "E1-EL-A", "energy_type": "electricity", "unit": "kWh", "parent_point_id": "E1-EL",
         "purpose": "production_line"},
        {**common, "point_id": "E1-EL-B", "energy_type": "electricity", "unit": "kWh", "parent_point_id": "E1-EL",
         "purpose": "production_line"},
        {**common, "point_id": "E1-GAS", "energy_type": "natural_gas", "unit": "m**3", "parent_point_id": "",
         "purpose": "main"},
        {**common, "point_id": "E1-OUT", "energy_type": "product_output", "unit": "t", "parent_point_id": "",
         "purpose": "output:CL"},
    ])
    products = pd.DataFrame([{"product_id": "CL", "enterprise_id": "E1", "name": "熟料", "unit": "t",
                              "product_type": "cement_clinker"}])
    return load_registry({"enterprises": enterprises, "points": points, "products": products})


@pytest.fixture(scope="module")
def registry():
    return _registry()


@pytest.fixture(scope="module")
def lake(tmp_path_factory, registry):
    lake = Lake.open(tmp_path_factory.mktemp("submeters"))
    rows = pd.concat([
        interval_rows("E1-EL", "2024-03-05T10:00", 4, 15, values=MAIN),
        interval_rows("E1-EL-A", "2024-03-05T10:00", 4, 15, values=SUB_A),
        interval_rows("E1-EL-B", "2024-03-05T10:00", 4, 15, values=SUB_B),
        interval_rows("E1-GAS", "2024-03-05T10:00", 4, 15, values=[10.0] * 4, unit="m**3"),
        interval_rows("E1-OUT", "2024-03-05T10:00", 4, 15, values=OUTPUT, unit="t"),
    ])
    report = ingest_frame(lake, registry, rows, source="t", now=NOW)
    assert report.rejected == 0, report.rejected_rows
    return lake


@pytest.mark.parametrize("by", ["enterprise", "industry", "district", "city"])
def test_levels_above_point_count_the_main_meter_only(lake, registry, by):
    frame = rollup(lake, registry, period="month", by=by).frame.set_index("energy_type")
    assert frame.at["electricity", "energy"] == pytest.approx(sum(MAIN))  # not 2 × sum(MAIN)
    assert frame.at["electricity", "readings"] == len(MAIN)
    assert frame.at["electricity", "tce_calorific"] == pytest.approx(
        sum(MAIN) * tce_factors().at["electricity", "tce_per_unit"])
    assert frame.at["natural_gas", "energy"] == pytest.approx(40.0)
    assert "product_output" not in frame.index  # tonnes of clinker are not energy
    assert frame["tce_calorific"].sum() == pytest.approx(
        sum(MAIN) * tce_factors().at["electricity", "tce_per_unit"]
        + 40.0 * tce_factors().at["natural_gas", "tce_per_unit"])


def test_point_level_still_lists_every_point(lake, registry):
    frame = rollup(lake, registry, period="day", by="point").frame.set_index("point_id")
    assert set(frame.index) == {"E1-EL", "E1-EL-A", "E1-EL-B", "E1-GAS", "E1-OUT"}
    assert frame.at["E1-EL-A", "energy"] == pytest.approx(sum(SUB_A))
    assert frame.at["E1-EL-B", "energy"] == pytest.approx(sum(SUB_B))
    assert frame.at["E1-OUT", "energy"] == pytest.approx(sum(OUTPUT))
    assert pd.isna(frame.at["E1-OUT", "tce_calorific"])  # output has no tce


def test_dask_engine_applies_the_same_rule(lake, registry):
    pytest.importorskip("dask.dataframe")
    duck = rollup(lake, registry, period="month", by="enterprise").frame
    dask = rollup(lake, registry, period="month", by="enterprise", engine="dask").frame
    pd.testing.assert_frame_equal(duck.reset_index(drop=True), dask.reset_index(drop=True), rtol=1e-12)
