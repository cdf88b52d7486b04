"""Accounting options: the method choices an office makes, as data (per city in ``accounting.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem

ElectricityMethod = Literal["coal-equivalent", "calorific"]
Attribution = Literal["local_mix", "grid_average"]


class AccountingOptions(BaseModel):
    """How a balance is accounted. Every choice is explicit and recorded in the result's provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: ElectricityMethod = Field(
        "coal-equivalent",
        description="Electricity to tce: 'coal-equivalent' (发电煤耗法, the year's thermal-power coal rate; "
        "NBS regional balance) or 'calorific' (当量值, the GB/T 2589 Annex A factor row).")
    standard_coal_set: str = Field("gbt2589_2020", description="factor_set of standard-coal coefficients")
    coal_rate_key: str = Field("thermal_power_generation",
                               description="coal_rate factor key used by the coal-equivalent method")
    co2_factor_set: str = Field("cn_provincial_2011", description="factor_set for fuel CO2 factors")
    grid_ef_set: str = Field("mee_nbs_electricity", description="factor_set for grid electricity CO2")
    grid_region: str = Field("liaoning", description="grid/province of the electricity CO2 factor")
    grid_region_fallback: str = Field("northeast", description="used when grid_region has no factor")
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
    electricity_co2_basis: Literal["net_inflow", "consumption"] = Field(
        "net_inflow",
        description="CO2 of electricity and heat: 'net_inflow' (provincial rule: combustion in local power and "
        "heat plants + net electricity inflow × grid factor, a net outflow deducted) or 'consumption' "
        "(electricity and heat consumed in the city × grid/heat factor; local generation not counted).")
    include_process: bool = Field(True, description="add industrial-process CO2 where activity data exist")
    price_base_year: int = Field(2020, description="constant-price base year of GDP for intensities")

    @classmethod
    def for_city(cls, name: str = "dalian", **overrides: object) -> AccountingOptions:
        """Options from ``data/<name>/accounting.yaml`` (defaults where absent), then ``overrides``."""
        path = data_path(f"{name}/accounting.yaml")
        values: dict[str, Any] = {}
        if path.exists():
            values = cls._read(path)
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            raise InputError([Problem(e["msg"], file=str(path), field=".".join(map(str, e["loc"])))
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
        return options
