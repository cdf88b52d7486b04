"""Accounting options: the method choices an office makes, as data (per city in ``accounting.yaml``).

The choices form the city's **accounting profile**: each named choice carries the document it follows and its
documented default (:data:`CHOICES`, :meth:`AccountingOptions.profile`). The named choices (``co2_factors``,
``grid_factor``, ``coal_rate``) set the low-level fields (``co2_factor_set``, ``grid_ef_set``,
``coal_rate_key``) unless a profile names those explicitly; the flags of ``citycarbon account`` and the query
parameters of ``GET /api/v1/accounting`` take the same names and values (hyphenated values are accepted with
underscores too: ``net-inflow`` = ``net_inflow``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem

ElectricityMethod = Literal["coal-equivalent", "calorific"]
Attribution = Literal["local_mix", "grid_average"]
CoalRate = Literal["generation", "supply"]
Co2Factors = Literal["provincial", "ipcc", "ipcc-cn-ncv"]
GridFactor = Literal["provincial", "regional", "national", "reporting"]
Co2Basis = Literal["net_inflow", "consumption"]
PeakRuleBasis = Literal["worse", "net_inflow", "consumption"]

#: ``co2_factors`` → factor_set of the fuel CO2 components (data/factors/co2_fuel*.csv)
CO2_FACTOR_SETS: dict[str, str] = {
    "provincial": "cn_provincial_2011",
    "ipcc": "ipcc_2006",
    "ipcc-cn-ncv": "ipcc_2006_cn_ncv",
}
#: ``coal_rate`` → coal_rate factor key (data/factors/coal_rate.csv)
COAL_RATE_KEYS: dict[str, str] = {"generation": "thermal_power_generation", "supply": "thermal_power_supply"}
#: ``grid_factor`` → factor_set of grid_ef rows (data/factors/grid_electricity.csv)
GRID_EF_SETS: dict[str, str] = {
    "provincial": "mee_nbs_electricity",
    "regional": "mee_nbs_electricity",
    "national": "mee_nbs_electricity",
    "reporting": "mee_enterprise_reporting",
}
NATIONAL = "national"


@dataclass(frozen=True)
class Choice:
    """One documented method choice of the accounting profile."""

    option: str
    flag: str  # the CLI flag (the API query parameter is ``option``)
    values: tuple[str, ...]
    default: str
    document: str
    description: str


#: The profile's method choices, with the document each follows (docs/accounting.md "Accounting profile";
#: documents in /work/shared/reference/methods.md §§1-3).
CHOICES: tuple[Choice, ...] = (
    Choice("method", "--method", ("coal-equivalent", "calorific"), "coal-equivalent",
           "国家统计局 能源平衡表 / 能源消费总量 (发电煤耗法); GB/T 2589-2020 附录A (电力当量值, standard_coal.csv)",
           "electricity and primary electricity to tce: the year's thermal-power coal rate (发电煤耗法) or the "
           "calorific equivalent (当量值)"),
    Choice("coal_rate", "--coal-rate", ("generation", "supply"), "generation",
           "中电联 电力工业统计快报/年报 (发电标准煤耗 / 供电标准煤耗); NBS 发电煤耗法",
           "which thermal-power coal rate the coal-equivalent method uses: gross generation (发电煤耗, the NBS "
           "rule) or net supply (供电煤耗)"),
    Choice("co2_factors", "--co2-factors", ("provincial", "ipcc", "ipcc-cn-ncv"), "provincial",
           "省级温室气体清单编制指南(试行) (发改办气候〔2011〕1041号); IPCC 2006 Vol. 2 Tables 1.2-1.4; "
           "生态环境部 企业温室气体排放核算指南 (IPCC factors per TJ with GB/T 2589 NCV)",
           "fuel CO2 factors: the provincial guideline (GB/T 2589 NCV × 省级指南 carbon content and oxidation), "
           "IPCC 2006 defaults (IPCC NCV, OF = 1), or IPCC carbon content per TJ with GB/T 2589 NCV"),
    Choice("grid_factor", "--grid-factor", ("provincial", "regional", "national", "reporting"), "provincial",
           "生态环境部 国家统计局 电力二氧化碳排放因子 公告2024年第12号 (2021) / 第33号 (2022) / 2023年因子; "
           "环办气候函〔2023〕43号 (全国电网平均排放因子, reporting)",
           "grid electricity CO2 factor: province → regional grid → national (exact year first along the "
           "chain), the regional grid → national, the national average, or the enterprise-reporting factor"),
    Choice("electricity_co2_basis", "--electricity-co2", ("net-inflow", "consumption"), "net-inflow",
           "省级温室气体清单编制指南(试行) (净调入电力间接排放); 生态环境部 国家统计局 电力二氧化碳排放因子 公告",
           "CO2 of electricity and heat: local plants' combustion + net inflow × grid factor (outflow deducted), "
           "or electricity and heat consumed × factor"),
    Choice("nonfossil_attribution", "--non-fossil-attribution", ("grid-average", "local-mix"), "local-mix",
           "国家统计局 能源平衡表 (一次电力); 非化石能源消费比重 (methods.md §3)",
           "non-fossil electricity: all electricity consumed at the grid's non-fossil share, or local primary "
           "electricity (outflow pro rata to the local mix, inflow at the grid share)"),
    Choice("peak_rule_basis", "--peak-rule-basis", ("worse", "net-inflow", "consumption"), "worse",
           "中发〔2021〕36号 / 国发〔2021〕23号 (碳达峰); issue 13 (verdicts on both CO2 bases)",
           "which CO2 basis decides a peak target: the worse of the two (default), or one basis"),
    Choice("deduct_feedstock", "", ("true", "false"), "true", "发改环资〔2022〕803号",
           "原料用能 not counted in the dual-control total"),
    Choice("deduct_renewable_increment", "", ("true", "false"), "true", "发改运行〔2022〕1258号",
           "renewable power above the base year's not counted in the dual-control total"),
    Choice("process", "--process", ("FILE",), "the city's own process activity (none with a user's --balance)",
           "IPCC 2006 Vol. 3 (IPPU) Tier 1", "industrial-process CO2 from process activity"),
)
CHOICE_BY_OPTION: dict[str, Choice] = {c.option: c for c in CHOICES}
_HYPHEN_FIELDS = ("electricity_co2_basis", "nonfossil_attribution", "peak_rule_basis")


class AccountingOptions(BaseModel):
    """How a balance is accounted. Every choice is explicit and recorded in the result's provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: ElectricityMethod = Field(
        "coal-equivalent",
        description="Electricity to tce: 'coal-equivalent' (发电煤耗法, the year's thermal-power coal rate; "
        "NBS regional balance) or 'calorific' (当量值, the GB/T 2589 Annex A factor row).")
    coal_rate: CoalRate = Field("generation", description="coal rate of the coal-equivalent method: "
                                "'generation' (发电煤耗) or 'supply' (供电煤耗); sets coal_rate_key")
    co2_factors: Co2Factors = Field("provincial", description="fuel CO2 factors: 'provincial' (省级指南), 'ipcc' "
                                    "(IPCC 2006) or 'ipcc-cn-ncv' (IPCC per TJ × GB/T 2589 NCV); sets "
                                    "co2_factor_set")
    grid_factor: GridFactor = Field("provincial", description="grid CO2 factor chain: 'provincial' "
                                    "(grid_region → grid_region_fallback → national), 'regional', 'national' or "
                                    "'reporting' (MEE enterprise-reporting factor); sets grid_ef_set")
    standard_coal_set: str = Field("gbt2589_2020", description="factor_set of standard-coal coefficients")
    coal_rate_key: str = Field("thermal_power_generation",
                               description="coal_rate factor key used by the coal-equivalent method")
    co2_factor_set: str = Field("cn_provincial_2011", description="factor_set for fuel CO2 factors")
    grid_ef_set: str = Field("mee_nbs_electricity", description="factor_set for grid electricity CO2")
    grid_region: str = Field("liaoning", description="province of the electricity CO2 factor")
    grid_region_fallback: str = Field("northeast", description="regional grid of grid_region")
    heat_ef_set: str | None = Field(None, description="factor_set for heat CO2 (None: any)")
    nonfossil_attribution: Attribution = Field(
        "local_mix",
        description="How electricity consumed in the city is split into fossil and non-fossil: 'local_mix' "
        "(local primary electricity, net outflow allocated pro rata to the local generation mix, net "
        "inflow at the grid's non-fossil share) or 'grid_average' (all electricity consumed at the "
        "grid's non-fossil share).")
    grid_share_region: str = Field("liaoning", description="grid/province for grid_nonfossil_share")
    deduct_feedstock: bool = Field(True, description="发改环资〔2022〕803号: 原料用能 not in dual-control total")
    deduct_renewable_increment: bool = Field(
        True, description="发改运行〔2022〕1258号: renewable power above the base year not in the total")
    renewable_base_year: int = Field(2020, description="1258号 base year (each region's 2020 consumption)")
    renewable_deduction_in_intensity: bool = Field(
        False, description="1258号 is reported as still counted in intensity assessment (V*), so off")
    combustion_transformations: tuple[str, ...] = Field(
        ("power", "heat_supply"),
        description="transformation sectors whose inputs are burnt (counted as combustion CO2); inputs to "
        "refining, coking and gas works are converted, not burnt")
    electricity_co2_basis: Co2Basis = Field(
        "net_inflow",
        description="CO2 of electricity and heat: 'net_inflow' (provincial rule: combustion in local power and "
        "heat plants + net electricity inflow × grid factor, a net outflow deducted) or 'consumption' "
        "(electricity and heat consumed in the city × grid/heat factor; local generation not counted).")
    peak_rule_basis: PeakRuleBasis = Field(
        "worse", description="which CO2 basis decides a peak target: 'worse' (the later peak / the worse level "
        "of the two bases), 'net_inflow' or 'consumption'")
    include_process: bool = Field(True, description="add industrial-process CO2 where activity data exist")
    price_base_year: int = Field(2020, description="constant-price base year of GDP for intensities")

    @model_validator(mode="before")
    @classmethod
    def _named_choices(cls, data: Any) -> Any:
        """Hyphenated values accepted; the named choices set the low-level fields a profile does not name."""
        if not isinstance(data, dict):
            return data
        values = dict(data)
        for name in _HYPHEN_FIELDS:
            if isinstance(values.get(name), str):
                values[name] = values[name].replace("-", "_")
        co2 = values.get("co2_factors")
        if isinstance(co2, str) and co2 in CO2_FACTOR_SETS and "co2_factor_set" not in values:
            values["co2_factor_set"] = CO2_FACTOR_SETS[co2]
        rate = values.get("coal_rate")
        if isinstance(rate, str) and rate in COAL_RATE_KEYS and "coal_rate_key" not in values:
            values["coal_rate_key"] = COAL_RATE_KEYS[rate]
        grid = values.get("grid_factor")
        if isinstance(grid, str) and grid in GRID_EF_SETS and "grid_ef_set" not in values:
            values["grid_ef_set"] = GRID_EF_SETS[grid]
        return values

    @property
    def grid_regions(self) -> tuple[str, ...]:
        """The region chain of the grid factor lookup (exact year first along it, then earlier years)."""
        chain = {
            "provincial": (self.grid_region, self.grid_region_fallback, NATIONAL),
            "regional": (self.grid_region_fallback, NATIONAL),
            "national": (NATIONAL,),
            "reporting": (NATIONAL,),
        }[self.grid_factor]
        return tuple(dict.fromkeys(chain))

    def profile(self) -> list[dict[str, Any]]:
        """The named choices with their value, documented default and document (for provenance and faces)."""
        dumped = self.model_dump(mode="json")
        rows = []
        for choice in CHOICES:
            if choice.option == "process":
                value: Any = self.include_process
            else:
                value = dumped[choice.option]
            if isinstance(value, str) and choice.option in _HYPHEN_FIELDS:
                value = value.replace("_", "-")
            rows.append({"option": choice.option, "flag": choice.flag, "value": value,
                         "default": choice.default, "values": list(choice.values), "document": choice.document,
                         "description": choice.description})
        return rows

    @classmethod
    def for_city(cls, name: str = "dalian", **overrides: object) -> AccountingOptions:
        """Options from ``data/<name>/accounting.yaml`` (defaults where absent), then ``overrides``.

        An override of a named choice (``co2_factors``, ``coal_rate``, ``grid_factor``) replaces the
        low-level field it sets (``co2_factor_set``, ``coal_rate_key``, ``grid_ef_set``) of the file."""
        path = data_path(f"{name}/accounting.yaml")
        values: dict[str, Any] = {}
        if path.exists():
            values = cls._read(path)
        return cls.from_values(values, overrides, str(path))

    @classmethod
    def from_values(cls, values: dict[str, Any], overrides: dict[str, object],
                    label: str = "<accounting profile>") -> AccountingOptions:
        """Options from a profile's ``values`` with ``overrides`` (None values ignored); InputError if invalid."""
        values = dict(values)
        given = {k: v for k, v in overrides.items() if v is not None}
        for named, low in (("co2_factors", "co2_factor_set"), ("coal_rate", "coal_rate_key"),
                           ("grid_factor", "grid_ef_set")):
            if named in given and low not in given:
                values.pop(low, None)
        values.update(given)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise InputError([Problem(e["msg"], file=label, field=".".join(map(str, e["loc"])),
                                      value=e.get("input") if isinstance(e.get("input"), str | int) else None)
                              for e in exc.errors()]) from exc

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        with open(path, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle) or {}
        options = loaded.get("options", loaded)
        if not isinstance(options, dict):
            raise InputError(Problem("expected a mapping of options", file=str(path), field="options"))
        if "combustion_transformations" in options:
            options["combustion_transformations"] = tuple(options["combustion_transformations"])
        return dict(options)
