"""A project's figures and findings: its energy with the city's accounting profile, and the plan's rules applied
to it (issue 15 items 1 and 2). Shared by the registry (the check page), the budget check, the workflow (the
figures frozen at the decision) and the pipeline.

:func:`evaluate` is pure of the store: it takes a :class:`~citycarbon.projects.model.Project` and the city, and
resolves the city's profile (:func:`citycarbon.services.accounting.city_options`), the factor table, the plan's
``rules:`` and the gate's tables. The energy of a project is accounted for the year of its application (the
factor year; the latest factor year at or before it is used, and the provenance says so).

How a project's fields become energy uses (:func:`uses_of`): ``energy`` by fuel (purpose ``fuel``), ``feedstock``
by fuel (purpose ``feedstock``, 原料用能), ``renewable_supply`` by fuel (electricity supplied as green power:
``renewable``, deducted from dual control when the profile says so, 发改运行〔2022〕1258号).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from citycarbon.errors import InputError, Problem
from citycarbon.factors import FactorTable, load_factors
from citycarbon.projects.energy import ProjectEnergy, project_energy
from citycarbon.projects.model import Project, check_project
from citycarbon.projects.rules import Finding, Severity, check, worst
from citycarbon.projects.tables import ProjectTables, load_tables

__all__ = ["METHOD_VERSION", "Evaluation", "evaluate", "finding_dict", "gate_tables", "uses_of"]

#: the version of the gate's method (bump when the figures a project gets could change)
METHOD_VERSION = "project-gate/1"


@dataclass(frozen=True)
class Evaluation:
    """A project's energy (tce both ways, dual-control tce, coal, CO2) and the rules' findings, most severe
    first, with the verdict (the worst severity) and what it was computed from."""

    project: Project
    energy: ProjectEnergy
    findings: tuple[Finding, ...]
    verdict: Severity
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project.id, "verdict": self.verdict.value, "energy": self.energy.to_dict(),
                "findings": [finding_dict(f) for f in self.findings], "provenance": self.provenance}

    def summary(self) -> dict[str, Any]:
        """The figures lists and the pipeline need (stored with the project at each save)."""
        e = self.energy
        return {"verdict": self.verdict.value, "tce": e.tce, "tce_calorific": e.tce_calorific,
                "tce_equivalent": e.tce_equivalent, "feedstock_tce": e.feedstock_tce,
                "renewable_electricity_tce": e.renewable_electricity_tce, "dual_control_tce": e.dual_control_tce,
                "coal_tce": e.coal_tce, "coal_t": e.coal_t, "co2_t": e.co2_t, "year": e.year,
                "refused": sum(f.severity is Severity.refuse for f in self.findings),
                "flagged": sum(f.severity is Severity.flag for f in self.findings),
                "method_version": METHOD_VERSION}


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {"code": finding.code, "severity": finding.severity.value, "message_zh": finding.message_zh,
            "message_en": finding.message_en, "numbers": dict(finding.numbers), "document": finding.document,
            "status": None if finding.status is None else finding.status.value, "rule": finding.rule,
            "subject": finding.subject}


@cache
def gate_tables() -> ProjectTables:
    """The gate's shipped tables (benchmarks, 两高, replacement ratios, 节能审查 levels), loaded once."""
    return load_tables()


@cache
def _factors() -> FactorTable:
    return load_factors()


def uses_of(project: Project) -> list[dict[str, object]]:
    """The energy uses of ``project`` in the form :func:`citycarbon.projects.energy.project_energy` reads."""
    uses: list[dict[str, object]] = []
    for fuel, q in project.energy.items():
        uses.append({"fuel": fuel, "quantity": q.value, "unit": q.unit, "purpose": "fuel"})
    for fuel, q in project.feedstock.items():
        uses.append({"fuel": fuel, "quantity": q.value, "unit": q.unit, "purpose": "feedstock"})
    for fuel, q in project.renewable_supply.items():
        uses.append({"fuel": fuel, "quantity": q.value, "unit": q.unit, "purpose": "fuel", "renewable": True})
    return uses


def evaluate(city: str, project: Project, *, year: int | None = None, factors: FactorTable | None = None,
             db: Any = None) -> Evaluation:
    """``project``'s energy and findings under ``city``'s profile and plan. ``year``: the accounting year of the
    factors (default: the application's year). Raises :class:`InputError` naming the field for a bad project
    (unknown fuel, unit of the wrong dimension …)."""
    from citycarbon.codelists import codes
    from citycarbon.services.accounting import city_options
    from citycarbon.services.cities import plan_for

    if not project.id:  # a project not yet stored (a preview of the form)
        project = replace(project, id="new")
    check_project(project, codes("fuels"))
    if not (project.energy or project.feedstock or project.renewable_supply):
        raise InputError(Problem("a project needs its annual energy use by fuel", field="energy",
                                 message_zh="须填写项目年综合能源消费（分品种）"))
    options = city_options(city)
    plan = plan_for(city, db)
    on = year or project.application_date.year
    energy = project_energy(uses_of(project), options, on, factors or _factors())
    found = check(project, plan.rules, gate_tables(), annual_tce=energy.tce_calorific,
                  excluded_tce=energy.feedstock_tce_calorific
                  + energy.renewable_electricity_tce_calorific)
    provenance = {"method_version": METHOD_VERSION, "city": city, "plan": plan.meta.title_zh, "factor_year": on,
                  "tables": "data/projects/", "energy": energy.provenance.to_dict()}
    return Evaluation(project, energy, tuple(found), worst(found), provenance)
