"""``citycarbon account``: official energy and CO2 accounting of one year."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
from citycarbon.factors import FactorNotFound


class Method(StrEnum):
    coal_equivalent = "coal-equivalent"
    calorific = "calorific"


class CoalRate(StrEnum):
    generation = "generation"
    supply = "supply"


class Co2Factors(StrEnum):
    provincial = "provincial"
    ipcc = "ipcc"
    ipcc_cn_ncv = "ipcc-cn-ncv"


class GridFactor(StrEnum):
    provincial = "provincial"
    regional = "regional"
    national = "national"
    reporting = "reporting"


class ElectricityCo2(StrEnum):
    net_inflow = "net-inflow"
    consumption = "consumption"


class Attribution(StrEnum):
    grid_average = "grid-average"
    local_mix = "local-mix"


ROW_INDICATORS = (
    ("energy_consumption_tce", "能源消费总量 Energy consumption", "tce"),
    ("energy_consumption_dual_control_tce", "双控口径能耗 Dual-control total", "tce"),
    ("non_fossil_share", "非化石能源消费比重 Non-fossil share", "%"),
    ("coal_share", "煤炭消费比重 Coal share", "%"),
    ("co2_emissions_t", "二氧化碳排放 CO2 emissions", "t"),
    ("co2_energy_t", "能源活动CO2 Energy CO2", "t"),
    ("energy_intensity_tce_per_10k_yuan", "单位GDP能耗 Energy intensity", "tce/10^4 yuan"),
    ("co2_intensity_t_per_10k_yuan", "单位GDP二氧化碳排放 CO2 intensity", "t/10^4 yuan"),
    ("energy_intensity_reduction_yoy", "能耗强度同比下降 Energy intensity reduction y/y", "%"),
    ("energy_intensity_reduction", "能耗强度较基期下降 Energy intensity reduction vs period base", "%"),
    ("co2_intensity_reduction", "碳排放强度较基期下降 CO2 intensity reduction vs period base", "%"),
)


def indicator_rows(indicators: dict, not_computed: dict | None = None) -> list[dict]:
    rows = []
    for key, label, unit in ROW_INDICATORS:
        value = indicators.get(key)
        if value is None and key in (not_computed or {}):
            value = "未计算 not computed"
        elif value is not None and unit == "%":
            value = round(100.0 * value, 2)
        rows.append({"indicator": key, "name": label, "value": value, "unit": unit})
    return rows


def register(app: typer.Typer) -> None:
    @app.command("account")
    def account(
        year: Annotated[int, typer.Option("--year", "-y", help="year to account")],
        balance: Annotated[Path | None, typer.Option("--balance", help="energy balance CSV/XLSX to use "
                                                     "instead of the dataset's")] = None,
        statistics: Annotated[Path | None, typer.Option("--statistics", help="statistics CSV/XLSX (GDP)")] = None,
        method: Annotated[Method | None, typer.Option(
            "--method", help="electricity to tce: 发电煤耗法 (NBS) or 当量值 (GB/T 2589-2020 Annex A)")] = None,
        coal_rate: Annotated[CoalRate | None, typer.Option(
            "--coal-rate", help="coal rate of the coal-equivalent method: 发电煤耗 or 供电煤耗 (CEC)")] = None,
        co2_factors: Annotated[Co2Factors | None, typer.Option(
            "--co2-factors", help="fuel CO2 factors: 省级温室气体清单编制指南, IPCC 2006, or IPCC per TJ with "
            "GB/T 2589 NCV (MEE enterprise guidelines)")] = None,
        grid_factor: Annotated[GridFactor | None, typer.Option(
            "--grid-factor", help="grid CO2 factor (MEE/NBS): province → regional grid → national, regional, "
            "national, or the enterprise-reporting factor")] = None,
        electricity_co2: Annotated[ElectricityCo2 | None, typer.Option(
            "--electricity-co2", help="CO2 of electricity: net inflow (provincial rule) or consumption")] = None,
        attribution: Annotated[Attribution | None, typer.Option(
            "--non-fossil-attribution", help="non-fossil electricity: grid average or local mix")] = None,
        process: Annotated[Path | None, typer.Option(
            "--process", help="process activity CSV (none with your own --balance unless given)")] = None,
        city: Annotated[str, typer.Option("--city", help="reference dataset and accounting options")] = "dalian",
        source: DataSourceChoice | None = SOURCE_OPTION,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Account energy (tce), CO2, non-fossil share and intensities for one year (能源与碳排放核算)."""
        from citycarbon.services.accounting import account_city

        try:
            result = account_city(
                year, city=city, balance_file=balance, statistics_file=statistics, process_file=process,
                method=method.value if method else None, source=source_value(source),
                coal_rate=coal_rate.value if coal_rate else None,
                co2_factors=co2_factors.value if co2_factors else None,
                grid_factor=grid_factor.value if grid_factor else None,
                electricity_co2_basis=electricity_co2.value if electricity_co2 else None,
                nonfossil_attribution=attribution.value if attribution else None)
        except (InputError, FactorNotFound) as exc:
            fail(exc)
        if fmt is OutputFormat.json:
            emit(result.to_dict(), fmt)
            return
        if fmt is OutputFormat.csv:
            emit(None, fmt, rows=indicator_rows(result.indicators, result.not_computed))
            return
        emit(None, fmt, rows=indicator_rows(result.indicators, result.not_computed),
             title=f"{result.year} 年核算结果 / accounting {result.year} ({result.region}, "
                   f"{result.electricity['method']})")
        emit(None, fmt, rows=result.by_sector[["sector", "name_zh", "energy_tce"]],
             title="分部门能耗 / energy by sector")
        emit(None, fmt, rows=result.co2_by_sector[["sector", "name_zh", "co2_t"]],
             title="分部门二氧化碳 (合计 = 排放总量) / CO2 by sector (sums to the total)")
        emit(None, fmt, rows=result.by_fuel_group, title="分品种 / by fuel group")
        console = Console(width=160)
        for note in sorted(set(result.not_computed.values())):
            console.print(f"[yellow]{note}[/yellow]")
        for fallback in result.provenance.fallbacks:
            console.print(f"[yellow]{fallback['text_zh']} / {fallback['text_en']}[/yellow]")
        if result.provenance.estimates:
            Console(width=160).print("[yellow]含估算值 / contains estimates:[/yellow] "
                                     + "; ".join(result.provenance.estimates))
