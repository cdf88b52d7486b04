"""The pathway model: a city's energy system and CO2 2020–2060, vectorised over runs.

LEAP-style activity × intensity on the accounted base year (:mod:`citycarbon.pathways.base`):

* activity of each segment: GDP ratio ** elasticity (heavy industry × (1 − structure shift));
* intensity: cumulative product of (1 − autonomous − lever improvement) per year;
* fuel switching per segment (coal → gas, renewable hydrogen, electrification, EVs, trucks, vessels,
  shore power, freight modal shift) with the electricity a switch needs;
* power and heat supply: local generation by technology (capacity × capacity factor, calibrated to the
  base year), coal/gas plants with CHP heat, heat boilers, nuclear waste heat, curtailment recovered by storage;
* CO2 and energy with the accounting engine's rules: combustion in final use and local plants + net
  electricity inflow × grid factor (provincial rule), + process CO2 − CCUS; energy by the coal-equivalent
  method; non-fossil share by grid-average attribution;
* sinks through :mod:`citycarbon.sinks` (forest growth model response to afforestation, blue carbon).

``evaluate(X)`` is numpy over (runs, years) arrays: no Python loop per run. Everything that does not depend
on the parameters is computed once in :func:`build_model`. Equations: docs/pathways.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from citycarbon.accounting import AccountingOptions
from citycarbon.accounting.conversion import ELECTRICITY, HEAT, electricity_factor
from citycarbon.accounting.inputs import AccountingInputs, dataset_inputs
from citycarbon.codelists import indicator_units
from citycarbon.datasets import ReferenceDataset, load_reference
from citycarbon.errors import InputError, Problem
from citycarbon.factors import FactorRow, load_factors
from citycarbon.pathways.base import (
    BUILDINGS,
    CARRIERS,
    HEAVY,
    INDUSTRY,
    SEGMENTS,
    TRANSPORT,
    BaseYear,
    build_base,
)
from citycarbon.pathways.costs import COST_SERIES_UNITS, cost_series
from citycarbon.pathways.parameters import (
    Lever,
    ParameterSet,
    load_constants,
    load_costs,
    load_gdp_paths,
    load_learning,
    load_levers,
    load_potentials,
    load_uncertain,
    parameter_set,
)
from citycarbon.plan import Plan, load_plan
from citycarbon.sinks import calibrate_growth, growth_parameters, project_forest, wetland_sink, wetland_sinks
from citycarbon.units import conversion_factor, product_factor

if TYPE_CHECKING:
    from collections.abc import Iterable

    from citycarbon.pathways.results import PathwayResult

MODEL_VERSION = "citycarbon.pathways/1.0"
BASE_YEAR = 2020
END_YEAR = 2060
#: runs evaluated at once: the (chunk, years) work arrays stay in cache (1024 was fastest on this machine)
CHUNK = 1024

#: output series and their units
#: units of the named output series (from the variable codelist, the one place they live)
SERIES_UNITS = indicator_units((
    "co2_emissions_t", "co2_energy_t", "co2_process_t", "ccus_t", "net_co2_emissions_t", "sink_co2_t",
    "forest_sink_co2_t", "wetland_sink_co2_t", "energy_consumption_tce", "non_fossil_energy_tce",
    "non_fossil_share", "coal_tce", "oil_tce", "gas_tce", "gdp_10k_yuan", "energy_intensity", "co2_intensity",
    "wind_solar_capacity_mw", "forest_coverage", "forest_stock_m3", "electricity_consumption_kwh", "net_inflow_kwh",
    "thermal_generation_kwh", "grid_ef_t_per_kwh", "heat_demand_gj",
))
#: the CO2 bases a pathway reports (docs/pathways.md "CO2 bases"); net_inflow and consumption decide peak and
#: neutrality targets by the accounting profile's peak rule, territorial is a third view
CO2_BASES = ("net_inflow", "consumption", "territorial")
RULE_BASES = ("net_inflow", "consumption")
SERIES_UNITS.update({
    **{f"co2_emissions_{basis}_t": SERIES_UNITS["co2_emissions_t"] for basis in CO2_BASES},
    **{f"net_co2_emissions_{basis}_t": SERIES_UNITS["co2_emissions_t"] for basis in CO2_BASES},
    "removals_co2_t": SERIES_UNITS["co2_emissions_t"],
    **{f"non_fossil_share_{v}": SERIES_UNITS["non_fossil_share"] for v in (
        "grid_average", "local_mix", "local_additions")},
    "grid_nonfossil_share": SERIES_UNITS["non_fossil_share"],
    "grid_nonfossil_share_path": SERIES_UNITS["non_fossil_share"],
    **COST_SERIES_UNITS,
})
#: the demand side's lever effects as data. Intensity indices: name → (autonomous improvement parameter, lever
#: adding to it or None); each is the cumulative product of (1 − autonomous − lever × ramp) per year.
INTENSITY_INDICES: dict[str, tuple[str, str | None]] = {
    "industry": ("autonomous_efficiency_industry", "industry_efficiency"),
    "agriculture": ("autonomous_efficiency_industry", None),
    "buildings": ("autonomous_efficiency_buildings", "buildings_efficiency"),
    "transport": ("autonomous_efficiency_transport", "transport_efficiency"),
}
#: activity classes: class → (GDP elasticity parameter, intensity index); activity = GDP ratio ** elasticity
ACTIVITY_CLASSES: dict[str, tuple[str, str]] = {
    "heavy": ("elasticity_heavy_industry", "industry"),
    "light": ("elasticity_light_industry", "industry"),
    "agriculture": ("elasticity_agriculture", "agriculture"),
    "residential": ("elasticity_residential", "buildings"),
    "services": ("elasticity_services", "buildings"),
    "transport": ("elasticity_transport", "transport"),
}
#: classes whose activity the industry_structure_shift lever scales by (1 − shift × ramp)
STRUCTURE_SHIFTED: tuple[str, ...] = ("heavy",)
#: segment → oil carriers that sustainable (bio- and e-) fuels replace (lever sustainable_fuels_2060)
SUSTAINABLE_FUEL_USES: dict[str, tuple[str, ...]] = {"aviation": ("kerosene",),
                                                     "water": ("fuel_oil", "diesel", "gas"),
                                                     "agriculture": ("diesel",)}
SECTOR_GROUPS = ("industry", "buildings", "transport", "agriculture")
FINAL_CARRIERS = ("solids", "liquids", "gases", "electricity", "heat", "hydrogen", "renewable", "feedstock")
CAPACITY_TECHS = ("wind_onshore", "wind_offshore", "solar_utility", "solar_distributed", "nuclear", "coal", "gas",
                  "storage")
GENERATION_TECHS = ("wind", "solar", "nuclear", "hydro", "biomass", "storage_recovered", "thermal")
_CARRIER_GROUP = {"coal": "solids", "gasoline": "liquids", "lpg": "liquids", "diesel": "liquids",
                  "fuel_oil": "liquids", "kerosene": "liquids", "other_oil": "liquids", "gas": "gases",
                  "electricity": "electricity", "heat": "heat", "renewable": "renewable", "feedstock": "feedstock"}
# issue 17 (lmdi): value added, energy and allocated CO2 by sector (docs/pathways.md "Value added and sector
# energy"); each family sums to its total (GDP, energy_consumption_tce, co2_emissions_t)
#: sectors of value added (primary, secondary, tertiary of the statistics)
VALUE_ADDED_SECTORS = ("industry", "agriculture", "services")
#: final-use carriers counted in a sector group's energy at 1 tce per tce (electricity at k_t, heat at its factor)
_TCE_CARRIERS = ("solids", "liquids", "gases", "renewable", "feedstock", "hydrogen")
SECTOR_SERIES = (
    *(f"value_added_{v}_10k_yuan" for v in VALUE_ADDED_SECTORS),
    *(f"energy_{g}_tce" for g in SECTOR_GROUPS), "energy_supply_remainder_tce", "energy_households_tce",
    *(f"co2_{g}_allocated_t" for g in SECTOR_GROUPS), "co2_supply_remainder_t", "co2_households_allocated_t",
)
SERIES_UNITS.update(indicator_units(SECTOR_SERIES))


def _sum(arrays: Iterable[np.ndarray]) -> np.ndarray:
    """``sum(arrays)`` (0 + a + b + …, the order that the golden outputs pin) for the never-empty sums of
    per-run arrays below, typed as the array it is."""
    return cast(np.ndarray, sum(arrays))


def _segment_class(segment: str) -> str:
    """Activity/intensity class of a segment (segments of a class share their index)."""
    if segment in HEAVY:
        return "heavy"
    if segment in INDUSTRY:
        return "light"
    if segment in ("residential_urban", "residential_rural"):
        return "residential"
    if segment in BUILDINGS:
        return "services"
    if segment in TRANSPORT:
        return "transport"
    return "agriculture"


_SEGMENT_CLASS = {s: _segment_class(s) for s in SEGMENTS}


def _segment_group(segment: str) -> str:
    if segment in INDUSTRY:
        return "industry"
    if segment in BUILDINGS:
        return "buildings"
    if segment in TRANSPORT:
        return "transport"
    return "agriculture"


@dataclass
class Outputs:
    """Results of ``evaluate``: series (n, years) and target-native summaries."""

    years: np.ndarray
    series: dict[str, np.ndarray]
    target_specs: list[dict]
    plateau_tolerance: float
    #: which CO2 basis decides peak and neutrality targets: "worse" (the later peak, the larger net emissions
    #: of the two rule bases, per run) or one basis (the accounting profile's ``peak_rule_basis``)
    peak_rule: str = "net_inflow"

    @property
    def n(self) -> int:
        return self.series["co2_emissions_t"].shape[0]

    def value_at(self, name: str, year: int) -> np.ndarray:
        return self.series[name][:, int(year) - int(self.years[0])]

    def co2(self, basis: str | None = None) -> np.ndarray:
        """CO2 emissions (n, years) on ``basis`` (None: the profile's headline series ``co2_emissions_t``)."""
        if basis is None:
            return self.series["co2_emissions_t"]
        return self.series.get(f"co2_emissions_{basis}_t", self.series["co2_emissions_t"])

    def bases(self) -> tuple[str, ...]:
        """The CO2 bases these outputs carry (the model's three, or none for a toy model)."""
        return tuple(b for b in CO2_BASES if f"co2_emissions_{b}_t" in self.series)

    def _deciding(self) -> np.ndarray | None:
        """Per run, the index in :data:`RULE_BASES` of the basis that decides a peak target (None: the headline)."""
        if self.peak_rule not in ("worse", *RULE_BASES) or not all(
                f"co2_emissions_{b}_t" in self.series for b in RULE_BASES):
            return None
        if self.peak_rule != "worse":
            return np.full(self.n, RULE_BASES.index(self.peak_rule))
        peaks = np.stack([self._peak_index(self.co2(b)) for b in RULE_BASES])
        return np.argmax(peaks, axis=0)  # the later peak; on a tie the first (net inflow)

    @staticmethod
    def _peak_index(co2: np.ndarray) -> np.ndarray:
        return np.argmax(co2, axis=1)

    def _decided(self) -> np.ndarray:
        """CO2 (n, years) of the deciding basis of each run."""
        which = self._deciding()
        if which is None:
            return self.series["co2_emissions_t"]
        stacked = np.stack([self.co2(b) for b in RULE_BASES])
        return stacked[which, np.arange(self.n)]

    def peak_year(self, basis: str | None = None) -> np.ndarray:
        """Year of the highest CO2 emissions (first such year), per run: on ``basis``, or on the basis the peak
        rule decides (``worse``: the later of the net-inflow and consumption peaks)."""
        co2 = self.co2(basis) if basis else self._decided()
        return self.years[self._peak_index(co2)]

    def peak_value(self, basis: str | None = None) -> np.ndarray:
        co2 = self.co2(basis) if basis else self._decided()
        return co2.max(axis=1)

    def plateau_years(self, basis: str | None = None) -> np.ndarray:
        """Years with CO2 within ``plateau_tolerance`` of the peak."""
        co2 = self.co2(basis) if basis else self._decided()
        return (co2 >= (1.0 - self.plateau_tolerance) * co2.max(axis=1, keepdims=True)).sum(axis=1)

    def npv(self) -> np.ndarray:
        """Net present value (CNY, at the base year and the run's discount rate) of the annual costs 2021-2060."""
        from citycarbon.pathways.costs import npv
        return npv(self.series["cost_total_cny"], self.series["discount_factor"])

    def cumulative_co2(self) -> np.ndarray:
        """Cumulative CO2 over all model years (t)."""
        return self.series["co2_emissions_t"].sum(axis=1)

    def net_co2(self, basis: str | None = None) -> np.ndarray:
        """Net CO2 after sinks and removals (n, years) on ``basis``; None: the larger of the rule bases per run
        and year under the ``worse`` rule (the headline series otherwise)."""
        if basis is not None:
            return self.series.get(f"net_co2_emissions_{basis}_t", self.series["net_co2_emissions_t"])
        if self.peak_rule == "worse" and all(f"net_co2_emissions_{b}_t" in self.series for b in RULE_BASES):
            return np.maximum(*(self.series[f"net_co2_emissions_{b}_t"] for b in RULE_BASES))
        if self.peak_rule in RULE_BASES and f"net_co2_emissions_{self.peak_rule}_t" in self.series:
            return self.series[f"net_co2_emissions_{self.peak_rule}_t"]
        return self.series["net_co2_emissions_t"]

    def neutrality_year(self, basis: str | None = None) -> np.ndarray:
        """First year with net CO2 (after sinks and removals) at or below zero; NaN when never reached."""
        net = self.net_co2(basis) <= 0
        first = np.argmax(net, axis=1)
        return np.where(net.any(axis=1), self.years[first].astype(float), np.nan)

    def indicator(self, name: str, year: int, base_year: int | None = None) -> np.ndarray:
        """A plan indicator of each run (the indicator ids of ``data/codelists/indicators.csv``)."""
        if name == "co2_peak_year":
            return self.peak_year().astype(float)
        if name == "net_co2_emissions_t":  # neutrality: on the basis the peak rule decides
            return self.net_co2()[:, int(year) - int(self.years[0])]
        if name in ("energy_intensity_reduction", "co2_intensity_reduction"):
            series = "energy_intensity" if name.startswith("energy") else "co2_intensity"
            return 1.0 - self.value_at(series, year) / self.value_at(series, base_year or int(self.years[0]))
        aliases = {"energy_intensity_tce_per_10k_yuan": "energy_intensity",
                   "co2_intensity_t_per_10k_yuan": "co2_intensity"}
        return self.value_at(aliases.get(name, name), year)

    def targets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every plan target with a value: ``{id: (met (n,) bool, margin (n,))}``; margin ≥ 0 means met.

        Margin is ``actual − value`` (at_least), ``value − actual`` (at_most, by_year) or
        ``tolerance − |actual − value|`` (about), in the target's unit.
        """
        out = {}
        for spec in self.target_specs:
            actual = self.indicator(spec["indicator"], spec["year"], spec["base_year"]) * spec["scale"]
            value = spec["value"]
            if spec["comparison"] == "at_least":
                margin = actual - value
            elif spec["comparison"] in ("at_most", "by_year"):
                margin = value - actual
            else:
                margin = spec["tolerance"] - np.abs(actual - value)
            slack = 1e-9 * max(1.0, abs(value))
            out[spec["id"]] = (margin >= -slack, margin)
        return out


class _Runs:
    """The parameter columns of one chunk of runs ``X`` (n, p) as (n, 1) arrays, lever ramps as (1, years)."""

    def __init__(self, X: np.ndarray, index: dict[str, int], pre: dict[str, np.ndarray], zeros: np.ndarray):
        self.X, self.index, self.pre, self.zeros = X, index, pre, zeros

    def p(self, name: str) -> np.ndarray:
        return self.X[:, self.index[name]][:, None]

    def ramp(self, name: str) -> np.ndarray:
        return self.pre["ramp_" + name][None, :]


@dataclass
class _Demand:
    """Stage 1 of an evaluation: GDP, activity, final energy by (sector group, carrier group), direct CO2."""

    gdp_ratio: np.ndarray
    act: dict[str, np.ndarray]
    index_of: dict[str, np.ndarray]
    fe: dict[tuple[str, str], np.ndarray]
    co2_group: dict[str, np.ndarray]
    hydrogen_used: np.ndarray
    fossil_by: dict[str, np.ndarray]
    measures: dict[str, np.ndarray]  # tce/yr each demand measure saves or switches (the cost model's activity)
    # issue 17 (lmdi): the households' part of buildings (residential segments): final energy by carrier group
    # and direct CO2, for the by-sector LMDI (households have no value added)
    households_fe: dict[str, np.ndarray] = field(default_factory=dict)
    households_co2: Any = 0.0


@dataclass
class _Supply:
    """Stage 2 of an evaluation: power and heat supply."""

    consumed_kwh: np.ndarray
    heat_demand: np.ndarray
    cap: dict[str, np.ndarray]
    gen: dict[str, np.ndarray]
    primary_kwh: np.ndarray
    thermal: np.ndarray
    k: np.ndarray
    ef: np.ndarray
    share: np.ndarray
    power_tce: np.ndarray
    power_co2: np.ndarray
    boiler_tce: np.ndarray
    boiler_co2: np.ndarray
    nuclear_heat_used: np.ndarray
    net_inflow: np.ndarray
    scope2: np.ndarray
    refining_loss: np.ndarray
    share_path: np.ndarray  # the provincial grid's non-fossil share without Dalian's additions
    ef_consumed: np.ndarray  # grid factor of the electricity consumed (consumption basis)
    local_mix_kwh: np.ndarray  # non-fossil electricity consumed under local-mix attribution
    heat_electric: np.ndarray  # GJ of district heat from heat pumps and electric boilers
    chp_heat: np.ndarray
    daccs_t: np.ndarray
    power_fuel: dict[str, np.ndarray]  # tce of coal / oil / gas burnt in power plants
    boiler_fuel: dict[str, np.ndarray]  # tce of coal / oil / gas burnt in heat boilers


@dataclass
class PathwayModel:
    """A built model: parameters, base year and everything scenario-independent, precomputed."""

    city: str
    region: str
    years: np.ndarray
    parameters: ParameterSet = field(repr=False)
    levers: tuple[Lever, ...] = field(repr=False)
    base: BaseYear = field(repr=False)
    plan: Plan = field(repr=False)
    pre: dict[str, np.ndarray] = field(repr=False)
    constants: dict[str, float] = field(repr=False)
    factor_rows: dict[str, FactorRow] = field(repr=False)
    target_specs: list[dict] = field(repr=False)
    unset_targets: list[str] = field(repr=False)
    sources: dict[str, str] = field(default_factory=dict)
    #: the accounting profile's choices the model follows (issue 17): the headline CO2 basis, the non-fossil
    #: attribution and the basis that decides peak and neutrality targets
    co2_basis: str = "net_inflow"
    attribution: str = "grid_average"
    peak_rule: str = "worse"
    #: the energy-project registry's connected capacity used as the starting line ({technology: {year: MW}})
    registry: dict[str, dict[int, float]] = field(default_factory=dict)

    # --- parameter vectors ------------------------------------------------------------------------
    def vector(self, scenario) -> np.ndarray:
        """The parameter vector of ``scenario`` (a :class:`~citycarbon.pathways.scenarios.Scenario`)."""
        x = self.parameters.default.copy()
        index = {n: i for i, n in enumerate(self.parameters.names)}
        for name, value in {**scenario.levers, **getattr(scenario, "parameters", {})}.items():
            if name not in index:
                from citycarbon.codelists import nearest
                raise InputError(Problem(f"unknown lever or parameter '{name}'", file=scenario.source,
                                         field=name, suggestion=nearest(name, self.parameters.names)))
            x[index[name]] = float(value)
        return x

    def with_targets(self, targets: list) -> PathwayModel:
        """The same model judging ``targets`` (e.g. the plan's targets with office-set values from a
        ``--targets`` file, :func:`citycarbon.services.tracking.apply_target_overrides`)."""
        specs, unset = _target_specs(targets)
        return replace(self, target_specs=specs, unset_targets=unset)

    def check(self, X: np.ndarray) -> np.ndarray:
        """``X`` as (n, p) floats; every value finite and within its parameter's [low, high] (InputError naming
        the first offending parameter and run otherwise: the equations are only valid inside the ranges)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.ndim != 2 or X.shape[1] != len(self.parameters):
            raise InputError(Problem(f"expected {len(self.parameters)} parameters per run, got shape {X.shape}",
                                     field="X"))
        params = self.parameters
        slack = 1e-9 * np.maximum(1.0, np.abs(params.high - params.low))
        low, high = params.low - slack, params.high + slack
        bad = ~np.isfinite(X) | np.less(X, low) | np.greater(X, high)
        if bad.any():
            run, column = (int(v) for v in np.argwhere(bad)[0])
            raise InputError(Problem(
                f"run {run}: {params.names[column]} = {X[run, column]} is outside [{params.low[column]}, "
                f"{params.high[column]}] {params.unit[column]}", field=params.names[column], row=run + 1,
                value=float(X[run, column])))
        return X

    # --- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, X: np.ndarray) -> Outputs:
        """Evaluate runs ``X`` (n, p): numpy over (n, years), in chunks of :data:`CHUNK` runs (cache-sized)."""
        X = self.check(X)
        if not len(X):
            raise InputError(Problem("no runs to evaluate", field="X"))
        first = self._evaluate(X[:CHUNK])
        if len(X) <= CHUNK:
            series = first
        else:
            series = {k: np.empty((len(X), *v.shape[1:])) for k, v in first.items()}
            for k, v in first.items():
                series[k][:CHUNK] = v
            for start in range(CHUNK, len(X), CHUNK):
                part = self._evaluate(X[start:start + CHUNK])
                for k, v in part.items():
                    series[k][start:start + len(v)] = v
        return Outputs(self.years, series, self.target_specs, self.constants["plateau_tolerance"], self.peak_rule)

    def run(self, scenario: Any) -> PathwayResult:
        """One run of ``scenario`` → :class:`~citycarbon.pathways.results.PathwayResult`."""
        from citycarbon.pathways.results import PathwayResult
        return PathwayResult.from_outputs(self, scenario, self.evaluate(self.vector(scenario)[None, :]))

    def _evaluate(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """One chunk of runs, in named stages: :meth:`_demand` (GDP, activity × intensity, fuel switching per
        segment → final energy and direct CO2 by sector group) → :meth:`_supply` (power and heat: capacity,
        generation, grid factor and share, plants and boilers) → :meth:`_totals` (energy, non-fossil, CO2,
        CCUS, sinks and the output series)."""
        runs = _Runs(X, self._index, self.pre, np.zeros((X.shape[0], len(self.years))))
        demand = self._demand(runs)
        supply = self._supply(runs, demand)
        return self._totals(runs, demand, supply)

    def _demand(self, runs: _Runs) -> _Demand:
        """Stage 1, demand: GDP path, activity × intensity by segment class, fuel switching per segment."""
        pre, c = self.pre, self.constants
        p, ramp, zeros = runs.p, runs.ramp, runs.zeros

        # GDP: statistics to the last statistics year, then the low/central/high path × multiplier
        g = p("gdp_path")
        path_rate = pre["gdp_central"] + np.maximum(g, 0) * pre["gdp_up"] + np.minimum(g, 0) * pre["gdp_down"]
        rate = pre["gdp_hist_mask"] * pre["gdp_hist_rate"] + (1 - pre["gdp_hist_mask"]) * path_rate * p(
            "gdp_growth_multiplier")
        gdp_ratio = np.cumprod(1.0 + rate, axis=1)
        log_ratio = np.log(gdp_ratio)
        after = pre["after_base"][None, :]

        def intensity(auto: str, lever: str | None) -> np.ndarray:
            r = p(auto) * after + (p(lever) * ramp(lever) if lever else 0.0)
            return np.cumprod(1.0 - r, axis=1)

        index = {name: intensity(auto, lever) for name, (auto, lever) in INTENSITY_INDICES.items()}
        structure = 1.0 - p("industry_structure_shift") * ramp("industry_structure_shift")
        act = {}
        for cls, (elasticity, _index) in ACTIVITY_CLASSES.items():
            act[cls] = np.exp(p(elasticity) * log_ratio)
            if cls in STRUCTURE_SHIFTED:
                act[cls] = act[cls] * structure
        by_class = {cls: act[cls] * index[name] for cls, (_elasticity, name) in ACTIVITY_CLASSES.items()}
        index_of = {s: by_class[_SEGMENT_CLASS[s]] for s in SEGMENTS}  # activity × intensity per segment
        refining = p("refining_throughput_2060") * ramp("refining_throughput_2060")
        index_of["petrochemical"] = by_class["heavy"] * (1.0 - refining)
        # activity the measures act on (tce a year), for the cost model: energy saved by each efficiency lever
        # (autonomous improvement alone vs with the lever), by the structure shift and the refining cut
        measures: dict[str, np.ndarray] = {}
        for name, (auto, lever) in INTENSITY_INDICES.items():
            if lever is None:
                continue
            auto_only = np.cumprod(1.0 - p(auto) * after, axis=1)
            measures[lever] = _sum(self._class_tce[cls] * act[cls] for cls, (_e, idx) in ACTIVITY_CLASSES.items()
                                   if idx == name) * (auto_only - index[name])
        unshifted = np.exp(p(ACTIVITY_CLASSES["heavy"][0]) * log_ratio) * index["industry"]
        measures["structure_shift"] = self._class_tce["heavy"] * unshifted * (1.0 - structure)
        measures["refining_reduction"] = (self._segment_tce["petrochemical"] + self.base.refining_loss_tce) \
            * by_class["heavy"] * refining

        coal_gas = p("coal_to_gas") * ramp("coal_to_gas")
        e_ind = p("industry_electrification_2050") * ramp("industry_electrification_2050")
        e_bld = p("building_electrification_2050") * ramp("building_electrification_2050")
        ev = p("ev_share_2050") * ramp("ev_share_2050")
        trucks = p("electric_freight_2050") * ramp("electric_freight_2050")
        vessels = p("clean_vessels_2050") * ramp("clean_vessels_2050")
        shore = p("shore_power_2030") * ramp("shore_power_2030") * p("at_berth_share")
        modal = p("freight_modal_shift") * ramp("freight_modal_shift")
        hydrogen_tce = p("hydrogen_2060_kt") * ramp("hydrogen_2060_kt") * pre["tce_per_kt_h2"]
        fuels_ramp = p("sustainable_fuels_2060") * ramp("sustainable_fuels_2060")
        kwh_per_mwh = pre["kwh_per_mwh"]
        kwh_industry = p("industry_mwh_per_tce") * kwh_per_mwh
        kwh_heat_pump = p("heat_pump_mwh_per_tce") * kwh_per_mwh
        kwh_ev = p("ev_mwh_per_tce") * kwh_per_mwh
        kwh_truck = p("truck_mwh_per_tce") * kwh_per_mwh
        kwh_shore = p("shore_mwh_per_tce") * kwh_per_mwh
        industry_fuels = ("coal", "gasoline", "lpg", "diesel", "fuel_oil", "other_oil", "gas")
        building_fuels = ("coal", "lpg", "diesel", "other_oil", "gas")

        co2_group: dict[str, np.ndarray] = {}
        fe: dict[tuple[str, str], np.ndarray] = {}

        def add(store: dict, key, amount: np.ndarray) -> None:
            if key in store:
                store[key] += amount
            else:
                store[key] = np.array(amount, dtype=float, copy=True)

        extra_rail = extra_water = None
        hydrogen_used = zeros.copy()
        households_fe: dict[str, np.ndarray] = {}
        households_co2: dict[str, np.ndarray] = {}
        moved_by: dict[str, np.ndarray] = {k: zeros for k in (
            "coal_to_gas", "industry_electrification", "building_electrification", "ev", "electric_trucks",
            "clean_vessels", "shore_power", "modal_shift", "sustainable_fuels")}
        for s, si, cells in self._cells:
            m = index_of[s]
            q = {k: base_value * m for k, base_value in cells}
            if s == "rail" and extra_rail is not None:
                q["electricity"] = q.get("electricity", 0.0) + extra_rail
            if s == "water" and extra_water is not None:
                q["fuel_oil"] = q.get("fuel_oil", 0.0) + extra_water
            if s not in TRANSPORT and "coal" in q:
                moved = q["coal"] * coal_gas
                q["coal"] = q["coal"] - moved
                q["gas"] = q.get("gas", 0.0) + moved
                moved_by["coal_to_gas"] = moved_by["coal_to_gas"] + moved
            if s in INDUSTRY:
                # renewable hydrogen: petrochemical gas and other oil first, then gas and coal of other industry
                for k in (("gas", "other_oil") if s == "petrochemical" else ("gas", "coal")):
                    if k in q:
                        replaced = np.minimum(hydrogen_tce - hydrogen_used, q[k])
                        q[k] = q[k] - replaced
                        hydrogen_used = hydrogen_used + replaced
                moved_by["industry_electrification"] = moved_by["industry_electrification"] + self._electrify(
                    q, e_ind, industry_fuels, kwh_industry)
            if s in BUILDINGS:
                moved_by["building_electrification"] = moved_by["building_electrification"] + self._electrify(
                    q, e_bld, building_fuels, kwh_heat_pump)
            if "gasoline" in q:
                moved_by["ev"] = moved_by["ev"] + self._electrify(q, ev, ("gasoline",), kwh_ev)
            if s == "road_passenger":
                moved_by["ev"] = moved_by["ev"] + self._electrify(q, ev, ("lpg",), kwh_ev)
            if s == "road_freight":
                shifted = sum((q[k] * modal for k in q if k in industry_fuels), zeros)
                for k in list(q):
                    q[k] = q[k] * (1.0 - modal)
                moved_by["modal_shift"] = shifted
                moved = shifted * p("modal_intensity_ratio")
                extra_rail = moved * c["modal_shift_rail_share"] * c["rail_mwh_per_tce"] * kwh_per_mwh
                extra_water = moved * (1.0 - c["modal_shift_rail_share"])
                moved_by["electric_trucks"] = self._electrify(q, trucks, ("diesel",), kwh_truck)
            if s == "water" and "fuel_oil" in q:
                moved = q["fuel_oil"] * vessels
                q["fuel_oil"] = q["fuel_oil"] - moved
                q["gas"] = q.get("gas", 0.0) + moved
                moved_by["clean_vessels"] = moved
            if s in SUSTAINABLE_FUEL_USES:
                # bio- and e-fuels (bio-LNG) replace the fuel left in aviation, shipping and farm machinery (tce for
                # tce), before shore power takes its share of what stays fossil
                for k in SUSTAINABLE_FUEL_USES[s]:
                    if k in q:
                        moved = q[k] * fuels_ramp
                        q[k] = q[k] - moved
                        q["renewable"] = q.get("renewable", 0.0) + moved
                        moved_by["sustainable_fuels"] = moved_by["sustainable_fuels"] + moved
            if s == "water":
                moved_by["shore_power"] = self._electrify(q, shore, ("fuel_oil", "diesel"), kwh_shore)
            group = _segment_group(s)
            coefs = self._coefs[si]
            household = _SEGMENT_CLASS[s] == "residential"
            for k, amount in q.items():
                if coefs[k]:
                    emitted = amount * coefs[k]
                    add(co2_group, group, emitted)
                    if household:
                        add(households_co2, "co2", emitted)
                add(fe, (group, _CARRIER_GROUP[k]), amount)
                if household:
                    add(households_fe, _CARRIER_GROUP[k], amount)
        fe[("industry", "hydrogen")] = hydrogen_used
        for gname in SECTOR_GROUPS:
            co2_group.setdefault(gname, zeros)
            for cg in FINAL_CARRIERS:
                fe.setdefault((gname, cg), zeros)
        fossil_by = {fuel: _sum(fe[(gname, cg)] for gname in SECTOR_GROUPS)
                     for fuel, cg in (("coal", "solids"), ("oil", "liquids"), ("gas", "gases"))}

        measures.update(moved_by)
        for cg in FINAL_CARRIERS:
            households_fe.setdefault(cg, zeros)
        return _Demand(gdp_ratio, act, index_of, fe, co2_group, hydrogen_used, fossil_by, measures, households_fe,
                       households_co2.get("co2", zeros))

    def _supply(self, runs: _Runs, d: _Demand) -> _Supply:
        """Stage 2, supply: electricity and heat demand, capacity and generation by technology, the grid's
        factor and non-fossil share, local plants, nuclear heat and boilers, the net electricity inflow."""
        pre, b, c = self.pre, self.base, self.constants
        p, ramp, zeros = runs.p, runs.ramp, runs.zeros
        fe, fossil_by, index_of = d.fe, d.fossil_by, d.index_of
        kwh_per_mwh = pre["kwh_per_mwh"]
        final_kwh = _sum(fe[(gname, "electricity")] for gname in SECTOR_GROUPS)
        heat_final = _sum(fe[(gname, "heat")] for gname in SECTOR_GROUPS)
        heat_demand = heat_final * (1.0 + b.heat_loss_ratio)
        daccs_t = p("daccs_2060_mt") * ramp("daccs_2060_mt") * pre["t_per_mt"]
        # direct air capture runs on grid electricity (its heat from heat pumps): part of the city's demand
        final_kwh = final_kwh + daccs_t * p("daccs_mwh_per_t") * kwh_per_mwh
        hours = pre["kwh_per_mw_year"]
        after_2030 = pre["cumramp_renewables_after_2030_mw_per_yr"][None, :] * p("renewables_after_2030_mw_per_yr")
        cap = {}
        for tech, lever, after_share in (("wind_onshore", "wind_onshore_2030_mw", "after_2030_share_onshore"),
                                   ("wind_offshore", "offshore_wind_2030_mw", "after_2030_share_offshore"),
                                   ("solar_utility", "solar_utility_2030_mw", "after_2030_share_solar_utility"),
                                   ("solar_distributed", "rooftop_pv_2030_mw", "after_2030_share_rooftop")):
            start: Any
            if "registry_mask" in pre:  # the energy-project registry is the starting line (issue 17)
                start = pre["registry_start_" + tech]
                path = start + (p(lever) - start) * pre["registry_ramp_" + lever][None, :]
                path = np.where(pre["registry_mask"][None, :] > 0, pre["registry_" + tech][None, :], path)
            else:
                start = b.capacity_mw.get(tech, 0.0)
                path = start + (p(lever) - start) * ramp(lever)
            # the city's technical potential (potentials.csv) caps the capacity path
            cap[tech] = np.minimum(path + after_2030 * c[after_share], pre["potential_" + tech])
        cap["nuclear"] = pre["nuclear_mw"][None, :] + p("new_nuclear_mw") * ramp("new_nuclear_mw")
        cap["coal"] = b.capacity_mw.get("coal", 0.0) * (1.0 - p("coal_power_retirement") * ramp(
            "coal_power_retirement")) + p("new_coal_power_mw") * ramp("new_coal_power_mw")
        cap["gas"] = b.capacity_mw.get("gas", 0.0) + zeros
        cap["storage"] = p("storage_2030_mw") * ramp("storage_2030_mw") + zeros
        gen = {
            "wind": (cap["wind_onshore"] * p("cf_wind_onshore") + cap["wind_offshore"] * p("cf_wind_offshore"))
            * hours * pre["calib_wind"],
            "solar": (cap["solar_utility"] + cap["solar_distributed"]) * p("cf_solar") * hours * pre["calib_solar"],
            "nuclear": cap["nuclear"] * p("cf_nuclear") * hours * pre["calib_nuclear"],
            "hydro": pre["hydro_kwh"] + zeros,
            "biomass": pre["biomass_kwh"] + zeros,
            "storage_recovered": cap["storage"] * p("curtailment_recovered_mwh_per_mw") * kwh_per_mwh,
            "thermal": (cap["coal"] + cap["gas"]) * p("cf_coal") * hours * pre["calib_thermal"],
        }
        primary_kwh = _sum(gen[k] for k in GENERATION_TECHS if k != "thermal")
        thermal = gen["thermal"]
        last = pre["last_year_mask"][None, :]
        share_path = np.where(last > 0, pre["share_hist"][None, :],
                              pre["w_share_last"][None, :] * pre["share_last"]
                              + pre["w_share_2030"][None, :] * p("grid_nonfossil_2030")
                              + pre["w_share_2060"][None, :] * p("grid_nonfossil_2060"))
        frac = pre["frac_to_end"][None, :]
        k = np.where(last > 0, pre["k_hist"][None, :],
                     pre["k_last"] * (1.0 - p("coal_rate_improvement")) ** pre["years_after_last"][None, :])
        ef = np.where(last > 0, pre["ef_hist"][None, :],
                      pre["ef_last"] * (1.0 - frac * (1.0 - p("grid_ef_2060_ratio"))))
        l_gen = p("liaoning_generation_twh") * pre["kwh_per_twh"] * (1.0 + p("liaoning_generation_growth")) ** \
            pre["years_after_base"][None, :]
        primary_at_last = primary_kwh[:, pre["last_index"]][:, None]
        share = np.where(last > 0, pre["share_hist"][None, :], share_path + (primary_kwh - primary_at_last) / l_gen)
        share = np.minimum(share, 1.0)
        # consumption basis: Dalian's additions displace provincial fossil generation pro rata, so the factor of
        # the electricity the city consumes falls with the fossil share of the grid (local levers show here)
        ef_consumed = ef * np.clip((1.0 - share) / np.maximum(1.0 - share_path, 1e-9), 0.0, 1.0)
        k_ratio = k / pre["k_base"]
        power_tce = thermal * pre["power_tce_per_kwh"] * k_ratio
        power_co2 = thermal * b.power_co2_per_kwh * k_ratio
        chp_heat = thermal * b.chp_heat_gj_per_kwh
        nuclear_heat = p("nuclear_heating_2035_pj") * ramp("nuclear_heating_2035_pj") * pre["gj_per_pj"]
        open_heat = np.maximum(heat_demand - chp_heat, 0.0)
        nuclear_heat_used = np.minimum(nuclear_heat, open_heat)
        # large heat pumps and electric boilers take a share of the heat boilers would make
        heat_electric = (open_heat - nuclear_heat_used) * p("heat_electrification_2060") * ramp(
            "heat_electrification_2060")
        boiler_heat = open_heat - nuclear_heat_used - heat_electric
        final_kwh = final_kwh + heat_electric * pre["kwh_per_gj"] / p("dh_heat_pump_cop")
        consumed_kwh = final_kwh * (1.0 + b.elec_loss_ratio)
        boiler_tce = boiler_heat * b.boiler_tce_per_gj
        boiler_co2 = boiler_heat * b.boiler_co2_per_gj
        for fuel_group in ("coal", "oil", "gas"):
            fossil_by[fuel_group] = fossil_by[fuel_group] + thermal * b.power_fuel_tce_per_kwh[fuel_group] * k_ratio \
                + boiler_heat * pre["boiler_share_" + fuel_group] * b.boiler_tce_per_gj
        net_inflow = consumed_kwh - primary_kwh - thermal
        scope2 = net_inflow * ef
        # local-mix attribution: a net exporter's consumption at the local generation mix, an importer's local
        # primary electricity plus its inflow at the grid's share (the accounting's local_mix rule)
        local_mix_kwh = np.where(net_inflow >= 0, primary_kwh + net_inflow * share_path,
                                 consumed_kwh * primary_kwh / np.maximum(primary_kwh + thermal, 1e-9))
        refining_loss = b.refining_loss_tce * index_of["petrochemical"]
        fossil_by["oil"] = fossil_by["oil"] + refining_loss

        power_fuel = {fg: thermal * b.power_fuel_tce_per_kwh[fg] * k_ratio for fg in ("coal", "oil", "gas")}
        boiler_fuel = {fg: boiler_heat * pre["boiler_share_" + fg] * b.boiler_tce_per_gj
                       for fg in ("coal", "oil", "gas")}
        return _Supply(consumed_kwh, heat_demand, cap, gen, primary_kwh, thermal, k, ef, share, power_tce,
                       power_co2, boiler_tce, boiler_co2, nuclear_heat_used, net_inflow, scope2, refining_loss,
                       share_path, ef_consumed, local_mix_kwh, heat_electric, chp_heat, daccs_t, power_fuel,
                       boiler_fuel)

    def _totals(self, runs: _Runs, d: _Demand, s: _Supply) -> dict[str, np.ndarray]:
        """Stage 3, totals: energy, non-fossil energy, CO2 (final, power, heat, process, CCUS), sinks, series."""
        pre, b = self.pre, self.base
        p, ramp, zeros = runs.p, runs.ramp, runs.zeros
        fe, co2_group, hydrogen_used, fossil_by, act = d.fe, d.co2_group, d.hydrogen_used, d.fossil_by, d.act
        gdp_ratio = d.gdp_ratio
        consumed_kwh, thermal, k, share, cap, gen = s.consumed_kwh, s.thermal, s.k, s.share, s.cap, s.gen
        power_tce, power_co2, boiler_tce, boiler_co2 = s.power_tce, s.power_co2, s.boiler_tce, s.boiler_co2
        refining_loss, nuclear_heat_used, scope2, net_inflow = s.refining_loss, s.nuclear_heat_used, s.scope2, \
            s.net_inflow
        heat_demand, ef = s.heat_demand, s.ef
        direct = _sum(fe[(gname, cg)] for gname in SECTOR_GROUPS
                      for cg in ("solids", "liquids", "gases", "renewable", "feedstock"))
        nuclear_heat_tce = nuclear_heat_used * b.heat_tce_per_gj
        energy = (direct + hydrogen_used + power_tce + boiler_tce + refining_loss + nuclear_heat_tce
                  + (consumed_kwh - thermal) * k)
        renewable = _sum(fe[(gname, "renewable")] for gname in SECTOR_GROUPS)
        non_fossil_direct = renewable + hydrogen_used + nuclear_heat_tce
        non_fossil = consumed_kwh * share * k + non_fossil_direct
        non_fossil_local_mix = s.local_mix_kwh * k + non_fossil_direct
        process = self._process(act)
        final_co2 = _sum(co2_group.values())
        point_sources = co2_group["industry"] + power_co2 + boiler_co2 + process
        ccus = np.minimum(p("ccus_2060_mt") * ramp("ccus_2060_mt") * pre["t_per_mt"], point_sources)
        co2_energy = final_co2 + power_co2 + boiler_co2 + scope2 - ccus
        co2 = co2_energy + process
        # the other CO2 bases (docs/pathways.md "CO2 bases"): consumption counts the electricity and heat the
        # city consumes instead of its plants' combustion; territorial counts only combustion in the city
        fossil_heat = np.clip((heat_demand - nuclear_heat_used - s.heat_electric) / np.maximum(heat_demand, 1e-9),
                              0.0, 1.0)
        heat_consumed_co2 = heat_demand * pre["heat_ef_hist"][None, :] * fossil_heat / pre["fossil_heat_base"]
        co2_energy_consumption = final_co2 + consumed_kwh * s.ef_consumed + heat_consumed_co2 - ccus
        co2_energy_territorial = final_co2 + power_co2 + boiler_co2 - ccus
        bases = {"net_inflow": co2, "consumption": co2_energy_consumption + process,
                 "territorial": co2_energy_territorial + process}
        removals = p("beccs_2060_mt") * ramp("beccs_2060_mt") * pre["t_per_mt"] + s.daccs_t
        forest_sink = (pre["forest_sink"][None, :] + p("afforestation_ha_per_yr") * pre["unit_forest_sink"][None, :]) \
            * p("forest_sink_multiplier")
        wetland = (pre["wetland_sink"][None, :] + p("blue_carbon_2035_ha") * ramp("blue_carbon_2035_ha")
                   * pre["wetland_sink_per_ha"]) * p("blue_carbon_rate_multiplier")
        sink = forest_sink + wetland
        gdp = b.gdp_10k_yuan * gdp_ratio
        headline = bases[self.co2_basis]
        out = {
            "co2_emissions_t": headline, "co2_energy_t": headline - process, "co2_process_t": process + zeros,
            "ccus_t": ccus, "removals_co2_t": removals + zeros,
            "net_co2_emissions_t": headline - sink - removals, "sink_co2_t": sink,
            "forest_sink_co2_t": forest_sink + zeros,
            "wetland_sink_co2_t": wetland + zeros,
            "energy_consumption_tce": energy,
            "non_fossil_energy_tce": non_fossil if self.attribution == "grid_average" else non_fossil_local_mix,
            "non_fossil_share": (non_fossil if self.attribution == "grid_average" else non_fossil_local_mix) / energy,
            "non_fossil_share_grid_average": non_fossil / energy,
            "non_fossil_share_local_mix": non_fossil_local_mix / energy,
            "non_fossil_share_local_additions": consumed_kwh * (share - s.share_path) * k / energy,
            "grid_nonfossil_share": share, "grid_nonfossil_share_path": s.share_path,
            "coal_tce": fossil_by["coal"], "oil_tce": fossil_by["oil"], "gas_tce": fossil_by["gas"],
            "gdp_10k_yuan": gdp, "energy_intensity": energy / gdp, "co2_intensity": (headline - process) / gdp,
            "wind_solar_capacity_mw": cap["wind_onshore"] + cap["wind_offshore"] + cap["solar_utility"]
            + cap["solar_distributed"],
            "forest_coverage": pre["forest_coverage"][None, :] + p("afforestation_ha_per_yr")
            * pre["unit_forest_coverage"][None, :] + zeros,
            "forest_stock_m3": pre["forest_stock"][None, :] + p("afforestation_ha_per_yr")
            * pre["unit_forest_stock"][None, :] + zeros,
            "electricity_consumption_kwh": consumed_kwh, "net_inflow_kwh": net_inflow,
            "thermal_generation_kwh": thermal, "grid_ef_t_per_kwh": ef + zeros, "heat_demand_gj": heat_demand,
            "co2_power_t": power_co2 + scope2, "co2_heat_t": boiler_co2,
            "co2_power_local_t": power_co2, "co2_electricity_net_inflow_t": scope2,
        }
        for gname in SECTOR_GROUPS:
            out[f"co2_{gname}_t"] = co2_group[gname]
            for cg in FINAL_CARRIERS:
                out[f"final_{gname}_{cg}"] = fe[(gname, cg)]
        for tech in CAPACITY_TECHS:
            out[f"capacity_{tech}_mw"] = cap[tech] + zeros
        for tech in GENERATION_TECHS:
            out[f"generation_{tech}_kwh"] = gen[tech]
        out["nuclear_heat_gj"] = nuclear_heat_used
        out["heat_electric_gj"] = s.heat_electric
        for basis, series in bases.items():
            out[f"co2_emissions_{basis}_t"] = series
            out[f"net_co2_emissions_{basis}_t"] = series - sink - removals
        for fg in ("coal", "oil", "gas"):
            out[f"fuel_power_{fg}_tce"] = s.power_fuel[fg]
            out[f"fuel_heat_{fg}_tce"] = s.boiler_fuel[fg]
        out["refining_loss_tce"] = refining_loss + zeros
        for name, amount in d.measures.items():
            out[f"measure_{name}_tce"] = amount + zeros
        index = self._index

        def value(figure: str) -> np.ndarray:
            return p(figure) if figure in index else pre["costfig_" + figure]

        out.update(cost_series(value, ramp, pre, self.years, out))
        out.update(self._sectors(runs, d, s, out, fossil_heat))
        return out

    # issue 17 (lmdi): value added, energy and allocated CO2 by sector -------------------------------------
    def _sectors(self, runs: _Runs, d: _Demand, s: _Supply, out: dict[str, np.ndarray],
                 fossil_heat: np.ndarray) -> dict[str, np.ndarray]:
        """Stage 4, sectors (docs/pathways.md "Value added and sector energy"); adds series, changes none.

        * value added (10^4 CNY, constant prices): industry = base × (w_heavy · A_heavy · (1 − w_petro · refining
          cut) + (1 − w_heavy) · A_light), agriculture = base × A_agriculture, services = GDP − both, floored at
          ``services_min_share`` · GDP (industry and agriculture then scaled down together): Σ = GDP;
        * energy of each sector group (tce, coal-equivalent): final fuels, feedstock, hydrogen and renewables
          1:1, electricity × k_t, heat × its standard-coal factor; supply (power and heat conversion, networks,
          refining, DACCS and district heat pumps) is ``energy_supply_remainder_tce``: Σ = energy_consumption_tce;
        * CO2 of each sector group with electricity at the consumption basis' factor of the electricity the city
          consumes (``ef_consumed``) and heat at the heat factor × the fossil share of district heat;
          ``co2_process_t`` and ``− ccus_t`` as themselves and ``co2_supply_remainder_t`` for what the headline
          basis counts beyond (the net-inflow rule's export credit, the local plants against the grid factor,
          network losses, DACCS): Σ = co2_emissions_t.
        """
        pre, b = self.pre, self.base
        p, ramp, fe, act = runs.p, runs.ramp, d.fe, d.act
        gdp = out["gdp_10k_yuan"]
        refining = p("refining_throughput_2060") * ramp("refining_throughput_2060")
        industry = pre["va_industry_base"] * (pre["va_heavy_share"] * act["heavy"] * (
            1.0 - pre["va_petrochemical_share"] * refining) + (1.0 - pre["va_heavy_share"]) * act["light"])
        agriculture = pre["va_agriculture_base"] * act["agriculture"] + runs.zeros
        floor = pre["va_services_min_share"] * gdp
        scale = np.minimum(1.0, (gdp - floor) / np.maximum(industry + agriculture, 1e-300))
        industry, agriculture = industry * scale, agriculture * scale
        result = {"value_added_industry_10k_yuan": industry, "value_added_agriculture_10k_yuan": agriculture,
                  "value_added_services_10k_yuan": gdp - industry - agriculture}
        k, heat_tce = s.k, b.heat_tce_per_gj
        heat_co2 = pre["heat_ef_hist"][None, :] * fossil_heat / pre["fossil_heat_base"]

        def energy_of(cells) -> np.ndarray:
            return _sum(cells(cg) for cg in _TCE_CARRIERS) + cells("electricity") * k + cells("heat") * heat_tce

        def co2_of(direct: np.ndarray, cells) -> np.ndarray:
            return direct + cells("electricity") * s.ef_consumed + cells("heat") * heat_co2

        for g in SECTOR_GROUPS:
            def cells(cg: str, g: str = g) -> np.ndarray:
                return fe[(g, cg)]
            result[f"energy_{g}_tce"] = energy_of(cells)
            result[f"co2_{g}_allocated_t"] = co2_of(d.co2_group[g], cells)
        result["energy_supply_remainder_tce"] = out["energy_consumption_tce"] - _sum(
            result[f"energy_{g}_tce"] for g in SECTOR_GROUPS)
        result["co2_supply_remainder_t"] = out["co2_emissions_t"] - (_sum(
            result[f"co2_{g}_allocated_t"] for g in SECTOR_GROUPS) + out["co2_process_t"] - out["ccus_t"])
        result["energy_households_tce"] = energy_of(d.households_fe.__getitem__) + runs.zeros
        result["co2_households_allocated_t"] = co2_of(d.households_co2, d.households_fe.__getitem__) + runs.zeros
        return result

    def _process(self, act: dict[str, np.ndarray]) -> np.ndarray:
        """Process CO2: clinker and lime follow building materials, steel processes follow steel (both heavy)."""
        return self.pre["process_total"] * act["heavy"]

    @staticmethod
    def _electrify(q: dict, share: np.ndarray, carriers: tuple[str, ...], kwh_per_tce: np.ndarray) -> np.ndarray:
        """Move ``share`` of ``carriers`` to electricity; the tce moved."""
        total: Any = 0.0
        for k in carriers:
            if k in q:
                moved = q[k] * share
                q[k] = q[k] - moved
                q["electricity"] = q.get("electricity", 0.0) + moved * kwh_per_tce
                total = total + moved
        return np.asarray(total)

    def __post_init__(self) -> None:
        """Scenario-independent lookups of the evaluation loop (parameter index, non-zero base cells)."""
        self._index = {n: i for i, n in enumerate(self.parameters.names)}
        car_pos = {k: i for i, k in enumerate(CARRIERS)}
        self._cells = [(s, si, [(k, float(self.base.final[si, car_pos[k]])) for k in CARRIERS
                                if self.base.final[si, car_pos[k]] != 0]) for si, s in enumerate(SEGMENTS)]
        self._coefs = [{k: float(self.base.co2_per_tce[si, car_pos[k]] if self.base.final[si, car_pos[k]] > 0
                                 else self.base.carrier_co2_per_tce[car_pos[k]]) for k in CARRIERS}
                       for si in range(len(SEGMENTS))]
        # base-year final energy of each segment and activity class in tce (electricity at the base year's
        # coal-equivalent rate, heat at its standard-coal factor): what the efficiency levers' savings scale
        k_base = float(self.pre["k_base"])
        to_tce = np.array([k_base if k == "electricity" else self.base.heat_tce_per_gj if k == "heat" else 1.0
                           for k in CARRIERS])
        self._segment_tce = {s: float(self.base.final[si] @ to_tce) for si, s in enumerate(SEGMENTS)}
        self._class_tce = {cls: sum(v for s, v in self._segment_tce.items() if _SEGMENT_CLASS[s] == cls)
                           for cls in ACTIVITY_CLASSES}


# --- build -----------------------------------------------------------------------------------------

def _gdp_arrays(statistics, region: str, years: np.ndarray,
                price_base_year: int) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Real GDP growth per year from the statistics (constant prices) up to their last year, that mask, the
    last year and the base year's GDP (10^4 CNY at constant prices, as the accounting engine reads it)."""
    rows = statistics[(statistics["variable"] == "gdp") & (statistics["region"] == region)
                      & (statistics["price_base_year"] == price_base_year)]
    history = {int(r.year): float(r.value) * conversion_factor(str(r.unit), "10^4 CNY") for r in rows.itertuples()}
    if BASE_YEAR not in history:
        raise InputError(Problem(f"no GDP at constant {price_base_year} prices for {BASE_YEAR} (region {region})",
                                 file="statistics", field="gdp", value=BASE_YEAR))
    last = max(y for y in history if y <= END_YEAR)
    rate = np.zeros(len(years))
    mask = np.zeros(len(years))
    for i, year in enumerate(years):
        if int(year) <= last:
            mask[i] = 1.0
            if int(year) > BASE_YEAR:
                rate[i] = history[int(year)] / history[int(year) - 1] - 1.0
    return rate, mask, last, history[BASE_YEAR]


def _path_rates(years: np.ndarray, last: int) -> dict[str, np.ndarray]:
    paths = load_gdp_paths()
    out = {k: np.zeros(len(years)) for k in ("low", "central", "high")}
    for i, year in enumerate(years):
        if int(year) <= last:
            continue
        rows = paths[(paths["from_year"] <= year) & (paths["to_year"] >= year)]
        if rows.empty:
            raise InputError(Problem(f"gdp_paths.csv has no growth rate for {year}", file="gdp_paths.csv",
                                     field="from_year", value=int(year)))
        for key in out:
            out[key][i] = float(rows.iloc[0][key])
    return out


def _forest_arrays(forest, wetland, region: str, years: np.ndarray, ramp_aff: np.ndarray) -> dict[str, np.ndarray]:
    """Forest stock/coverage/sink without and per ha/yr of afforestation (linear in planting), and wetlands."""
    rows = forest[(forest["region"] == region) & (forest["year"] <= BASE_YEAR)]
    stock = {int(r.year): float(r.value) for r in rows[rows["variable"] == "forest_stock"].itertuples()}
    area = {int(r.year): float(r.value) for r in rows[rows["variable"] == "forest_area"].itertuples()}
    coverage = {int(r.year): float(r.value) for r in rows[rows["variable"] == "forest_coverage"].itertuples()}
    params = growth_parameters(region)
    calibration = calibrate_growth(stock, area, params)
    first = calibration.initial_state.year
    steps = END_YEAR - first
    base = project_forest(calibration.initial_state, steps, dict(calibration.planting), calibration.params,
                          extra_loss=dict(calibration.extra_loss)).set_index("year")
    impulse = project_forest(calibration.initial_state, steps, {**calibration.planting, BASE_YEAR + 1: 1.0},
                             calibration.params, extra_loss=dict(calibration.extra_loss)).set_index("year")
    sel = [int(y) for y in years]
    diff = {col: (impulse.loc[sel, col] - base.loc[sel, col]).to_numpy() for col in ("area_ha", "stock_m3",
                                                                                       "sink_tco2")}
    # planting in year y answers with diff shifted by (y - BASE_YEAR - 1); the lever plants v × ramp(y)
    schedule = ramp_aff.copy()
    schedule[0] = 0.0

    def response(d: np.ndarray) -> np.ndarray:
        return _convolve(schedule, d)

    base_area = float(base.loc[BASE_YEAR, "area_ha"])
    observed_cov = coverage.get(BASE_YEAR, float(base.loc[BASE_YEAR, "coverage"]))
    cov_scale = observed_cov / base_area
    sink_base = base.loc[sel, "sink_tco2"].to_numpy()
    wet = wetland[(wetland["region"] == region) & (wetland["year"] == BASE_YEAR)]
    areas = {str(r.ecosystem): float(r.area) * conversion_factor(str(r.unit), "ha") for r in wet.itertuples()}
    wetland_total = sum(s.sink_tco2 for s in wetland_sinks(areas)) if areas else 0.0
    constants = load_constants()
    per_ha = (constants["blue_carbon_salt_marsh_share"] * wetland_sink("salt_marsh", 1.0).sink_tco2
              + (1 - constants["blue_carbon_salt_marsh_share"]) * wetland_sink("seagrass", 1.0).sink_tco2)
    return {
        "forest_stock": base.loc[sel, "stock_m3"].to_numpy(),
        "forest_coverage": base.loc[sel, "area_ha"].to_numpy() * cov_scale,
        "forest_sink": sink_base,
        "unit_forest_stock": response(diff["stock_m3"]),
        "unit_forest_coverage": response(diff["area_ha"]) * cov_scale,
        "unit_forest_sink": response(diff["sink_tco2"]),
        "wetland_sink": np.full(len(years), wetland_total),
        "wetland_sink_per_ha": np.array(per_ha),
        "calibration": np.array([calibration.age_limit, calibration.params.multiplier]),
    }


def _convolve(schedule: np.ndarray, impulse: np.ndarray) -> np.ndarray:
    """Response at each year to planting ``schedule[y]`` ha in year y, given the response ``impulse`` to
    1 ha planted in BASE_YEAR + 1 (index 1): result[t] = Σ_y schedule[y] × impulse[t − y + 1]."""
    n = len(schedule)
    out = np.zeros(n)
    for y in range(1, n):
        if schedule[y] == 0:
            continue
        span = n - y
        out[y:] += schedule[y] * impulse[1:1 + span]
    return out


def _factor_path(years: np.ndarray, last: int, fn) -> np.ndarray:
    """A factor per model year: the factor row of the year up to ``last``, held at ``last`` after."""
    return np.array([fn(int(min(y, last))) for y in years], dtype=float)


@cache
def build_model(city: str = "dalian") -> PathwayModel:
    """The pathway model of ``city``'s shipped reference dataset, built once per process.

    The services build models of other data (the store's ledger) with :func:`model_from_dataset`."""
    return model_from_dataset(load_reference(city), city)


def model_from_dataset(reference: ReferenceDataset, city: str | None = None, *,
                       inputs: AccountingInputs | None = None,
                       registry: dict[str, dict[int, float]] | None = None) -> PathwayModel:
    """Build the pathway model on ``reference`` (the base year and history of the energy balance, statistics,
    capacity, forest and wetland tables; ``inputs``: the same dataset's accounting inputs when the caller
    has them). ``city`` (default: the dataset's name) picks the accounting options and the plan. ``registry``:
    wind and solar capacity connected by year from the energy-project registry ({technology: {year: MW}}),
    the starting line of the capacity paths up to its last year. Not cached."""
    city = city or reference.name
    if inputs is None:
        inputs = dataset_inputs(reference)
    options = AccountingOptions.for_city(city)
    table = load_factors()
    plan = load_plan()
    region = str(plan.meta.region_code)
    years = np.arange(BASE_YEAR, END_YEAR + 1)
    hist_rate, hist_mask, last_stat, gdp0 = _gdp_arrays(inputs.statistics, region, years, options.price_base_year)
    base = build_base(inputs.balance, inputs.process_activity, reference.capacity, BASE_YEAR, region, options,
                      table, gdp0)
    levers = load_levers()
    uncertain = load_uncertain()
    costs = load_costs()
    params = parameter_set(levers, uncertain, costs)
    constants = load_constants()
    steep = constants["scurve_steepness"]
    pre: dict[str, np.ndarray] = {}
    for lever in levers:
        pre["ramp_" + lever.id] = lever.ramp(years, steep)
        pre["cumramp_" + lever.id] = np.cumsum(pre["ramp_" + lever.id])
    rates = _path_rates(years, last_stat)
    pre["gdp_hist_rate"], pre["gdp_hist_mask"] = hist_rate[None, :], hist_mask[None, :]
    pre["gdp_central"] = rates["central"][None, :]
    pre["gdp_up"] = (rates["high"] - rates["central"])[None, :]
    pre["gdp_down"] = (rates["central"] - rates["low"])[None, :]
    pre["after_base"] = (years > BASE_YEAR).astype(float)
    last = max(int(y) for y in reference.balance["year"].unique())
    pre["last_year_mask"] = (years <= last).astype(float)
    pre["last_index"] = np.array(last - BASE_YEAR)
    pre["years_after_last"] = np.maximum(years - last, 0).astype(float)
    pre["years_after_base"] = (years - BASE_YEAR).astype(float)
    pre["frac_to_end"] = np.clip((years - last) / (END_YEAR - last), 0.0, 1.0)
    used: dict[str, FactorRow] = dict(base.factor_rows)

    def k_of(year: int) -> float:
        factor = electricity_factor(table, year, options)
        if factor.row is not None:
            used[factor.row.factor_id] = factor.row
        return factor.value * product_factor("kWh", factor.unit, "tce")

    def ef_of(year: int) -> float:
        row = _lookup(table, "grid_ef", year, options.grid_ef_set, (options.grid_region, options.grid_region_fallback))
        used[row.factor_id] = row
        return row.value * product_factor("kWh", row.unit, "t")

    def share_of(year: int) -> float:
        row = _lookup(table, "grid_nonfossil_share", year, None,
                      (options.grid_share_region, options.grid_region_fallback))
        used[row.factor_id] = row
        return row.value_in("dimensionless")

    if options.method != "coal-equivalent":
        raise InputError(Problem("the pathway model implements the coal-equivalent method (the Dalian options)",
                                 file=f"{city}/accounting.yaml", field="method"))

    def heat_ef_of(year: int) -> float:
        row = table.lookup("heat_ef", HEAT, year, factor_set=options.heat_ef_set)
        used[row.factor_id] = row
        return row.value * product_factor("GJ", row.unit, "t")
    pre["k_hist"] = _factor_path(years, last, k_of)
    pre["heat_ef_hist"] = _factor_path(years, last, heat_ef_of)
    pre["fossil_heat_base"] = np.array(1.0)
    pre["ef_hist"] = _factor_path(years, last, ef_of)
    pre["share_hist"] = _factor_path(years, last, share_of)
    pre["k_last"], pre["ef_last"], pre["share_last"] = (np.array(pre[k][last - BASE_YEAR]) for k in
                                                        ("k_hist", "ef_hist", "share_hist"))
    pre["k_base"] = np.array(pre["k_hist"][0])
    kwh_per_mw_year = conversion_factor("MW * year", "kWh")
    pre["kwh_per_mw_year"] = np.array(kwh_per_mw_year)
    pre["kwh_per_mwh"] = np.array(conversion_factor("MWh", "kWh"))
    pre["kwh_per_twh"] = np.array(conversion_factor("TWh", "kWh"))
    pre["gj_per_pj"] = np.array(conversion_factor("PJ", "GJ"))
    pre["kwh_per_gj"] = np.array(conversion_factor("GJ", "kWh"))
    pre["kw_per_mw"] = np.array(conversion_factor("MW", "kW"))
    pre["t_per_mt"] = np.array(conversion_factor("Mt", "t"))
    pre["tce_per_kt_h2"] = np.array(constants["hydrogen_lhv"] * product_factor("kt", "GJ/t", "tce"))
    pre["tce_per_t_h2"] = np.array(constants["hydrogen_lhv"] * product_factor("t", "GJ/t", "tce"))
    pre.update(_share_weights(years, last))
    pre.update(_value_added_arrays(inputs.statistics, region, options.price_base_year, gdp0))  # issue 17 (lmdi)
    pre.update(_cost_arrays(costs, params, years))
    pre.update(_potential_arrays(levers))
    registry = {tech: {int(y): float(v) for y, v in by_year.items()} for tech, by_year in (registry or {}).items()
                if by_year}
    if registry:
        pre.update(_registry_arrays(registry, levers, years, base.capacity_mw, constants["scurve_steepness"]))
    # capacity-factor calibration: the base year's generation exactly, whatever the default factors
    cap0, gen0 = base.capacity_mw, base.generation_kwh
    u = uncertain["default"]
    pre["calib_wind"] = np.array(gen0["wind_power"] / ((cap0.get("wind_onshore", 0) * u["cf_wind_onshore"]
                                                        + cap0.get("wind_offshore", 0) * u["cf_wind_offshore"])
                                                       * kwh_per_mw_year))
    pre["calib_solar"] = np.array(gen0["solar_power"] / ((cap0.get("solar_utility", 0) + cap0.get(
        "solar_distributed", 0)) * u["cf_solar"] * kwh_per_mw_year))
    pre["calib_nuclear"] = np.array(gen0["nuclear_power"] / (cap0["nuclear"] * u["cf_nuclear"] * kwh_per_mw_year))
    pre["calib_thermal"] = np.array(gen0["thermal"] / ((cap0.get("coal", 0) + cap0.get("gas", 0)) * u["cf_coal"]
                                                       * kwh_per_mw_year))
    pre["hydro_kwh"] = np.array(gen0["hydro_power"])
    pre["biomass_kwh"] = np.array(gen0["biomass_power"])
    nuclear = reference.capacity[(reference.capacity["technology"] == "nuclear")
                                 & (reference.capacity["region"] == region)]
    nuclear_by_year = {int(r.year): float(r.capacity) * conversion_factor(str(r.unit), "MW")
                       for r in nuclear.itertuples()}
    pre["nuclear_mw"] = np.array([nuclear_by_year[min(int(y), max(nuclear_by_year))] for y in years])
    pre["power_tce_per_kwh"] = np.array(sum(base.power_fuel_tce_per_kwh.values()))
    for group_name, share in base.boiler_fuel_share.items():
        pre["boiler_share_" + group_name] = np.array(share)
    pre["process_total"] = np.array(sum(base.process_co2.values()))
    pre.update(_forest_arrays(reference.forest, reference.wetland, region, years,
                              pre["ramp_afforestation_ha_per_yr"]))
    schedule = pre["ramp_afforestation_ha_per_yr"].copy()
    schedule[0] = 0.0
    pre["planting_schedule"] = schedule
    specs, unset = _target_specs(list(plan.targets))
    model = PathwayModel(city=city, region=region, years=years, parameters=params, levers=levers, base=base,
                         plan=plan,
                         pre=pre, constants=constants, factor_rows=used, target_specs=specs, unset_targets=unset,
                         sources={"inputs": str(inputs.hashes), "estimates": "; ".join(inputs.estimates)},
                         co2_basis=str(options.electricity_co2_basis).replace("-", "_"),
                         attribution=str(options.nonfossil_attribution).replace("-", "_"),
                         peak_rule=str(options.peak_rule_basis or "worse").replace("-", "_"), registry=registry)
    return model


# issue 17 (lmdi) ------------------------------------------------------------------------------------
#: the statistics' variables of value added by sector (primary, secondary, tertiary industry)
VALUE_ADDED_VARIABLES = {"agriculture": "gdp_primary", "industry": "gdp_secondary", "services": "gdp_tertiary"}


def _value_added_arrays(statistics, region: str, price_base_year: int, gdp0: float) -> dict[str, np.ndarray]:
    """Base-year value added of industry and agriculture (10^4 CNY at constant prices) and the figures of
    ``data/pathways/value_added.csv``. The split of GDP is the statistics' ``gdp_primary`` / ``gdp_secondary`` /
    ``gdp_tertiary`` of the base year (at constant prices of ``price_base_year``, or at current prices when the
    base year is the price base year), as shares of their sum times the model's GDP; without them the
    file's fallback shares (China 2020)."""
    from citycarbon.data import data_path

    figures = load_constants(str(data_path("pathways/value_added.csv")))
    rows = statistics[(statistics["region"] == region) & (statistics["year"] == BASE_YEAR)
                      & statistics["variable"].isin(list(VALUE_ADDED_VARIABLES.values()))]
    prices = rows["price_base_year"]
    constant = rows[prices.eq(price_base_year).fillna(False).astype(bool)]
    if constant.empty and price_base_year == BASE_YEAR:
        constant = rows[prices.isna().astype(bool)]
    found = {str(r.variable): float(r.value) * conversion_factor(str(r.unit), "10^4 CNY")
             for r in constant.itertuples()}
    if all(v in found for v in VALUE_ADDED_VARIABLES.values()) and sum(found.values()) > 0:
        total = sum(found.values())
        shares = {sector: found[v] / total for sector, v in VALUE_ADDED_VARIABLES.items()}
    else:
        shares = {"agriculture": figures["fallback_primary_share"], "industry": figures["fallback_secondary_share"]}
    return {"va_industry_base": np.array(gdp0 * shares["industry"]),
            "va_agriculture_base": np.array(gdp0 * shares["agriculture"]),
            "va_heavy_share": np.array(figures["heavy_share_of_industry_value_added"]),
            "va_petrochemical_share": np.array(figures["petrochemical_share_of_heavy_value_added"]),
            "va_services_min_share": np.array(figures["services_min_share"])}


#: capacity technologies the registry and the potentials act on → their 2030 lever
CAPACITY_LEVERS = {"wind_onshore": "wind_onshore_2030_mw", "wind_offshore": "offshore_wind_2030_mw",
                   "solar_utility": "solar_utility_2030_mw", "solar_distributed": "rooftop_pv_2030_mw"}


def _share_weights(years: np.ndarray, last: int) -> dict[str, np.ndarray]:
    """Weights of the provincial grid's non-fossil share path: linear from the latest factor row to the 2030
    parameter, then to the 2060 parameter (``share_t = w_last·s_last + w_2030·s_2030 + w_2060·s_2060``)."""
    w_last, w_30, w_60 = (np.zeros(len(years)) for _ in range(3))
    for i, year in enumerate(int(y) for y in years):
        if year <= last:
            w_last[i] = 1.0
        elif year <= 2030 and last < 2030:
            f = (year - last) / (2030 - last)
            w_last[i], w_30[i] = 1.0 - f, f
        else:
            start = max(2030, last)
            f = (year - start) / (END_YEAR - start)
            if last < 2030:
                w_30[i], w_60[i] = 1.0 - f, f
            else:
                w_last[i], w_60[i] = 1.0 - f, f
    return {"w_share_last": w_last, "w_share_2030": w_30, "w_share_2060": w_60}


def _cost_arrays(costs, params: ParameterSet, years: np.ndarray) -> dict[str, np.ndarray]:
    """Fixed cost figures (``costfig_<id>``) and each learning technology's doublings per model year."""
    out: dict[str, np.ndarray] = {}
    for row in costs.itertuples():
        out["costfig_" + str(row.id)] = np.array(float(row.default))
    learning = load_learning()
    for tech, rows in learning.groupby("technology"):
        rows = rows.sort_values("year")
        out["doublings_" + str(tech)] = np.interp(years.astype(float), rows["year"].to_numpy(float),
                                                  rows["doublings"].to_numpy(float))
    return out


def _potential_arrays(levers: tuple[Lever, ...]) -> dict[str, np.ndarray]:
    """The capacity caps of potentials.csv in MW (``potential_<technology>``; no row: no cap)."""
    potentials = load_potentials()
    out: dict[str, np.ndarray] = {}
    for tech in CAPACITY_LEVERS:
        rows = potentials[potentials["technology"] == tech]
        out["potential_" + tech] = np.array(float(rows.iloc[0]["value"]) * conversion_factor(
            str(rows.iloc[0]["unit"]), "MW")) if len(rows) else np.array(np.inf)
    return out


def _registry_arrays(registry: dict[str, dict[int, float]], levers: tuple[Lever, ...], years: np.ndarray,
                     stock: dict[str, float], steepness: float) -> dict[str, np.ndarray]:
    """The registry's capacity up to its last year, and each lever's ramp rescaled to start there."""
    last = max(max(by_year) for by_year in registry.values())
    by_id = {lv.id: lv for lv in levers}
    out: dict[str, np.ndarray] = {"registry_mask": (years <= last).astype(float)}
    for tech, lever_id in CAPACITY_LEVERS.items():
        known = registry.get(tech, {})
        series, value = np.zeros(len(years)), stock.get(tech, 0.0)
        for i, year in enumerate(int(y) for y in years):
            if year in known:
                value = known[year]
            series[i] = value
        out["registry_" + tech] = series
        start_index = min(int(last) - BASE_YEAR, len(years) - 1)
        out["registry_start_" + tech] = np.array(series[start_index])
        r = by_id[lever_id].ramp(years, steepness)
        r_last = r[start_index]
        out["registry_ramp_" + lever_id] = np.clip((r - r_last) / (1.0 - r_last), 0.0, 1.0) if r_last < 1.0 \
            else (years > last).astype(float)
    return out


def _lookup(table, kind: str, year: int, factor_set: str | None, regions: tuple[str, ...]) -> FactorRow:
    return table.lookup_first(kind, ELECTRICITY, year, factor_set=factor_set, regions=regions)


def _target_specs(targets: list) -> tuple[list[dict], list[str]]:
    """Targets the model can evaluate (a value, a known indicator, a model year), with their unit scale
    (model unit → target unit); the ids of the others."""
    model_units = indicator_units((
        "non_fossil_share", "wind_solar_capacity_mw", "forest_coverage", "forest_stock_m3", "co2_peak_year",
        "net_co2_emissions_t", "energy_intensity_reduction", "co2_intensity_reduction", "co2_emissions_t",
        "energy_consumption_tce", "energy_intensity_tce_per_10k_yuan", "co2_intensity_t_per_10k_yuan"))
    specs, unset = [], []
    for target in targets:
        if target.value is None or target.indicator not in model_units or not BASE_YEAR <= target.year <= END_YEAR:
            unset.append(target.id)
            continue
        unit = model_units[target.indicator]
        scale = 1.0 if unit == "year" else conversion_factor(unit, target.unit)
        specs.append({"id": target.id, "indicator": target.indicator, "year": target.year,
                      "base_year": target.base_year, "value": float(target.value),
                      "comparison": str(target.comparison), "tolerance": target.tolerance or 0.0, "scale": scale,
                      "unit": target.unit, "title_zh": target.title_zh, "title_en": target.title_en})
    return specs, unset
