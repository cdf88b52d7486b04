"""Helpers shared by the routers (not a router: modules starting with ``_`` are not discovered)."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BeforeValidator

from citycarbon.api.envelope import DEFAULT_PER_PAGE, MAX_PER_PAGE, EnvelopeResponse, document, render

#: permission rules a route can declare (see docs/api.md, "Permissions")
RULES: dict[str, str] = {
    "public": "no authentication",
    "authenticated": "any logged-in caller",
    "session": "a web login session (cookie + CSRF header), pending logins included; bearer tokens get 401",
    "read": "any authenticated role and scope (public aggregates and the caller's own objects)",
    "region": "the region in the path must be one the caller may read; otherwise 404",
    "write": "a role and token scope that may write",
    "import": "Principal.can_import_statistics (admin, analyst, district; write scope)",
    "import_read": "admin, analyst and district roles (district users see their own uploads)",
    "approve": "Principal.can_approve_import (admin; write scope)",
    "admin": "administrators (read)",
    "admin_write": "administrators with a write scope",
    "city_job": "Principal.can_start_city_jobs (admin, analyst; write scope): city-wide background jobs",
    "governance": "every role but enterprise users (running the plan is the city's, its departments' and districts' "
                  "business): the answer is scoped to the caller's units",
}


def cached(request: Request, key: Hashable, build: Callable[[int], tuple[Any, dict]]) -> EnvelopeResponse:
    """An envelope computed once per ledger version: ``build(version) -> (data, meta)``; rendered bytes are
    cached, so a warm answer costs one version query and a dictionary lookup."""
    results = request.app.state.results
    version = results.version()

    def make() -> bytes:
        data, meta = build(version)
        return render(document(data, ledger_version=version, **meta))

    return EnvelopeResponse(results.memo(version, ("render", key), make))


async def cached_async(request: Request, key: Hashable, build: Callable[[int], tuple[Any, dict]]
                       ) -> EnvelopeResponse:
    """:func:`cached` for ``async`` handlers: a warm answer is served on the event loop without a thread hop;
    reading the version (once a second) and computing a missing result run in the thread pool."""
    from starlette.concurrency import run_in_threadpool

    results = request.app.state.results
    version = results.known_version()
    if version is not None:
        hit = results.peek(version, ("render", key))
        if hit is not None:
            return EnvelopeResponse(hit)
    return await run_in_threadpool(cached, request, key, build)


def page_params(page: int = Query(1, ge=1, le=1_000_000, description="page number, from 1"),
                per_page: int = Query(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE,
                                      description=f"items per page (≤ {MAX_PER_PAGE})")) -> tuple[int, int]:
    return page, per_page


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}:?\d{2})")


def _strict(pattern: re.Pattern[str], what: str, example: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
            raise ValueError(f"expected {what}, e.g. {example}")
        return value.strip()

    return check


#: a date parameter: ``YYYY-MM-DD`` only (pydantic alone reads ``0.5`` or ``1700000000`` as a Unix time)
IsoDate = Annotated[date, BeforeValidator(_strict(_ISO_DATE, "an ISO 8601 date", "2025-01-31"))]
#: a date-time parameter as OpenAPI's ``format: date-time`` (RFC 3339) says:
#: ``YYYY-MM-DDThh:mm[:ss[.ffffff]]`` with ``Z`` or ``±hh:mm`` — never a number (pydantic alone reads
#: ``0.5`` as 1970-01-01), never without a time zone
IsoDateTime = Annotated[datetime, BeforeValidator(_strict(
    _ISO_DATETIME, "an ISO 8601 date-time with a time zone", "2025-01-31T08:00:00+08:00"))]


def _json_number(value: Any) -> Any:
    """JSON numbers only: pydantic alone reads ``true`` as 1 and ``"12"`` as 12 in a request body."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a JSON number")
    return value


#: an integer in a JSON body: an integer (or a number with no fraction, as JSON Schema says), never true/"12"
JsonInt = Annotated[int, BeforeValidator(_json_number)]
#: a number in a JSON body, never true/false or a string
JsonFloat = Annotated[float, BeforeValidator(_json_number)]
