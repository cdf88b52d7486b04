"""``citycarbon pathway ensemble|sensitivity|attribute|seek``: uncertainty, sensitivity, attribution, goal-seek.

Each command gets the city's pathway model from the pathway service (``--source store|files``), reads the
scenario (a shipped name such as ``Plan`` or a YAML file) and calls one function of :mod:`citycarbon.pathways`
(``uncertainty.ensemble``, ``sensitivity.sobol``/``morris``, ``attribution.shapley``, ``goalseek.seek``); the
JSON is that result's ``to_dict()`` (documented in docs/pathways.md), the table and CSV a flat view of it.
Bad input: exit 2 with the error on stderr.

``ensemble`` and ``sensitivity`` run on a Dask cluster when ``--scheduler`` is given or
``CITYCARBON_DASK_SCHEDULER`` is set, with results identical to the in-process run for the same seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from citycarbon.cli.groups import pathway_app
from citycarbon.cli.output import (
    FORMAT_OPTION,
    SOURCE_OPTION,
    DataSourceChoice,
    OutputFormat,
    emit,
    fail,
    source_value,
)
from citycarbon.cli.progress import QUIET_OPTION, progress_bars
from citycarbon.errors import InputError, Problem

SCENARIO_OPTION = typer.Option("--scenario", "-s", help="scenario name (BAU, Plan, Enhanced) or YAML file")
CITY_OPTION = typer.Option("--city", help="city model")
SEED_OPTION = typer.Option("--seed", help="random seed (same seed → identical results)")
SCHEDULER_OPTION = typer.Option("--scheduler", help="Dask scheduler address (default: CITYCARBON_DASK_SCHEDULER, "
                                                    "else in-process)")


def load_model_and_scenario(city: str, scenario: str, source: str | None = None) -> tuple[Any, Any]:
    """The model of ``city`` on the data of ``source`` (the pathway service: the ledger when a database
    exists, the shipped files otherwise) and the resolved ``scenario`` (name or file)."""
    from citycarbon.services.pathways import PathwayService

    service = PathwayService(city, source=source)
    return service.model(), service.load(scenario)


def load_scenario_only(name: str) -> Any:
    from citycarbon.pathways import load_scenario

    return load_scenario(name)


def _scheduler(address: str | None) -> str | None:
    if address:
        return address
    from citycarbon.settings import Settings

    return Settings.from_env().dask_scheduler


def read_cost_file(path: Path) -> dict[str, float]:
    """``lever_id: weight`` pairs from a YAML file; InputError naming the file and the entry otherwise."""
    import yaml

    if not path.is_file():
        raise InputError(Problem("file not found", file=str(path)))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise InputError(Problem(f"cannot read YAML: {error}", file=str(path))) from error
    if not isinstance(data, dict) or not data:
        raise InputError(Problem("expected a mapping lever id → weight", file=str(path)))
    weights: dict[str, float] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(Problem("weight must be a number", file=str(path), field=str(key), value=value))
        weights[str(key)] = float(value)
    return weights


def ensemble_rows(data: dict) -> list[dict]:
    """Table/CSV view: the peak probability, each target's probability and mean margin, the peak years."""
    rows = [{"指标 / indicator": "P(碳排放 2030 年前达峰) / P(CO2 peak ≤ 2030)", "概率 / probability":
             data["p_peak_by_2030"], "平均余量 / mean margin": None}]
    rows += [{"指标 / indicator": f"{t['id']} {t.get('title_zh') or ''}".strip(), "概率 / probability": t["p_met"],
              "平均余量 / mean margin": t["mean_margin"]} for t in data["targets"]]
    rows += [{"指标 / indicator": f"达峰年 / peak year {year}", "概率 / probability": share,
              "平均余量 / mean margin": None} for year, share in data["peak_year_distribution"].items()]
    return rows


