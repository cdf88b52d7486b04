"""Error answers: ``{"error": {"code", "message", "problems": [{file, row, field, value, suggestion}]}}``.

=====  ======================  =====================================================================
HTTP   code                    when
=====  ======================  =====================================================================
401    ``unauthorized``        no or invalid credentials (bearer token or session cookie)
403    ``forbidden``           authenticated, but the role/scope may not do this, or CSRF token missing
404    ``not_found``           unknown object, *or* another region's/enterprise's object (no leak)
409    ``conflict``            state conflict (approving a discarded import, duplicate username, …)
413    ``payload_too_large``   request body above the limit
422    ``invalid_input``       bad input: :class:`citycarbon.errors.InputError` or request validation;
                               each problem names file, row and field where known
429    ``rate_limited``        login attempts over the limit / account locked
500    ``internal_error``      a bug; the message carries only the request id (details in the log)
=====  ======================  =====================================================================
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from citycarbon.api.envelope import jsonable
from citycarbon.errors import InputError, Problem

log = logging.getLogger("citycarbon.api")

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         406: "not_acceptable", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
         422: "invalid_input", 429: "rate_limited", 500: "internal_error", 503: "unavailable"}


class ProblemOut(BaseModel):
    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None
    value: Any = None
    suggestion: str | None = None
    #: a message code (citycarbon.auth.messages) a client may translate, when the problem has one
    message_code: str | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    problems: list[ProblemOut] = []


class ErrorEnvelope(BaseModel):
    error: ErrorBody


#: the error answers every route may give, for the OpenAPI document
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": CODES[status]} for status in (401, 403, 404, 422)
}


class ApiError(Exception):
    """An error answer with a status, a stable code and optional problems."""

    def __init__(self, status: int, message: str, *, code: str | None = None, problems: list[Problem] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.problems = problems or []
        self.headers = headers


def unauthorized(message: str = "authentication required: a bearer token or a session") -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": 'Bearer realm="citycarbon"'})


def forbidden(message: str = "not allowed for this role or token scope") -> ApiError:
    return ApiError(403, message)


def not_found(what: str = "object") -> ApiError:
    return ApiError(404, f"{what} not found")


def problem_dict(problem: Problem) -> dict:
    out = {"message": problem.message, "file": problem.file, "row": problem.row, "field": problem.field,
           "value": problem.value, "suggestion": problem.suggestion}
    if problem.code:
        out["message_code"] = problem.code
    return jsonable(out)


def error_response(status: int, code: str, message: str, problems: list[Problem] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "problems": [problem_dict(p) for p in problems or []]}}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_problems(error: RequestValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        where = location[0] if location else None
        field = ".".join(location[1:]) if len(location) > 1 else where
        value = item.get("input")
        if isinstance(value, dict | list) or (isinstance(value, str | bytes) and len(value) > 200):
            value = None  # never echo whole bodies back
        problems.append(Problem(str(item.get("msg", "invalid value")), file=where, field=field, value=value))
    return problems


def install(app: FastAPI) -> None:
    """Register the exception handlers that turn every error into the error envelope."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.problems, exc.headers)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return error_response(422, "invalid_input", str(exc.first), exc.problems)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _validation_problems(exc)
        message = str(problems[0]) if problems else "invalid request"
        return error_response(422, "invalid_input", message, problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail), None, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "-")
        log.exception("unhandled error", extra={"request_id": request_id})
        return error_response(500, "internal_error", f"internal error (request id {request_id})")
