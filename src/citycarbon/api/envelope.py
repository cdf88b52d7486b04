"""The response envelope: every JSON answer is ``{"meta": {...}, "data": ...}``.

``meta`` carries provenance where the domain provides it (method version, input hashes, factor rows, ledger
version, which inputs are estimates, when the result was generated) and paging for lists (``page``,
``per_page``, ``total`` and ``links``). Errors have their own shape, see :mod:`citycarbon.api.errors`.

Results are rendered to bytes once (:func:`render`) and cached per ledger version by
:mod:`citycarbon.services.results`; handlers return :class:`EnvelopeResponse` so FastAPI does not re-validate a
large document on every request (the Pydantic models below document the shape in ``/openapi.json``).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from citycarbon.services.encoding import jsonable

T = TypeVar("T")

MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 50


class Links(BaseModel):
    self: str
    first: str
    last: str
    next: str | None = None
    prev: str | None = None


class Paging(BaseModel):
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    total: int = Field(ge=0)
    links: Links


class Meta(BaseModel):
    """What an answer was computed from. Every field is optional: lists carry ``paging``, computed results
    carry provenance."""

    model_config = ConfigDict(extra="allow")

    generated_at: str | None = None
    ledger_version: int | None = None
    method: str | None = None
    method_version: str | None = None
    standards: list[str] | None = None
    inputs: dict[str, str] | None = None
    factors: list[dict[str, Any]] | None = None
    parameters: dict[str, Any] | None = None
    estimates: list[str] | None = None
    paging: Paging | None = None


class Envelope(BaseModel, Generic[T]):
    meta: Meta
    data: T


class EnvelopeResponse(Response):
    media_type = "application/json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def document(data: Any, **meta: Any) -> dict:
    """The envelope as plain JSON values; ``meta`` entries that are None are left out."""
    body = {k: v for k, v in meta.items() if v is not None}
    body.setdefault("generated_at", now_iso())
    return {"meta": jsonable(body), "data": jsonable(data)}


def render(doc: dict) -> bytes:
    """UTF-8 JSON bytes of an envelope (no NaN: :func:`jsonable` already replaced them)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def respond(data: Any, status_code: int = 200, **meta: Any) -> EnvelopeResponse:
    return EnvelopeResponse(render(document(data, **meta)), status_code=status_code)


def provenance_meta(provenance: dict | None) -> dict:
    """Meta fields from a :class:`citycarbon.provenance.Provenance` dict."""
    if not provenance:
        return {}
    keys = ("method", "method_version", "standards", "inputs", "factors", "parameters", "estimates")
    meta = {k: provenance.get(k) for k in keys if provenance.get(k) is not None}
    if provenance.get("computed_at"):
        meta["generated_at"] = provenance["computed_at"]
    return meta


def paging(request: Request, page: int, per_page: int, total: int) -> dict:
    """Paging meta with links that keep the request's other query parameters."""
    last = max(1, math.ceil(total / per_page)) if per_page else 1
    params = dict(request.query_params)

    def link(number: int) -> str:
        return f"{request.url.path}?{urlencode({**params, 'page': number, 'per_page': per_page})}"

    return {"page": page, "per_page": per_page, "total": total,
            "links": {"self": link(page), "first": link(1), "last": link(last),
                      "next": link(page + 1) if page < last else None,
                      "prev": link(page - 1) if page > 1 else None}}
