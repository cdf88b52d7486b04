"""Rollups: local periods, latest revisions, levels, tce by both methods and CO2 from the factor rows; Dask."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citycarbon.accounting.options import AccountingOptions
from citycarbon.errors import InputError
from citycarbon.factors import load_factors
from citycarbon.monitoring.ingest import ingest_frame
from citycarbon.monitoring.lake import Lake
from citycarbon.monitoring.rollup import rollup
from citycarbon.units import product_factor

try:
    from tests.monitoring.test_lake_fixtures import NOW, interval_rows, make_registry
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import NOW, interval_rows, make_registry


@pytest.fixture(scope="module")
def registry():
    return make_registry()


@pytest.fixture(scope="module")
def lake(tmp_path_factory, registry):
    lake = Lake.open(tmp_path_factory.mktemp("rollup"))
    rows = pd.concat([
        # 2024-01-31 22:00 → 2024-02-01 02:00 local: 8 quarter-hours in January, 8 in February (local time)
        interval_rows("E1-EL", "2024-01-31T22:00", 16, 15, values=[1.0] * 16),
        interval_rows("E1-NG", "2024-01-31T23:00", 2, 60, values=[100.0, 200.0], unit="m**3"),
        interval_rows("E2-HEAT", "2024-02-01T00:00", 3, 60, values=[10.0, 10.0, 10.0], unit="GJ"),
        interval_rows("E2-EL", "2024-02-01T00:00", 4, 15, values=[5.0] * 4),
    ])
    ingest_frame(lake, registry, rows, source="t", now=NOW)
    # a revision: E2-EL's first interval becomes 9 kWh; the original stays stored but is not counted
    ingest_frame(lake, registry, interval_rows("E2-EL", "2024-02-01T00:00", 1, 15, values=[9.0]), source="t",
                 now=NOW)
    return lake


def test_monthly_by_enterprise_uses_local_months_and_latest_revisions(lake, registry):
    frame = rollup(lake, registry, period="month", by="enterprise").frame
    energy = {(r.period, r.enterprise_id, r.energy_type): r.energy for r in frame.itertuples()}
    assert energy == {("2024-01", "E1", "electricity"): 16.0,  # 8 × 1 kWh × CT 2
                      ("2024-01", "E1", "natural_gas"): 100.0,
                      ("2024-02", "E1", "electricity"): 16.0,
                      ("2024-02", "E1", "natural_gas"): 200.0,
                      ("2024-02", "E2", "electricity"): 24.0,  # 9 + 5 + 5 + 5
                      ("2024-02", "E2", "heat"): 30.0}
    assert frame.loc[frame["energy_type"] == "heat", "readings"].item() == 3


def test_tce_and_co2_follow_the_accounting_factor_rows(lake, registry):
    frame = rollup(lake, registry, period="month", by="enterprise").frame.set_index(
        ["period", "enterprise_id", "energy_type"])
    table = load_factors()
    options = AccountingOptions.for_city("dalian")
    electricity = frame.loc[("2024-02", "E2", "electricity")]
    cal = table.lookup("standard_coal", "electricity", 2024, factor_set=options.standard_coal_set)
    rate = table.lookup("coal_rate", options.coal_rate_key, 2024)
    assert cal.factor_id == "gbt2589.electricity"
    assert electricity["tce_calorific"] == pytest.approx(24.0 * 0.1229 / 1000)  # 0.1229 kgce/kWh
    per_kwh = rate.value * product_factor("kWh", rate.unit, "tce")
    assert electricity["tce_coal_equivalent"] == pytest.approx(24.0 * per_kwh)
    grid = table.lookup("grid_ef", "electricity", 2024, factor_set=options.grid_ef_set, region=options.grid_region)
    assert electricity["co2_t"] == pytest.approx(24.0 * grid.value / 1000)  # t/MWh
    gas = frame.loc[("2024-02", "E1", "natural_gas")]
    gas_co2 = table.fuel_co2_factor("natural_gas", 2024, factor_set=options.co2_factor_set)
    assert gas["co2_t"] == pytest.approx(200.0 * gas_co2.value_in("t/m**3"))
    assert gas["tce_calorific"] == gas["tce_coal_equivalent"]  # only electricity differs between methods
    heat = frame.loc[("2024-02", "E2", "heat")]
    assert heat["tce_calorific"] == pytest.approx(30.0 * 0.03412)  # 34.12 kgce/GJ
    assert heat["co2_t"] == pytest.approx(30.0 * table.lookup("heat_ef", "heat", 2024).value)


def test_levels_and_filters(lake, registry):
    by_point = rollup(lake, registry, period="day", by="point").frame
    assert set(by_point["point_id"]) == {"E1-EL", "E1-NG", "E2-EL", "E2-HEAT"}
    by_district = rollup(lake, registry, period="month", by="district").frame
    assert set(by_district["region"]) == {"210211", "210213"}
    city = rollup(lake, registry, period="month", by="city").frame
    assert city["energy"].sum() == pytest.approx(16 + 100 + 16 + 200 + 24 + 30)
    only_e2 = rollup(lake, registry, period="month", enterprise="E2").frame
    assert set(only_e2["enterprise_id"]) == {"E2"}
    district = rollup(lake, registry, period="month", region="210213").frame
    assert set(district["enterprise_id"]) == {"E2"}
    whole_city = rollup(lake, registry, period="month", region="210200").frame
    assert set(whole_city["enterprise_id"]) == {"E1", "E2"}
    hours = rollup(lake, registry, period="hour", by="enterprise", start="2024-02-01T00:00",
                   end="2024-02-01T01:00").frame
    assert set(hours["period"]) == {"2024-02-01T00:00"}
    assert hours.loc[hours["energy_type"] == "electricity"].set_index("enterprise_id")["energy"].to_dict() == {
        "E1": 8.0, "E2": 24.0}


def test_bad_arguments_are_input_errors(lake, registry):
    with pytest.raises(InputError, match="period"):
        rollup(lake, registry, period="week")
    with pytest.raises(InputError, match="unknown enterprise"):
        rollup(lake, registry, enterprise="NOPE")


def test_provenance_lists_factor_rows(lake, registry):
    result = rollup(lake, registry, period="month")
    ids = {row["factor_id"] for row in result.provenance.factors}
    assert {"gbt2589.electricity", "gbt2589.natural_gas", "gbt2589.heat"} <= ids
    assert result.provenance.parameters["timezone"] == "Asia/Shanghai"
    assert result.missing_factors == []


@pytest.mark.timeout(180)  # seconds when idle; the shared CI machine can be many times slower
def test_dask_engine_on_a_local_cluster_gives_identical_results(lake, registry):
    distributed = pytest.importorskip("distributed")
    with (distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                   dashboard_address=None) as cluster):
        for period, by in (("month", "enterprise"), ("hour", "point"), ("day", "district")):
            duck = rollup(lake, registry, period=period, by=by).frame
            dask = rollup(lake, registry, period=period, by=by, engine="dask",
                          scheduler=cluster.scheduler_address).frame
            pd.testing.assert_frame_equal(dask, duck, check_exact=False, rtol=1e-12)
    in_process = rollup(lake, registry, period="month", engine="dask").frame
    pd.testing.assert_frame_equal(in_process, rollup(lake, registry, period="month").frame,
                                  check_exact=False, rtol=1e-12)
    assert np.isfinite(in_process["co2_t"]).all()
