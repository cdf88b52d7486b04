"""Accounting results from the ledger: indicators, by sector, by fuel, by scope, dual control, provenance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request

from citycarbon.api.deps import get_principal_async
from citycarbon.api.envelope import Envelope, EnvelopeResponse, provenance_meta
from citycarbon.api.errors import ApiError
from citycarbon.api.routers._common import cached_async

router = APIRouter(tags=["indicators"], dependencies=[Depends(get_principal_async)])
PERMISSIONS = {("GET", "/indicators"): "read", ("GET", "/indicators/{year}"): "read"}


def _year_result(request: Request, version: int, year: int) -> tuple[Any, dict]:
    results = request.app.state.results.accounting(version)
    if year not in results:
        raise ApiError(404, f"no accounting for {year}: the ledger covers {min(results)}–{max(results)}",
                       code="not_found")
    result = results[year]
    meta = provenance_meta(result.provenance.to_dict())
    return result.to_dict(), meta


@router.get("/indicators", response_model=Envelope[Any])
async def list_indicators(request: Request, year: int | None = Query(None, ge=1900, le=2100,
                                                               description="one year's full result")
                    ) -> EnvelopeResponse:
    """Without ``year``: every accounted year's headline indicators; with ``year``: that year's full result."""
    if year is not None:
        return await cached_async(request, ("indicators", year), lambda v: _year_result(request, v, year))

    def build(version: int) -> tuple[Any, dict]:
        results = request.app.state.results.accounting(version)
        rows = [{"year": y, "region": r.region, "indicators": r.indicators, "units": r.units}
                for y, r in sorted(results.items())]
        estimates = sorted({e for r in results.values() for e in r.provenance.estimates})
        latest = results[max(results)].provenance.to_dict() if results else {}
        return rows, {**provenance_meta(latest), "factors": None, "estimates": estimates}

    return await cached_async(request, ("indicators", None), build)


@router.get("/indicators/{year}", response_model=Envelope[dict[str, Any]])
async def get_indicators(request: Request, year: int = Path(ge=1900, le=2100)) -> EnvelopeResponse:
    """One year's accounting: indicators, by sector/fuel/fuel group, CO2 by scope, dual-control view,
    electricity, and the provenance (factor rows, input hashes, estimates) in ``meta``."""
    return await cached_async(request, ("indicators", year), lambda v: _year_result(request, v, year))
