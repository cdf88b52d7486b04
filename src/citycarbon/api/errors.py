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

The services' refusals (:class:`citycarbon.errors.NotFound`, ``Forbidden``, ``Conflict``) map to 404, 403
and 409 here, once, for every face. These handlers are the application's only ones: a path outside ``/api``
(the cockpit) gets an HTML page in the caller's language instead of the envelope, rendered by the hook the web
puts on ``app.state.error_page`` (an unknown page, a malformed id and a server error alike; never a
traceback). Every 500 is logged with its request id, which the answer names.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from citycarbon.api.envelope import jsonable
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem, ServiceError

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


#: paths outside the cockpit that answer JSON although they are not under /api
JSON_PATHS = ("/api/", "/healthz", "/openapi.json")
SERVICE_STATUS = ((NotFound, 404), (Forbidden, 403), (Conflict, 409))


def service_status(error: ServiceError) -> int:
    """The HTTP status of a service refusal (404, 403, 409; 400 for a new kind nobody mapped yet)."""
    return next((status for kind, status in SERVICE_STATUS if isinstance(error, kind)), 400)


def _web_page(request: Request, status: int, problem: Problem | None = None,
              request_id: str | None = None) -> Response | None:
    """The cockpit's HTML error page for a web path, or None (an API path, or no cockpit mounted)."""
    if request.url.path.startswith(JSON_PATHS):
        return None
    page = getattr(request.app.state, "error_page", None)
    if page is None:
        return None
    return page(request, status, problem=problem, request_id=request_id)


def _path_error(exc: RequestValidationError) -> bool:
    """A malformed path parameter (``/imports/abc``): the page does not exist (404), it is not bad input."""
    return any((item.get("loc") or ("",))[0] == "path" for item in exc.errors())


def install(app: FastAPI) -> None:
    """Register the application's exception handlers: the error envelope for the API, HTML pages for the web."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return (_web_page(request, exc.status, exc.problems[0] if exc.problems else None)
                or error_response(exc.status, exc.code, exc.message, exc.problems, exc.headers))

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        status = service_status(exc)
        return (_web_page(request, status, Problem(exc.message))
                or error_response(status, CODES.get(status, exc.code), exc.message))

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        return (_web_page(request, 422, exc.first)
                or error_response(422, "invalid_input", str(exc.first), exc.problems))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = _validation_problems(exc)
        page = _web_page(request, 404 if _path_error(exc) else 422, problems[0] if problems else None)
        if page is not None:
            return page
        message = str(problems[0]) if problems else "invalid request"
        return error_response(422, "invalid_input", message, problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = CODES.get(exc.status_code, "error")
        page = _web_page(request, exc.status_code)
        if page is not None:
            for name, value in (getattr(exc, "headers", None) or {}).items():
                page.headers[name] = value
            return page
        return error_response(exc.status_code, code, str(exc.detail), None, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        request_id = getattr(request.state, "request_id", "-")
        log.exception("unhandled error (request id %s)", request_id, extra={"request_id": request_id})
        try:
            page = _web_page(request, 500, request_id=request_id)
        except Exception:  # the page itself failed (e.g. the database is gone): the plain envelope below
            log.exception("rendering the error page failed (request id %s)", request_id,
                          extra={"request_id": request_id})
            page = None
        response = page or error_response(500, "internal_error", f"internal error (request id {request_id})")
        # this answer leaves outside the request middleware: give it the headers that middleware adds
        from citycarbon.api.middleware import security_headers

        settings = getattr(request.app.state, "settings", None)
        for name, value in security_headers(bool(getattr(settings, "cookie_secure", False))):
            response.headers.setdefault(name.decode(), value.decode())
        response.headers["X-Request-ID"] = request_id
        return response
