"""Accounting results from the ledger: indicators, by sector, by fuel, by scope, dual control, provenance."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from citycarbon.api.deps import get_principal_async
from citycarbon.api.envelope import Envelope, EnvelopeResponse, provenance_meta
from citycarbon.api.errors import ApiError
from citycarbon.api.routers._common import cached_async
from citycarbon.errors import NotFound

router = APIRouter(tags=["indicators"], dependencies=[Depends(get_principal_async)])
PERMISSIONS = {("GET", "/indicators"): "read", ("GET", "/indicators/{year}"): "read"}


class MethodChoices(BaseModel):
    """The accounting profile's method choices, as query parameters: the names of ``citycarbon account``'s flags
    in snake_case (``--coal-rate`` → ``coal_rate``), the same values; absent = the city's profile (docs/api.md,
    docs/accounting.md "Accounting profile")."""

    method: Literal["coal-equivalent", "calorific"] | None = None
    coal_rate: Literal["generation", "supply"] | None = None
    co2_factors: Literal["provincial", "ipcc", "ipcc-cn-ncv"] | None = None
    grid_factor: Literal["provincial", "regional", "national", "reporting"] | None = None
    electricity_co2: Literal["net-inflow", "consumption"] | None = None
    non_fossil_attribution: Literal["grid-average", "local-mix"] | None = None

    def service_choices(self) -> dict[str, str | None]:
        return {"method": self.method, "coal_rate": self.coal_rate, "co2_factors": self.co2_factors,
                "grid_factor": self.grid_factor, "electricity_co2_basis": self.electricity_co2,
                "nonfossil_attribution": self.non_fossil_attribution}

    def key(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((k, v) for k, v in self.model_dump().items() if v is not None))


CHOICES = Annotated[MethodChoices, Query()]


def _year_result(request: Request, version: int, year: int, choices: MethodChoices | None = None
                 ) -> tuple[Any, dict]:
    from citycarbon.services.accounting import account_ledger_year

    try:
        result = account_ledger_year(request.app.state.results, version, year,
                                     choices.service_choices() if choices else None)
    except NotFound as exc:
        raise ApiError(404, str(exc), code="not_found") from exc
    meta = provenance_meta(result.provenance.to_dict())
    return result.to_dict(), meta


@router.get("/indicators", response_model=Envelope[Any])
async def list_indicators(request: Request, choices: CHOICES,
                          year: int | None = Query(None, ge=1900, le=2100, description="one year's full result"),
                          ) -> EnvelopeResponse:
    """Without ``year``: every accounted year's headline indicators (the city's profile); with ``year``: that
    year's full result, on the method choices given as query parameters (see ``GET /indicators/{year}``)."""
    if year is not None:
        return await cached_async(request, ("indicators", year, choices.key()),
                                  lambda v: _year_result(request, v, year, choices))

    def build(version: int) -> tuple[Any, dict]:
        results = request.app.state.results.accounting(version)
        rows = [{"year": y, "region": r.region, "indicators": r.indicators, "units": r.units}
                for y, r in sorted(results.items())]
        estimates = sorted({e for r in results.values() for e in r.provenance.estimates})
        latest = results[max(results)].provenance.to_dict() if results else {}
        return rows, {**provenance_meta(latest), "factors": None, "estimates": estimates}

    return await cached_async(request, ("indicators", None), build)


@router.get("/indicators/{year}", response_model=Envelope[dict[str, Any]])
async def get_indicators(request: Request, choices: CHOICES, year: int = Path(ge=1900, le=2100)
                         ) -> EnvelopeResponse:
    """One year's accounting: indicators, by sector/fuel/fuel group, CO2 by scope and by sector (reconciled to
    the total), dual-control view, electricity, and the provenance (factor rows, the factor tables' SHA-256,
    fallbacks, estimated figures) in ``meta``. Method choices as query parameters (the city's profile where
    absent): ``method``, ``coal_rate``, ``co2_factors``, ``grid_factor``, ``electricity_co2``,
    ``non_fossil_attribution`` — the flags of ``citycarbon account`` in snake_case, with the same values."""
    return await cached_async(request, ("indicators", year, choices.key()),
                              lambda v: _year_result(request, v, year, choices))
