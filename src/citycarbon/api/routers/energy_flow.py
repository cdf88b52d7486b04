"""The year's energy flow (能流图): Sankey nodes and links in tce on an electricity method, with the totals and
fuel-group shares of the same accounting result (next to ``/indicators``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from citycarbon.api.deps import get_principal_async
from citycarbon.api.envelope import Envelope, EnvelopeResponse, provenance_meta
from citycarbon.api.errors import ApiError
from citycarbon.api.routers._common import cached_async
from citycarbon.services.energy_flow import energy_flow

router = APIRouter(tags=["indicators"], dependencies=[Depends(get_principal_async)])
PERMISSIONS = {("GET", "/energy-flow"): "read"}


@router.get("/energy-flow", response_model=Envelope[dict[str, Any]])
async def get_energy_flow(
    request: Request,
    year: int | None = Query(None, ge=1900, le=2100, description="the year (default: the latest accounted)"),
    method: Literal["coal-equivalent", "calorific"] | None = Query(
        None, description="electricity to tce: 发电煤耗法 (coal-equivalent) or 当量值 (calorific); default: the "
        "city's accounting profile"),
) -> EnvelopeResponse:
    """Supply → transformation (with its losses) → final use by sector, in tce: ``nodes``, ``links``, ``totals``
    (``total_energy_tce`` equals the accounts' ``energy_consumption_tce`` on the same method), the fuel-group
    ``shares`` of total energy consumption, and the accounting provenance in ``meta``."""

    def build(version: int) -> tuple[Any, dict]:
        results = request.app.state.results
        default = results.accounting(version)
        wanted = year if year is not None else max(default)
        if wanted not in default:
            raise ApiError(404, f"no accounting for {wanted}: the ledger covers {min(default)}–{max(default)}",
                           code="not_found")
        accounts = default[wanted] if method in (None, default[wanted].electricity.get("method")) else None
        report = energy_flow(wanted, city=results.city, method=method, dataset=results.dataset(version),
                             accounts=accounts)
        return report.to_dict(), provenance_meta(report.accounts.provenance.to_dict())

    return await cached_async(request, ("energy-flow", year, method), build)
