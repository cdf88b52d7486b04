"""One pathway run as a result object: the ``citycarbon pathway run`` JSON, with provenance."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from citycarbon.provenance import Provenance

#: series reported by ``run`` (the full set is in ``Outputs.series``)
RUN_SERIES = ("co2_emissions_t", "energy_consumption_tce", "non_fossil_share", "wind_solar_capacity_mw",
              "net_co2_emissions_t", "co2_energy_t", "co2_process_t", "ccus_t", "sink_co2_t", "co2_intensity",
              "energy_intensity", "gdp_10k_yuan", "forest_coverage", "forest_stock_m3", "coal_tce", "oil_tce",
              "gas_tce", "electricity_consumption_kwh", "net_inflow_kwh")


def _number(value: float) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


@dataclass
class PathwayResult:
    """One scenario's pathway: series by year, peak, plateau, cumulative and net emissions, plan targets."""

    scenario: str
    code: str
    years: list[int]
    series: dict[str, list[float]]
    units: dict[str, str]
    peak_year: int
    peak_value: float
    plateau_years: int
    cumulative_co2_t: float
    neutrality_year: int | None
    targets: list[dict]
    levers: dict[str, float]
    provenance: Provenance
    #: issue 17 (macc): per CO2 basis its peak, plateau, neutrality and series names; the costs (None: no cost model)
    bases: dict[str, dict] = field(default_factory=dict)
    costs: dict | None = None

    @classmethod
    def from_outputs(cls, model, scenario, outputs) -> PathwayResult:
        from citycarbon.pathways.model import MODEL_VERSION, SERIES_UNITS
        met_margin = outputs.targets()
        targets = []
        for spec in model.target_specs:
            met, margin = met_margin[spec["id"]]
            targets.append({"id": spec["id"], "met": bool(met[0]), "margin": float(margin[0]),
                            "indicator": spec["indicator"], "year": spec["year"], "value": spec["value"],
                            "unit": spec["unit"], "comparison": spec["comparison"], "title_zh": spec["title_zh"]})
        targets += [{"id": t, "met": None, "margin": None, "note": "target value not set in the plan"}
                    for t in model.unset_targets]
        neutral = outputs.neutrality_year()[0]
        bases, basis_series = run_bases(outputs)
        provenance = Provenance(
            method="LEAP-style activity × intensity pathway on the accounted base year (docs/pathways.md)",
            method_version=MODEL_VERSION,
            standards=["GB/T 2589-2020", "省级温室气体清单编制指南(试行)", "IPCC 2006 Vol. 2 and Vol. 4",
                       "IAMC time-series format (export)"],
            inputs={"scenario": scenario.source, "scenario_code": scenario.code, "balance": model.sources["inputs"]},
            factors=[row.to_dict() for row in sorted(model.factor_rows.values(), key=lambda r: r.factor_id)],
            parameters={"levers": dict(scenario.levers), "parameters": dict(scenario.parameters)},
            estimates=[e for e in model.sources["estimates"].split("; ") if e]
            + ["levers.csv, parameters.csv, gdp_paths.csv, transport_modes.csv: estimates (see docs/pathways.md)"],
        )
        return cls(
            scenario=scenario.name, code=scenario.code, years=[int(y) for y in outputs.years],
            series={k: [float(v) for v in outputs.series[k][0]] for k in (*RUN_SERIES, *basis_series)},
            units={k: SERIES_UNITS[k] for k in (*RUN_SERIES, *basis_series)},
            peak_year=int(outputs.peak_year()[0]), peak_value=float(outputs.peak_value()[0]),
            plateau_years=int(outputs.plateau_years()[0]), cumulative_co2_t=float(outputs.cumulative_co2()[0]),
            neutrality_year=None if np.isnan(neutral) else int(neutral), targets=targets,
            levers={**{lv.id: lv.default for lv in model.levers}, **scenario.levers}, provenance=provenance,
            bases=bases, costs=run_costs(outputs))

    def to_dict(self) -> dict:
        """The ``run`` JSON of issue 5 (scenario, code, years, series, peak_year, peak_value, targets) + extras."""
        return {"scenario": self.scenario, "code": self.code, "years": self.years, "series": self.series,
                "peak_year": self.peak_year, "peak_value": self.peak_value, "targets": self.targets,
                "plateau_years": self.plateau_years, "cumulative_co2_t": self.cumulative_co2_t,
                "net_co2_2060_t": _number(self.series["net_co2_emissions_t"][-1]),
                "neutrality_year": self.neutrality_year, "units": self.units, "levers": self.levers,
                "provenance": self.provenance.to_dict(), "bases": self.bases, "costs": self.costs}

    def rows(self, step: int = 5) -> list[dict]:
        """Table view: one row per ``step`` years (and the last year) with the main series."""
        rows = []
        for i, year in enumerate(self.years):
            if (year - self.years[0]) % step and year != self.years[-1]:
                continue
            rows.append({"year": year,
                         "co2_mt": self.series["co2_emissions_t"][i] / 1e6,
                         "net_co2_mt": self.series["net_co2_emissions_t"][i] / 1e6,
                         "energy_mtce": self.series["energy_consumption_tce"][i] / 1e6,
                         "non_fossil_share": self.series["non_fossil_share"][i],
                         "wind_solar_gw": self.series["wind_solar_capacity_mw"][i] / 1e3,
                         "forest_coverage": self.series["forest_coverage"][i]})
        return rows


# issue 17 (macc): the run JSON's bases and costs
def run_bases(outputs, row: int = 0) -> tuple[dict[str, dict], list[str]]:
    """Per CO2 basis the outputs carry (``outputs.bases()``): peak year and value, plateau years, neutrality year,
    net CO2 in the last year and the names of its two series; and those series' names (added to the run's)."""
    bases: dict[str, dict] = {}
    names: list[str] = []
    for basis in outputs.bases() if callable(getattr(outputs, "bases", None)) else ():
        co2, net = f"co2_emissions_{basis}_t", f"net_co2_emissions_{basis}_t"
        neutral = float(outputs.neutrality_year(basis)[row])
        bases[basis] = {"peak_year": int(outputs.peak_year(basis)[row]),
                        "peak_value": float(outputs.peak_value(basis)[row]),
                        "plateau_years": int(outputs.plateau_years(basis)[row]),
                        "neutrality_year": None if np.isnan(neutral) else int(neutral),
                        "net_co2_last_year_t": float(outputs.net_co2(basis)[row, -1]),
                        "series": {"co2": co2, "net_co2": net}}
        names += [n for n in (co2, net) if n in outputs.series]
    return bases, names


def run_costs(outputs, row: int = 0) -> dict | None:
    """The run's costs: NPV (CNY at the base year, annual costs 2021–2060 discounted), the annual cost in total,
    by sector and by kind (CNY/yr, capital annualised), the discount factor path; None without a cost model."""
    if "cost_total_cny" not in outputs.series:
        return None
    from citycarbon.pathways.costs import KINDS, SECTORS

    keys = ["cost_total_cny", *(f"cost_{s}_cny" for s in SECTORS), *(f"cost_{k}_cny" for k in KINDS)]
    return {"npv_cny": float(outputs.npv()[row]),
            "annual": {k: [float(v) for v in outputs.series[k][row]] for k in keys if k in outputs.series},
            "discount_factor": [float(v) for v in outputs.series["discount_factor"][row]],
            "sectors": list(SECTORS), "kinds": list(KINDS),
            "units": {"npv_cny": "CNY", "annual": "CNY/yr", "discount_factor": "dimensionless"}}