def register(app: typer.Typer) -> None:
    """Add the commands to the shared ``pathway`` group (attached to ``app`` by :mod:`citycarbon.cli.groups`)."""

    @pathway_app.command("ensemble")
    def ensemble_command(
        scenario: Annotated[str, SCENARIO_OPTION],
        runs: Annotated[int, typer.Option("--runs", "-n", help="number of Monte Carlo runs")] = 1000,
        seed: Annotated[int, SEED_OPTION] = 0,
        scheduler: Annotated[str | None, SCHEDULER_OPTION] = None,
        chunk: Annotated[int | None, typer.Option("--chunk", help="runs per model call / Dask task "
                                                  "(default: uncertainty.DEFAULT_CHUNK)")] = None,
        city: Annotated[str, CITY_OPTION] = "dalian",
        source: DataSourceChoice | None = SOURCE_OPTION,
        fmt: OutputFormat = FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
        versus: Annotated[str | None, typer.Option("--versus", help="also the NPV difference to this scenario "
                                                   "(e.g. BAU) on the same draws")] = None,
    ) -> None:
        """Monte Carlo (Latin hypercube) over uncertain parameters: P(peak ≤ 2030), P(each target met), percentiles."""
        from citycarbon.pathways.uncertainty import ensemble

        try:
            with progress_bars(quiet) as bars, bars.step("建模 / model", city):
                model, scen = load_model_and_scenario(city, scenario, source_value(source))
            options: dict[str, Any] = {"chunk": chunk} if chunk is not None else {}
            if versus:  # issue 17 (macc)
                options["versus"] = load_scenario_only(versus)
            with progress_bars(quiet) as bars:
                result = ensemble(model, scen, runs, seed, dask=_scheduler(scheduler), **options,
                                  progress=bars.task("集合运行 / ensemble", "runs"))
        except InputError as error:
            fail(error)
            return
        data = result.to_dict()
        emit(data, fmt, rows=ensemble_rows(data) + ensemble_basis_cost_rows(data),
             title=f"{result.scenario} 情景不确定性分析 / ensemble: {runs} runs, seed {seed}")

    @pathway_app.command("sensitivity")
    def sensitivity_command(
        scenario: Annotated[str, SCENARIO_OPTION],
        method: Annotated[str, typer.Option("--method", "-m", help="sobol | morris")] = "sobol",
        n: Annotated[int, typer.Option("--n", help="Sobol base samples (power of two) or Morris trajectories")] = 512,
        seed: Annotated[int, SEED_OPTION] = 0,
        output: Annotated[str, typer.Option("--output", help="cumulative_co2 | peak_year | peak_value | co2_<year> "
                                                             "| margin:<target>")] = "cumulative_co2",
        second_order: Annotated[bool, typer.Option("--second-order/--first-order",
                                                   help="Sobol: also S2 (more runs)")] = True,
        by: Annotated[str, typer.Option("--by", help="Sobol factors: parameter | group")] = "parameter",
        scheduler: Annotated[str | None, SCHEDULER_OPTION] = None,
        city: Annotated[str, CITY_OPTION] = "dalian",
        source: DataSourceChoice | None = SOURCE_OPTION,
        fmt: OutputFormat = FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
    ) -> None:
        """Which levers and uncertain parameters matter most: Sobol S1/ST/S2 or Morris μ*/σ (SALib)."""
        from citycarbon.pathways.sensitivity import morris, sobol

        try:
            if method not in ("sobol", "morris"):
                raise InputError(Problem("method must be sobol or morris", field="--method", value=method))
            with progress_bars(quiet) as bars, bars.step("建模 / model", city):
                model, scen = load_model_and_scenario(city, scenario, source_value(source))
            dask = _scheduler(scheduler)
            with progress_bars(quiet) as bars:
                bar = bars.task(f"敏感性分析 / {method}", "runs")
                if method == "sobol":
                    result = sobol(model, scen, n, seed=seed, output=output, second_order=second_order, by=by,
                                   dask=dask, progress=bar)
                else:
                    result = morris(model, scen, n, seed=seed, output=output, dask=dask, progress=bar)
        except InputError as error:
            fail(error)
            return
        emit(result.to_dict(), fmt, rows=result.rows(),
             title=f"{result.scenario} 敏感性分析 / sensitivity ({method}, {result.output}, {result.runs} runs)")

    @pathway_app.command("attribute")
    def attribute_command(
        scenario: Annotated[str, SCENARIO_OPTION],
        base: Annotated[str, typer.Option("--base", help="base scenario the gap is measured from")] = "BAU",
        permutations: Annotated[int, typer.Option("--permutations", help="sampled orderings")] = 200,
        seed: Annotated[int, SEED_OPTION] = 0,
        exact: Annotated[bool, typer.Option("--exact", help="every coalition (2^groups runs) instead")] = False,
        output: Annotated[str, typer.Option("--output", help="series to attribute")] = "co2_emissions_t",
        lmdi: Annotated[int | None, typer.Option("--lmdi", help="also the by-sector LMDI of the gap between --base "
                                                 "and the scenario in this year (issue 17)")] = None,
        # issue 17 (lmdi): the period LMDI of the scenario from its base year (what --lmdi gave before)
        lmdi_period: Annotated[int | None, typer.Option("--lmdi-period", help="also LMDI of the scenario's CO2 "
                                                        "from its base year to this year, city and by sector")] = None,
        city: Annotated[str, CITY_OPTION] = "dalian",
        source: DataSourceChoice | None = SOURCE_OPTION,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Shapley attribution of the gap between --base and the scenario to lever groups (wedges)."""
        from citycarbon.pathways.attribution import attach_lmdi, shapley

        try:
            model, scen = load_model_and_scenario(city, scenario, source_value(source))
            base_scenario = load_scenario_only(base)
            result = shapley(model, base_scenario, scen, permutations=permutations, seed=seed, output=output,
                             exact=exact)
            # issue 17 (lmdi): --lmdi YEAR adds "lmdi_between" (by sector, the gap in YEAR) and "lmdi" (as before)
            lmdi_rows = attach_lmdi(result, model, base_scenario, scen, lmdi=lmdi, lmdi_period=lmdi_period)
        except InputError as error:
            fail(error)
            return
        data, rows = result.to_dict(), result.rows() + lmdi_rows
        emit(data, fmt, rows=rows,
             title=f"{result.scenario} 相对 {result.base} 的减排贡献 / attribution ({result.output}, cumulative)")

    @pathway_app.command("seek")
    def seek_command(
        scenario: Annotated[str, SCENARIO_OPTION],
        seed: Annotated[int, SEED_OPTION] = 0,
        targets: Annotated[str | None, typer.Option("--targets", help="comma-separated target ids "
                                                    "(default: every plan target)")] = None,
        probability: Annotated[float | None, typer.Option("--probability", help="meet each target in at least "
                                                          "this share of an ensemble")] = None,
        runs: Annotated[int, typer.Option("--runs", help="ensemble runs with --probability")] = 200,
        cost: Annotated[Path | None, typer.Option("--cost", help="YAML: lever id → weight of moving it "
                                                  "(a costly lever gets a larger weight)")] = None,
        # issue 17 (seek): the objective and the floor at the scenario
        objective: Annotated[str, typer.Option("--objective", help="distance (closest to the scenario) | "
                                               "least-cost (lowest NPV of the energy-system cost)")] = "distance",
        keep_scenario: Annotated[bool, typer.Option("--keep-scenario", help="no lever less ambitious than the "
                                                    "scenario (what it takes beyond it)")] = False,
        city: Annotated[str, CITY_OPTION] = "dalian",
        source: DataSourceChoice | None = SOURCE_OPTION,
        fmt: OutputFormat = FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
    ) -> None:
        """Lever settings that meet every plan target while staying closest to the scenario (or cheapest)."""
        from citycarbon.services.pathways import seek_pathway

        try:
            if objective not in ("distance", "least-cost"):
                raise InputError(Problem("objective must be distance or least-cost", field="objective",
                                         value=objective))
            weights = read_cost_file(cost) if cost is not None else None
            with progress_bars(quiet) as bars, bars.step("建模 / model", city):
                model, scen = load_model_and_scenario(city, scenario, source_value(source))
            chosen: Any = "all" if not targets else [t.strip() for t in targets.split(",") if t.strip()]
            with progress_bars(quiet) as bars:
                result = seek_pathway(model, scen, seed=seed, targets=chosen, probability=probability, runs=runs,
                                      cost=weights, objective=objective, keep_scenario=keep_scenario,
                                      progress=bars.task("目标反推 / goal-seek", "steps"))
        except InputError as error:
            fail(error)
            return
        state = "可达 / feasible" if result.feasible else "不可全部达成 / not all targets reachable"
        binding = ", ".join(result.binding) or "—"
        unreachable = ", ".join(t["id"] for t in result.infeasible) or "—"
        rows = result.rows()
        if result.cost is not None:
            c = result.cost
            rows += [{"措施 / lever": "NPV 2021-2060 (亿元 / 100 million CNY)", "组 / group": "cost",
                      "方案值 / scenario": round(c["npv_scenario_cny"] / 1e8, 1),
                      "建议值 / sought": round(c["npv_cny"] / 1e8, 1),
                      "变化 / change": round(c["npv_change_cny"] / 1e8, 1), "单位 / unit": "1e8 CNY"}]
            for year, by_sector in c["annual_change_cny"].items():
                rows += [{"措施 / lever": f"年成本变化 / annual cost change {year}: {sector}", "组 / group": "cost",
                          "方案值 / scenario": None, "建议值 / sought": None,
                          "变化 / change": round(value / 1e8, 2), "单位 / unit": "1e8 CNY/yr"}
                         for sector, value in by_sector.items()]
        for target_id, why in result.why.items():
            rows.append({"措施 / lever": f"不可达原因 / why {target_id}", "组 / group": "why",
                         "方案值 / scenario": why["text_zh"], "建议值 / sought": why["text_en"],
                         "变化 / change": None, "单位 / unit": None})
        npv = (f"; NPV {result.cost['npv_cny'] / 1e8:,.0f} 亿元 / 1e8 CNY "
               f"(Δ {result.cost['npv_change_cny'] / 1e8:+,.0f})" if result.cost else "")
        emit(result.to_dict(), fmt, rows=rows,
             title=f"{result.scenario} 目标反推 / goal-seek ({result.objective}): {state}; 约束目标 / binding: "
                   f"{binding}; 措施范围内不可达 / unreachable within lever ranges: {unreachable}; "
                   f"距离 / distance {result.distance:.3f}{npv}")


# issue 17 (macc)
BASIS_LABELS = {"net_inflow": "净调入电力口径 / net inflow", "consumption": "消费口径 / consumption",
                "territorial": "属地口径 / territorial"}


def ensemble_basis_cost_rows(data: dict) -> list[dict]:
    """Table/CSV rows of issue 17: P(peak ≤ 2030) and P(net CO2 ≤ 0 in 2060) per CO2 basis, then the NPV
    percentiles (亿元) and, with ``--versus``, the NPV difference and the share of runs where the scenario is
    cheaper."""
    rows: list[dict] = []
    for basis, entry in (data.get("bases") or {}).items():
        label = BASIS_LABELS.get(basis, basis)
        rows.append({"指标 / indicator": f"P(达峰 ≤ 2030) {label}", "概率 / probability": entry["p_peak_by_2030"],
                     "平均余量 / mean margin": None})
        if "p_neutral_2060" in entry:
            rows.append({"指标 / indicator": f"P(2060 年净排放 ≤ 0 / net CO2 ≤ 0 in 2060) {label}",
                         "概率 / probability": entry["p_neutral_2060"], "平均余量 / mean margin": None})
    costs = data.get("costs") or {}
    groups = [("净现值 / NPV", costs.get("npv_cny"))]
    if costs.get("versus"):
        versus = costs["versus"]
        groups.append((f"净现值差 / NPV − {versus['scenario']}", versus["npv_difference_cny"]))
        rows.append({"指标 / indicator": f"P(成本低于 / cheaper than {versus['scenario']})",
                     "概率 / probability": versus["p_cheaper"], "平均余量 / mean margin": None})
    for label, stats in groups:
        for key, value in (stats or {}).items():
            rows.append({"指标 / indicator": f"{label} {key} (亿元 / 100 million CNY)", "概率 / probability": None,
                         "平均余量 / mean margin": None if value is None else value / 1e8})
    return rows
