"""The ledger's rows (what we know now, or what we knew ``as_of`` a moment) and one value's history.

Rows of a region other than the city are filtered by the caller's permissions (district users see their
districts' rows only; viewers and enterprises the city-level rows only): :mod:`citycarbon.services.statistics`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from citycarbon.api.deps import get_principal, get_results
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, respond
from citycarbon.api.routers._common import IsoDateTime, page_params
from citycarbon.auth.principal import Principal
from citycarbon.services import statistics as service

router = APIRouter(tags=["statistics"])
PERMISSIONS = {("GET", "/statistics"): "read", ("GET", "/statistics/history"): "read"}

Dataset = Literal["balance", "statistics", "capacity", "process_activity", "forest", "wetland", "monthly",
                  "districts"]
DIMENSIONS = ("flow", "sector", "fuel", "variable", "price_base_year", "technology", "process", "ecosystem",
              "target_id")


@router.get("/statistics", response_model=Envelope[list[dict[str, Any]]])
def list_statistics(request: Request, dataset: Dataset = Query("statistics"),
                    year: int | None = Query(None, ge=1900, le=2100), region: str | None = Query(
                        None, pattern=r"^\d{6}$"), variable: str | None = Query(None, max_length=64),
                    as_of: IsoDateTime | None = Query(None, description="what the ledger held at this moment (ISO 8601 "
                                                                     "with time zone)"),
                    pages: tuple[int, int] = Depends(page_params), principal: Principal = Depends(get_principal)
                    ) -> EnvelopeResponse:
    """Current (or ``as_of``) rows of a ledger dataset, filtered and paged."""
    page, per_page = pages
    found = service.list_rows(get_results(request), principal, dataset, year=year, region=region, variable=variable,
                              as_of=as_of, page=page, per_page=per_page)
    return respond(found.rows, paging=paging(request, page, per_page, found.total),
                   parameters={"dataset": dataset, "as_of": as_of.isoformat() if as_of else None})


@router.get("/statistics/history", response_model=Envelope[list[dict[str, Any]]])
def value_history(request: Request, dataset: Dataset = Query("statistics"), year: int = Query(ge=1900, le=2100),
                  region: str = Query(pattern=r"^\d{6}$"), month: int | None = Query(None, ge=1, le=12),
                  flow: str | None = Query(None, max_length=64), sector: str | None = Query(None, max_length=64),
                  fuel: str | None = Query(None, max_length=64), variable: str | None = Query(None, max_length=64),
                  price_base_year: int | None = Query(None, ge=1900, le=2100),
                  technology: str | None = Query(None, max_length=64),
                  process: str | None = Query(None, max_length=64),
                  ecosystem: str | None = Query(None, max_length=64),
                  target_id: str | None = Query(None, max_length=64),
                  principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Every recorded version of one value (oldest first): value, unit, status, source, recorded at/by."""
    dims = {"flow": flow, "sector": sector, "fuel": fuel, "variable": variable, "price_base_year": price_base_year,
            "technology": technology, "process": process, "ecosystem": ecosystem, "target_id": target_id}
    found = service.value_history(get_results(request), principal, dataset, year=year, region=region, month=month,
                                  dims=dims)
    return respond(found.versions, parameters={"dataset": dataset, "key": found.key})
