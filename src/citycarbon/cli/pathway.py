"""``citycarbon pathway run|export|levers|scenarios``: pathways to 2060 (an adapter over the pathway service,
:class:`citycarbon.services.pathways.PathwayService`: the model on the ledger when a database exists, on the
shipped files otherwise; ``--source`` chooses)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
from citycarbon.errors import InputError

SCENARIO_OPTION = typer.Option("--scenario", "-s", help="shipped scenario name (BAU, Plan, Enhanced) or a YAML file")


@pathway_app.command("run")
def run(
    scenario: Annotated[str, SCENARIO_OPTION] = "Plan",
    targets: Annotated[Path | None, typer.Option("--targets", help="YAML: target id → value (fills unset targets)")]
    = None,
    settings: Annotated[list[str] | None, typer.Option("--set", help="what-if: LEVER=VALUE (repeatable)")] = None,
    city: Annotated[str, typer.Option("--city", help="city")] = "dalian",
    source: DataSourceChoice | None = SOURCE_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """One pathway 2020–2060: CO2, energy, non-fossil share, peak year, every plan target (met, margin)."""
    from citycarbon.pathways.scenarios import parse_settings, with_settings
    from citycarbon.services.pathways import PathwayService
    from citycarbon.services.tracking import apply_target_overrides

    try:
        service = PathwayService(city, source=source_value(source))
        if targets is not None:
            service = service.with_targets(apply_target_overrides(service.model().plan, targets))
        chosen = service.load(scenario)
        if settings:
            chosen = with_settings(chosen, parse_settings(settings))
        result = service.run(chosen)
    except InputError as error:
        fail(error)
        return
    data = result.to_dict()
    if fmt is OutputFormat.csv:
        years = data["years"]
        rows = [{"year": y, **{k: v[i] for k, v in data["series"].items()}} for i, y in enumerate(years)]
        emit(data, fmt, rows=rows)
        return
    judged = [t for t in result.targets if t["met"] is not None]
    emit(data, fmt, rows=result.rows(), title=(
        f"{result.scenario} [{result.code}] peak {result.peak_year} at {result.peak_value / 1e6:.2f} Mt CO2; "
        f"targets met {sum(1 for t in judged if t['met'])}/{len(judged)}"))
    if fmt is OutputFormat.table:
        emit(data, fmt, rows=[{k: t.get(k) for k in ("id", "met", "margin", "unit", "title_zh")}
                              for t in result.targets], title="目标 / plan targets (margin ≥ 0: met)")


@pathway_app.command("export")
def export(
    iamc: Annotated[Path, typer.Option("--iamc", help="output file: .csv (plus _meta.csv) or .xlsx")],
    scenario: Annotated[list[str] | None, SCENARIO_OPTION] = None,
    city: Annotated[str, typer.Option("--city", help="city")] = "dalian",
    source: DataSourceChoice | None = SOURCE_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """IAMC export (model, scenario, region, variable, unit, year, value + meta) of one or more scenarios."""
    from citycarbon.pathways.iamc import write_iamc
    from citycarbon.services.pathways import COMPARISON, PathwayService

    try:
        service = PathwayService(city, source=source_value(source))
        scenarios = [service.load(s) for s in (scenario or list(COMPARISON))]
        written = write_iamc(iamc, *service.iamc(scenarios))
    except InputError as error:
        fail(error)
        return
    data = {"files": [str(p) for p in written], "scenarios": [{"name": s.name, "code": s.code} for s in scenarios]}
    emit(data, fmt, rows=[{"file": str(p)} for p in written], title="IAMC export")


@pathway_app.command("levers")
def levers(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Every lever (default = BAU, plan, range, timing, plan tasks, source) and uncertain parameter."""
    from citycarbon.pathways import load_levers, load_uncertain

    try:
        lever_rows = [lv.to_dict() for lv in load_levers()]
        params = load_uncertain()
    except InputError as error:
        fail(error)
        return
    param_rows = [{"id": r.id, "name_zh": r.name_zh, "name_en": r.name_en, "unit": r.unit, "default": r.default,
                   "low": r.low, "high": r.high, "source": r.source, "status": r.status}
                  for r in params.itertuples()]
    table = [{k: r[k] for k in ("id", "name_zh", "group", "unit", "default", "plan", "min", "max", "start_year",
                                 "full_year", "shape", "status")} | {"tasks": ";".join(map(str, r["tasks"]))}
             for r in lever_rows]
    if fmt is OutputFormat.csv:
        table = lever_rows
    emit({"levers": lever_rows, "parameters": param_rows}, fmt, rows=table, title="Levers / 政策杠杆")


@pathway_app.command("scenarios")
def scenarios(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Shipped scenarios with their parent, packages, canonical code and lever settings."""
    from citycarbon.pathways import load_scenario, shipped_scenarios

    try:
        loaded = [load_scenario(name) for name in shipped_scenarios()]
    except InputError as error:
        fail(error)
        return
    emit({"scenarios": [s.to_dict() for s in loaded]}, fmt,
         rows=[{"name": s.name, "name_zh": s.name_zh, "code": s.code, "parent": s.parent,
                "packages": ";".join(s.packages), "levers_set": len(s.levers)} for s in loaded],
         title="Scenarios / 情景")


def register(app: typer.Typer) -> None:
    """Commands are attached to ``pathway_app`` at import; the group itself is added by cli/groups.py."""


# issue 17 (macc)
@pathway_app.command("macc")
def macc_command(
    year: Annotated[int, typer.Option("--year", help="year of the curve, 2021–2060 (2030, 2060)")],
    scenario: Annotated[str | None, typer.Option(
        "--scenario", "-s", help="scenario name or YAML file (default: Neutrality when "
                                 "data/pathways/scenarios/Neutrality.yaml is shipped, else Enhanced)")] = None,
    base: Annotated[str, typer.Option("--base", help="base scenario the levers are measured from")] = "BAU",
    basis: Annotated[str, typer.Option("--basis", help="CO2 basis: consumption | net_inflow | territorial")]
    = "consumption",
    runs: Annotated[int, typer.Option("--runs", "-n", help="ensemble runs for p5–p95 (0: central values only)")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed → identical results)")] = 0,
    city: Annotated[str, typer.Option("--city", help="city")] = "dalian",
    source: DataSourceChoice | None = SOURCE_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Marginal abatement cost curve: each lever removed from the scenario in turn (CNY per t CO2 avoided)."""
    from citycarbon.services.pathways import PathwayService

    try:
        service = PathwayService(city, source=source_value(source))
        chosen = service.load(scenario or service.macc_default_scenario())
        result = service.macc(chosen, year, base=service.load(base), basis=basis, runs=runs, seed=seed)
    except InputError as error:
        fail(error)
        return
    package = result.package
    mac = package["mac_cny_per_t"]
    emit(result.to_dict(), fmt, rows=result.rows(), title=(
        f"{result.scenario} 相对 {result.base} 的边际减排成本曲线 / MACC {result.year} ({result.basis}): "
        f"{package['abatement_t'] / 1e6:.2f} Mt CO2, "
        f"{'—' if mac is None else f'{mac:,.0f}'} CNY/t; 交互余项 / interaction residual "
        f"{result.interaction_residual['abatement_t'] / 1e6:.2f} Mt"))
