"""Carbon sinks: forest stock-change, forest growth model, wetland and blue carbon (pure domain code).

Methods: IPCC 2006 Vol. 4 Ch. 2 stock-difference method in the 省级温室气体清单编制指南(试行) LULUCF form
(:mod:`.forest`); a libcbm-style ``step(state) -> state`` growth model (:mod:`.growth`); area × rate
for wetlands and blue carbon after the 2013 IPCC Wetlands Supplement, with HY/T 0349-2022《海洋碳汇核算
方法》 for salt marsh and seagrass (:mod:`.blue_carbon`); yearly accounts with provenance
(:mod:`.accounting`), plan-target indicators (:mod:`.indicators`) and the summary service
(:mod:`.summary`). Parameters are data in ``data/sinks/*.csv``. See ``docs/sinks.md``.
"""

from citycarbon.sinks.accounting import SinkAccount, SinkParameters, account_sinks, net_emissions
from citycarbon.sinks.blue_carbon import (
    WetlandRates,
    WetlandSink,
    load_wetland_rates,
    wetland_sink,
    wetland_sinks,
)
from citycarbon.sinks.forest import (
    ForestParameterTable,
    ForestTypeParameters,
    SinkResult,
    forest_carbon_stock,
    forest_parameters,
    forest_sink,
    load_forest_parameters,
)
from citycarbon.sinks.growth import (
    Calibration,
    ForestState,
    GrowthParameters,
    age_state,
    calibrate_growth,
    growth_parameters,
    land_area,
    load_yield_table,
    project_forest,
    step,
    uniform_age_state,
)
from citycarbon.sinks.indicators import PLAN_YEARS, forest_indicators
from citycarbon.sinks.parameters import ParameterRow, co2_per_carbon
from citycarbon.sinks.summary import sink_summary, summary_rows

__all__ = [
    "PLAN_YEARS",
    "Calibration",
    "ForestParameterTable",
    "ForestState",
    "ForestTypeParameters",
    "GrowthParameters",
    "ParameterRow",
    "SinkAccount",
    "SinkParameters",
    "SinkResult",
    "WetlandRates",
    "WetlandSink",
    "account_sinks",
    "age_state",
    "calibrate_growth",
    "co2_per_carbon",
    "forest_carbon_stock",
    "forest_indicators",
    "forest_parameters",
    "forest_sink",
    "growth_parameters",
    "land_area",
    "load_forest_parameters",
    "load_wetland_rates",
    "load_yield_table",
    "net_emissions",
    "project_forest",
    "sink_summary",
    "step",
    "summary_rows",
    "uniform_age_state",
    "wetland_sink",
    "wetland_sinks",
]
