"""LMDI decomposition of the city's accounted history (Kaya identity by economic sector)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from citycarbon.api.deps import get_principal
from citycarbon.api.envelope import Envelope, EnvelopeResponse
from citycarbon.api.routers._common import cached
from citycarbon.errors import InputError, Problem
from citycarbon.services.decomposition import NOTES, decompose_city

router = APIRouter(tags=["decompositions"], dependencies=[Depends(get_principal)])
PERMISSIONS = {("GET", "/decompositions"): "read"}


@router.get("/decompositions", response_model=Envelope[dict[str, Any]])
def get_decomposition(request: Request, measure: Literal["energy", "co2"] = Query("energy"),
                      start: int | None = Query(None, ge=1900, le=2100, description="start year (with end)"),
                      end: int | None = Query(None, ge=1900, le=2100, description="end year (with start)")
                      ) -> EnvelopeResponse:
    """LMDI-I effects (additive and multiplicative) between ``start`` and ``end``, or the chain over every
    pair of consecutive years when both are omitted; households' energy/CO2 reported beside."""
    if (start is None) != (end is None):
        raise InputError(Problem("give both start and end, or neither for a chain over all years",
                                 field="start" if start is None else "end"))
    if start is not None and end is not None and start >= end:
        raise InputError(Problem("start must be before end", field="start", value=start))

    def build(version: int) -> tuple[Any, dict]:
        results = request.app.state.results
        result, households = decompose_city(results.city, measure, start, end, dataset=results.dataset(version))
        data = {"measure": measure, "periods": [p.to_dict() for p in result.periods],
                "households": households.to_dict(orient="records"), "notes": NOTES}
        return data, {"method": "LMDI-I (Ang 2005, Ang & Liu 2007)", "parameters": {"measure": measure}}

    return cached(request, ("decomposition", measure, start, end), build)
