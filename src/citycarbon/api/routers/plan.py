"""The city's work plan (工作方案) as data: meta, targets, tasks (public to every authenticated caller)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, Depends, Request

from citycarbon.api.deps import get_principal
from citycarbon.api.envelope import Envelope, EnvelopeResponse, document, render
from citycarbon.plan import Plan, load_plan

router = APIRouter(tags=["plan"], dependencies=[Depends(get_principal)])
PERMISSIONS = {("GET", "/plan"): "read", ("GET", "/plan/targets"): "read", ("GET", "/plan/tasks"): "read"}


@cache
def _rendered(city: str) -> dict[str, bytes]:
    plan: Plan = load_plan(city)
    meta = {"source": f"data/plans/{city}.yaml", "method": "citycarbon.plan"}
    parts = {
        "plan": {"plan": plan.meta.model_dump(mode="json"), "targets": len(plan.targets), "tasks": len(plan.tasks),
                 "rules": [r.model_dump(mode="json") for r in plan.rules]},
        "targets": [t.model_dump(mode="json") for t in plan.targets],
        "tasks": [t.model_dump(mode="json") for t in plan.tasks],
    }
    return {name: render(document(value, **meta)) for name, value in parts.items()}


def _city(request: Request) -> str:
    return request.app.state.settings.city


@router.get("/plan", response_model=Envelope[dict[str, Any]])
def get_plan(request: Request) -> EnvelopeResponse:
    """The plan's meta data (city, region code, base year, documents), counts and its warning rules."""
    return EnvelopeResponse(_rendered(_city(request))["plan"])


@router.get("/plan/targets", response_model=Envelope[list[dict[str, Any]]])
def get_targets(request: Request) -> EnvelopeResponse:
    """Every target of the plan (indicator, year, comparison, value, unit, verbatim text)."""
    return EnvelopeResponse(_rendered(_city(request))["targets"])


@router.get("/plan/tasks", response_model=Envelope[list[dict[str, Any]]])
def get_tasks(request: Request) -> EnvelopeResponse:
    """Every task of the plan (group, lead departments, text)."""
    return EnvelopeResponse(_rendered(_city(request))["tasks"])
