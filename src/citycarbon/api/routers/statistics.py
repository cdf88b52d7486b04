"""The ledger's rows (what we know now, or what we knew ``as_of`` a moment) and one value's history.

Rows of a region other than the city are filtered by the caller's permissions (district users see their
districts' rows only; viewers and enterprises the city-level rows only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from citycarbon.api.deps import get_database, get_principal
from citycarbon.api.envelope import Envelope, EnvelopeResponse, paging, respond
from citycarbon.api.errors import not_found
from citycarbon.api.routers._common import IsoDateTime, page_params
from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, Problem

router = APIRouter(tags=["statistics"])
PERMISSIONS = {("GET", "/statistics"): "read", ("GET", "/statistics/history"): "read"}

Dataset = Literal["balance", "statistics", "capacity", "process_activity", "forest", "wetland", "monthly",
                  "districts"]
DIMENSIONS = ("flow", "sector", "fuel", "variable", "price_base_year", "technology", "process", "ecosystem",
              "target_id")


def _aware(moment: datetime | None, field: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InputError(Problem("give a time zone, e.g. 2025-01-31T00:00:00+08:00", field=field,
                                 value=moment.isoformat()))
    return moment


def _city_code(request: Request) -> str:
    results = request.app.state.results
    return results.dataset(results.version()).region


@router.get("/statistics", response_model=Envelope[list[dict[str, Any]]])
def list_statistics(request: Request, dataset: Dataset = Query("statistics"),
                    year: int | None = Query(None, ge=1900, le=2100), region: str | None = Query(
                        None, pattern=r"^\d{6}$"), variable: str | None = Query(None, max_length=64),
                    as_of: IsoDateTime | None = Query(None, description="what the ledger held at this moment (ISO 8601 "
                                                                     "with time zone)"),
                    pages: tuple[int, int] = Depends(page_params), principal: Principal = Depends(get_principal)
                    ) -> EnvelopeResponse:
    """Current (or ``as_of``) rows of a ledger dataset, filtered and paged."""
    from citycarbon.store import ledger

    as_of = _aware(as_of, "as_of")
    city = _city_code(request)
    if region is not None and region != city and not principal.can_read_region(region):
        raise not_found("region")
    with get_database(request).session() as session:
        frame = ledger.current_frame(session, dataset, region=region, as_of=as_of)
    if year is not None:
        frame = frame[frame["year"] == year]
    if variable is not None and "variable" in frame.columns:
        frame = frame[frame["variable"] == variable]
    if not principal.city_wide:
        regions = frame["region"].astype(str)
        visible = {city, *principal.visible_regions(sorted(set(regions)))}
        frame = frame[regions.isin(visible).to_numpy(dtype=bool)]
    page, per_page = pages
    total = len(frame)
    rows = frame.iloc[(page - 1) * per_page: page * per_page].to_dict(orient="records")
    return respond(rows, paging=paging(request, page, per_page, total),
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
    from citycarbon.store import ledger

    if region != _city_code(request) and not principal.can_read_region(region):
        raise not_found("region")
    given = {"flow": flow, "sector": sector, "fuel": fuel, "variable": variable, "price_base_year": price_base_year,
             "technology": technology, "process": process, "ecosystem": ecosystem, "target_id": target_id}
    spec = ledger.spec_for(dataset)
    key: dict[str, Any] = {"year": year, "region": region}
    if spec.monthly:
        if month is None:
            raise InputError(Problem(f"'{dataset}' values are monthly: give month", field="month"))
        key["month"] = month
    for name in spec.dims:
        value = given.get(name)
        if value is None and name not in spec.nullable_dims:
            raise InputError(Problem(f"a '{dataset}' value is named by {', '.join(spec.key_columns)}: give {name}",
                                     field=name))
        key[name] = value
    with get_database(request).session() as session:
        versions = ledger.history(session, dataset, key)
    return respond(versions, parameters={"dataset": dataset, "key": key})
