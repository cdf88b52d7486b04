"""``/openapi.json`` that tells the truth, and method routing that keeps to it.

FastAPI derives the document from the routes; this module completes it with what the code does but the route
declarations do not say, in one place instead of on every decorator (:func:`install` hooks both parts in):

* **Error answers** (the envelope of :mod:`citycarbon.api.errors`): every API operation documents 401, 403,
  404 and 422 (``errors.ERROR_RESPONSES``); an operation with a request body also 400 (a body that is not
  JSON / form data at all) and 413 (a body over the limit); :data:`EXTRA_RESPONSES` adds the statuses only
  some operations give (409 state conflicts, 429 rate limiting).
* **Security**: ``bearer`` (``Authorization: Bearer cc_…``) and ``session`` (the ``cc_session`` cookie; unsafe
  methods also need the ``X-CSRF-Token`` header) on every operation whose permission rule (the routers'
  ``PERMISSIONS``) is not ``public``.
* **Markers** (OpenAPI extensions), read by ``schemathesis.toml`` and ``tests/api/test_fuzz.py``:

  - ``x-destructive: true`` (:data:`DESTRUCTIVE`): the operation ends or changes state a generated request
    must not touch — it approves or discards an import (the ledger changes for good), revokes a token, changes
    a user's role or password, ends the caller's own session, or (login) locks an account after failures. A
    fuzz run excludes exactly these.
  - ``x-input-rules: true`` (:data:`INPUT_RULES`): a schema-valid request can still be refused with 422 by a
    rule beyond the schema (parameters that go together, values that must exist in the ledger); the 422
    description lists the rules. A fuzz run accepts 422 for schema-valid input on these operations only.

* **405 with a true ``Allow``** (:class:`MethodRouting`): ``Allow`` lists every method of every route the path
  matches (Starlette names only the first route's), and a concrete path wins over a templated one as the
  OpenAPI specification says (``GET /jobs/recompute`` is a 405, not a ``GET /jobs/{job_id}`` with a bad id).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.routing import Match

from citycarbon.api import errors

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: (method, path under the API prefix) → why a generated request must not call it
DESTRUCTIVE: dict[tuple[str, str], str] = {
    ("POST", "/imports/{batch_id}/approve"): "writes the batch into the ledger for good",
    ("POST", "/imports/{batch_id}/discard"): "ends a batch for good",
    ("PATCH", "/users/{username}"): "changes a user's role, regions or disables the account (the caller's too)",
    ("POST", "/users/{username}/reset-password"): "replaces a user's password and ends their sessions",
    ("POST", "/users/{username}/reset-totp"): "removes a user's second factor and ends their sessions",
    ("DELETE", "/tokens/{prefix}"): "revokes a token (the caller's own among them)",
    ("POST", "/auth/password"): "changes the caller's password",
    ("POST", "/auth/logout"): "ends the caller's session",
    ("POST", "/auth/login"): "failed attempts lock the account and count against the caller's address",
    ("PUT", "/users/{username}/city"): "changes which city a user may read and write (the caller's own too)",
    ("DELETE", "/governance/plans/{plan_code}"): "withdraws a registered 1+N plan",
    ("POST", "/governance/plans/{plan_code}/withdraw"): "withdraws a registered 1+N plan",
    ("POST", "/governance/supervision/{item_id}/close"): "closes a supervision item",
    ("POST", "/governance/supervision/template"): "replaces the office's 督办通知 template",
    ("POST", "/governance/calendar"): "changes the working-day calendar every deadline counts with",
    ("POST", "/governance/rounds/{code}/close"): "ends a progress round for good (no more filings)",
    ("POST", "/governance/filings/{filing_id}/review"): "accepts a unit's filing for good, or returns it",
    # issue 15: the replacement ledgers
    ("POST", "/projects/{code}/allocations"): "spends a ledger source's balance on a project",
    ("POST", "/projects/allocations/{allocation_id}/release"): "gives an allocation back for good",
    # issue 15 item 5: the project workflow (project_workflow)
    ("POST", "/projects/{code}/submit"): "submits a project for 节能审查",
    ("POST", "/projects/{code}/completeness"): "starts the review of a project or returns it as incomplete",
    ("POST", "/projects/{code}/decision"): "decides a project for good (文号); rejection releases its allocations",
    ("POST", "/projects/{code}/commissioning"): "records a project's commissioning",
    ("POST", "/projects/{code}/acceptance"): "accepts a project (验收) for good",
    ("POST", "/projects/{code}/withdraw"): "withdraws a project for good and releases its allocations",
}

PATHWAY_RULES = ("scenario (and base) name a shipped scenario", "levers (set) name known levers, with numbers in "
                 "their range")
TARGET_RULES = ("target_id names a target the city's plan leaves open (values) or any target (allocations)",
                "unit converts to the target's unit", "the document number has no '|'", "date is not in the future")
GOV_REGISTRY_RULES = ("city names a city of the deployment", "codes follow their patterns (organisation: "
                      "lowercase letters, digits, '_'; measure: T05-M02)", "a parent, lead unit, co-unit or "
                      "district names a current organisation of the registry (districts: of kind district or "
                      "pilot_zone)", "a district's region_code is a GB/T 2260 district of the city",
                      "indicator units are pint units", "a unit that carries measures is not deactivated",
                      "an import is a CSV or Excel file whose every row is valid (errors name file, row, column)")
PROJECT_RULES = ("city names a city of the deployment", "state is a workflow state",
                 "the applicant's unified social credit code is valid (GB 32100 check character)",
                 "an enterprise user's applicant code is its own registry code",
                 "region_code is a district of the city (a district user: one of its districts)",
                 "fuels are codes of the fuels codelist, with units of their dimension",
                 "a project has annual energy use", "an import is the template or a CSV whose every row is "
                 "valid (errors name file, sheet, row, column)")
LEDGER_RULES = ("city names a city of the deployment", "unit is a pint unit (energy sources and requests: of "
                "the dimension of tce; a request: of its source's dimension)", "a capacity source names a product "
                "of efficiency_benchmarks.csv or a capacity-replacement sector, its district, retirement date "
                "and 文号; energy room its origin and document", "region_code is a district of the city",
                "an import is a CSV or the ledger workbook whose every row is valid and new (errors name file, "
                "sheet, row, column)", "a release gives its reason")
ENERGY_PROJECT_RULES = ("city names a city of the deployment", "technology is a code of "
                        "data/projects/energy_technologies.csv", "region_code is the city or one of its districts, "
                        "one the caller may write", "stages move forward with their dates (not in the future, "
                        "not before the previous stage's); back only as the office's correction with a reason",
                        "actions apply to the technology", "owner_uscc is an 18-character code", "version is the "
                        "current one (else 409)", "an import is a CSV or the template workbook whose every row is "
                        "valid (errors name file, sheet, row, column)")
#: (method, path) → the rules beyond the schema under which a schema-valid request is refused with 422
INPUT_RULES: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/status"): ("year must be one the ledger covers",),
    ("GET", "/warnings"): ("year must be one the ledger covers",),
    ("GET", "/energy-flow"): ("year must be one the ledger covers",),
    ("GET", "/districts"): ("year must be one the ledger covers",),
    ("GET", "/indicators"): ("the method choices (query parameters) have factor rows for the year",),
    ("GET", "/indicators/{year}"): ("the method choices (query parameters) have factor rows for the year",),
    ("GET", "/districts/{code}"): ("year must be one the ledger covers",),
    ("GET", "/decompositions"): ("start and end go together, start before end, both years the ledger covers",),
    ("GET", "/statistics/history"): ("the dataset's key dimensions (e.g. flow, sector, fuel of 'balance') "
                                     "are all given",),
    ("POST", "/users"): ("only enterprise users are bound to an enterprise (which must exist); district users "
                         "need regions that exist", "department users need an organisation of the registry",
                         "the username is not taken"),
    ("POST", "/users/{username}/tokens"): ("a viewer cannot hold a write token",),
    ("POST", "/imports"): ("the file is a CSV or Excel table of the kind, its rows valid and in the caller's "
                           "regions",),
    ("GET", "/targets/{target_id}/history"): ("target_id names a target of the city's plan",
                                              "district is a district of the city"),
    ("POST", "/targets/{target_id}/values"): TARGET_RULES,
    ("POST", "/targets/{target_id}/allocations"): (*TARGET_RULES, "district is a district of the city"),
    ("POST", "/cities"): ("plan is a valid plan file (errors name line and field)",
                          "accounting is a valid accounting profile"),
    ("PUT", "/users/{username}/city"): ("city names a city of the deployment",),
    # issue 14: the organisation registry and the responsibility matrix
    **{(method, path): GOV_REGISTRY_RULES for method, path in (
        ("GET", "/governance/orgs"), ("GET", "/governance/orgs/template"), ("GET", "/governance/orgs/{code}"),
        ("PATCH", "/governance/orgs/{code}"), ("PUT", "/governance/orgs/{code}"), ("POST", "/governance/orgs/import"),
        ("GET", "/governance/matrix"), ("GET", "/governance/matrix/template"), ("GET", "/governance/matrix/{code}"),
        ("PATCH", "/governance/matrix/{code}"), ("POST", "/governance/matrix/import"))},
    ("POST", "/governance/plans"): ("the body is a valid sub-plan file (errors name line and field)",
                                    "meta.parent is the city's plan or a registered sub-plan, without a loop",
                                    "meta.org is in the organisation registry", "city names a city"),
    ("GET", "/governance/plans/check"): ("city names a city of the deployment",),
    # issue 14: supervision, working-day calendar, inbox
    ("POST", "/governance/supervision/scan"): ("the working-day calendar covers the days counted",),
    ("POST", "/governance/supervision/{item_id}/answer"): (
        "the item is not closed", "evidence files are PDF, images or Excel by content, at most 20 MiB"),
    ("POST", "/governance/supervision/{item_id}/close"): ("the item is not closed already",),
    ("GET", "/governance/supervision/{item_id}/notice.docx"): (
        "the item is at the notice level or above", "the registry has an office",
        "the calendar covers the answer deadline"),
    ("POST", "/governance/supervision/template"): ("the file is a DOCX of at most 5 MiB",),
    # issue 15: the budget check (a stored commissioning date that is no year or date is named)
    ("GET", "/projects/{code}/budget"): ("the project's commissioning (data.commissioning) is a year or a date",
                                         "the city's tracking data cover the years to project from"),
    ("GET", "/projects/pipeline"): ("city names a city of the deployment with tracking data",),
    ("GET", "/governance/calendar/{year}"): ("a calendar source covers the year",),
    ("POST", "/governance/calendar"): ("the file is a CSV or Excel table of date, kind, name, source, status; "
                                       "every row valid",),
    ("POST", "/governance/inbox/read"): ("ids is not an empty list",),
    # issue 15 item 6: the energy-project registry
    **{(method, path): ENERGY_PROJECT_RULES for method, path in (
        ("GET", "/energy-projects"), ("POST", "/energy-projects"), ("GET", "/energy-projects/template"),
        ("POST", "/energy-projects/import"), ("GET", "/energy-projects/wind-solar"),
        ("GET", "/energy-projects/{code}"), ("PATCH", "/energy-projects/{code}"),
        ("POST", "/energy-projects/{code}/stage"))},
    ("POST", "/governance/rounds"): ("the code names a period of the kind (2026-11, 2026Q4, 2026) unless "
                                     "period_start and period_end are given", "deadline is not before the period "
                                     "starts", "measures and tasks name current measures with a responsible unit"),
    ("PUT", "/governance/filings/{filing_id}"): ("indicator_values keys are the measure's indicator codes",
                                                 "lag_reason is given when status is lagging"),
    ("POST", "/governance/filings/{filing_id}/review"): ("comment is given when returning",),
    ("POST", "/governance/filings/{filing_id}/attachments"): ("the file is, by its content, a PDF, an image (PNG, "
                                                              "JPEG, GIF, WebP) or an Excel workbook, not empty",),
    # issue 15: the project registry (projects_registry)
    **{(method, path): PROJECT_RULES for method, path in (
        ("GET", "/projects"), ("POST", "/projects"), ("POST", "/projects/check"), ("PATCH", "/projects/{code}"),
        ("POST", "/projects/import"), ("GET", "/projects/template"), ("GET", "/projects/{code}"),
        ("GET", "/projects/{code}/check"))},
    # issue 15: the replacement ledgers
    **{(method, path): LEDGER_RULES for method, path in (
        ("GET", "/projects/ledgers/sources"), ("POST", "/projects/ledgers/sources"),
        ("GET", "/projects/ledgers/sources/{source}"), ("PATCH", "/projects/ledgers/sources/{source}"),
        ("POST", "/projects/ledgers/import"), ("GET", "/projects/ledgers/template"),
        ("GET", "/projects/{code}/allocations"), ("POST", "/projects/{code}/allocations"),
        ("POST", "/projects/allocations/{allocation_id}/release"))},
    # issue 15 item 5: the project workflow (project_workflow)
    ("POST", "/projects/{code}/completeness"): ("missing names items of the completeness checklist",),
    ("POST", "/projects/{code}/comments"): ("the text is not blank", "files are, by their content, PDF, images or "
                                            "Excel, not empty, at most 20 MiB"),
    ("POST", "/projects/{code}/decision"): ("conditions are given with approve_conditions", "reason is given with "
                                            "reject", "number is not blank"),
    ("POST", "/projects/{code}/commissioning"): ("the date is not before the decision",),
    ("POST", "/projects/{code}/acceptance"): ("measured (with its source) only when the meter lake has no data for "
                                              "the period, and then required", "the period ends after it starts"),
    ("POST", "/projects/{code}/submit"): ("the stored project's energy and units are valid",),
    **{(method, f"/pathways/{name}"): PATHWAY_RULES
       for method, name in (("GET", "run"), ("POST", "run"), ("GET", "export"), ("GET", "scenarios/{code}"),
                            ("POST", "ensembles"), ("POST", "attributions"))},
}
INPUT_RULES.update({  # issue 16 (reports)
    ("POST", "/reports/generate"): ("formats are docx, pdf or xlsx", "ledger_version is one the ledger had",
                                    "the year has data", "a PDF or XLSX renderer is installed"),
    ("PUT", "/reports/narratives"): ("section is one of the report's narrative sections",),
    ("GET", "/reports/{year}/narratives"): ("org is a unit of the city",),
})

#: issue 15 item 5: the project workflow's state conflict (project_workflow)
PROJECT_STEP_CONFLICT = "conflict: the project's state does not allow this step, or a stale version"
#: statuses some operations give beyond the common ones: (method, path) → {status: description}
EXTRA_RESPONSES: dict[tuple[str, str], dict[int, str]] = {
    ("PATCH", "/projects/{code}"): {409: "conflict: a stale version, or the project is no longer a draft or "
                                         "returned as incomplete"},
    ("POST", "/imports/{batch_id}/approve"): {409: "conflict: the batch is not waiting for approval"},
    ("POST", "/imports/{batch_id}/discard"): {409: "conflict: the batch is already approved or discarded"},
    ("POST", "/auth/password"): {409: "conflict: the login's pending step is another one"},
    ("POST", "/auth/totp/enroll"): {409: "conflict: the login's pending step is another one"},
    ("POST", "/auth/totp/confirm"): {409: "conflict: the login's pending step is another one"},
    ("POST", "/auth/login"): {429: "rate_limited: too many attempts (Retry-After says when to try again)"},
    ("POST", "/cities"): {409: "conflict: the code or the region is already a city"},
    ("POST", "/governance/rounds"): {409: "conflict: a round with this code exists"},
    # issue 15: the replacement ledgers
    ("POST", "/projects/ledgers/sources"): {409: "conflict: a source with this code exists"},
    ("PATCH", "/projects/ledgers/sources/{source}"): {409: "conflict: the source has allocations (it is fixed)"},
    ("POST", "/projects/{code}/allocations"): {409: "conflict: over the source's balance (ledger_overspend), a "
                                               "source of another kind or product, an unknown source, or a project "
                                               "that may not receive replacement (ledger_project_state); a race "
                                               "lost ten times (stale_version)"},
    ("POST", "/projects/allocations/{allocation_id}/release"): {409: "conflict: the allocation is already "
                                                                     "released"},
    ("POST", "/governance/rounds/{code}/close"): {409: "conflict: the round is already closed"},
    ("PUT", "/governance/filings/{filing_id}"): {409: "conflict: a stale version (the answer carries the current "
                                                      "state), a closed round, or a filing with the office"},
    ("POST", "/governance/filings/{filing_id}/review"): {409: "conflict: a stale version or a filing not submitted"},
    ("POST", "/governance/filings/{filing_id}/attachments"): {409: "conflict: a closed round or a submitted filing"},
    # issue 15 item 5: the project workflow (project_workflow)
    ("POST", "/projects/{code}/submit"): {409: PROJECT_STEP_CONFLICT},
    ("POST", "/projects/{code}/completeness"): {409: PROJECT_STEP_CONFLICT},
    ("POST", "/projects/{code}/comments"): {409: "conflict: the project is not under review"},
    ("POST", "/projects/{code}/decision"): {409: PROJECT_STEP_CONFLICT + "; approval refused while a rule refuses "
                                                 "the project or its energy replacement is not covered (with the "
                                                 "numbers)"},
    ("POST", "/projects/{code}/commissioning"): {409: PROJECT_STEP_CONFLICT},
    ("POST", "/projects/{code}/acceptance"): {409: PROJECT_STEP_CONFLICT + ", or no approved figure"},
    ("POST", "/projects/{code}/withdraw"): {409: PROJECT_STEP_CONFLICT},
    ("GET", "/projects/{code}/opinion.docx"): {409: "conflict: the project has no decision yet"},
}

#: request bodies a handler reads itself (FastAPI cannot see them): (method, path) → requestBody
REQUEST_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/monitoring/readings"): {"required": True, "description": "a batch of at most 10 000 readings; "
                                       "row problems are reported per row in the answer, not refused", "content": {
        "application/json": {"schema": {
            "type": "object", "required": ["readings"], "properties": {
                "batch_id": {"type": ["string", "null"], "description": "the sender's id of the batch"},
                "readings": {"type": "array", "maxItems": 10_000, "items": {
                    "type": "object", "properties": {
                        "point_id": {"type": "string"}, "start": {"type": "string", "format": "date-time"},
                        "end": {"type": "string", "format": "date-time"}, "value": {"type": "number"},
                        "unit": {"type": "string"}, "received_at": {"type": "string", "format": "date-time"}}}}}}}}},
}

_PLAN_YAML = {"type": "string", "description": "a sub-plan file (YAML, the city plan's schema with meta.parent)"}
REQUEST_BODIES[("POST", "/governance/plans")] = {
    "required": True, "description": "the sub-plan's YAML as the body, or a multipart upload (field 'file')",
    "content": {"application/yaml": {"schema": _PLAN_YAML}, "text/yaml": {"schema": _PLAN_YAML},
                "text/plain": {"schema": _PLAN_YAML},
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary"}}}}}}

# issue 16 (runs): assessment runs (api/routers/assessments.py)
_ASSESS_RUN = "/assessments/runs/{run_id}"
DESTRUCTIVE.update({
    ("POST", "/assessments/schemes"): "registers a new version of an assessment scheme for good",
    ("POST", "/assessments/runs"): "supersedes the year's draft assessment",
    ("POST", _ASSESS_RUN + "/publish"): "publishes (freezes) an assessment for good",
    ("POST", _ASSESS_RUN + "/objections/{objection_id}/answer"): "answers a unit's objection for good",
})
INPUT_RULES.update({
    ("POST", "/assessments/schemes"): ("the file is a valid scheme (UTF-8 YAML; errors name file and field)",
                                       "its version is the next of its code"),
    ("POST", "/assessments/runs"): ("scheme names a stored scheme", "ledger_version is one the ledger had"),
    ("POST", _ASSESS_RUN + "/units/{unit}/adjust"): ("indicator is a qualitative item of the run's scheme",
                                                     "points lie between 0 and the item's maximum", "the reason "
                                                     "is not blank"),
    ("POST", _ASSESS_RUN + "/units/{unit}/objections"): ("indicator names an item of the run's scheme",
                                                         "the text is not blank"),
    ("POST", _ASSESS_RUN + "/objections/{objection_id}/answer"): ("the answer is not blank",),
    ("POST", _ASSESS_RUN + "/publish"): ("publishing early (before the objection period ends) needs a note",),
})
EXTRA_RESPONSES.update({
    ("POST", "/assessments/runs"): {409: "conflict: the year is published under this scheme version, or no unit "
                                         "of the scheme's kinds is registered"},
    ("POST", _ASSESS_RUN + "/units/{unit}/adjust"): {409: "conflict: a stale version, or the run is published "
                                                          "(frozen) or superseded"},
    ("POST", _ASSESS_RUN + "/units/{unit}/objections"): {409: "conflict: the objection period ended, or the run "
                                                              "is not a draft"},
    ("POST", _ASSESS_RUN + "/objections/{objection_id}/answer"): {409: "conflict: already answered, or the run "
                                                                       "is not a draft"},
    ("POST", _ASSESS_RUN + "/publish"): {409: "conflict: a stale version, open objections, the objection period "
                                              "runs (publish early with a note), or the run is not a draft"},
})

BODY_RESPONSES = {400: "bad_request: the body cannot be parsed (not JSON, not form data, not UTF-8)",
                  413: "payload_too_large: the request body is over the limit"}

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "an API token, `Bearer cc_…`"},
    "session": {"type": "apiKey", "in": "cookie", "name": "cc_session",
                "description": "a web login session; unsafe methods also need the X-CSRF-Token header"},
}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def permission_rules(prefix: str) -> dict[tuple[str, str], str]:
    """(METHOD, full path) → permission rule, from every router module's ``PERMISSIONS``."""
    from citycarbon.api.app import router_modules

    rules = {}
    for name in router_modules():
        module = importlib.import_module(f"citycarbon.api.routers.{name}")
        for (method, path), rule in getattr(module, "PERMISSIONS", {}).items():
            rules[(method.upper(), prefix + path)] = rule
    return rules


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}


def complete(document: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``document`` (FastAPI's) with the error answers, security and markers described in the module doc."""
    rules = permission_rules(prefix)
    document.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path, item in document.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        local = path[len(prefix):]
        for method, operation in item.items():
            if method not in METHODS:
                continue
            key = (method.upper(), local)
            responses = operation.setdefault("responses", {})
            extra = dict(EXTRA_RESPONSES.get(key, {}))
            if key in REQUEST_BODIES:
                operation.setdefault("requestBody", REQUEST_BODIES[key])
            if "requestBody" in operation:
                extra.update(BODY_RESPONSES)
            for status, description in extra.items():
                responses.setdefault(str(status), _error_response(description))
            if rules.get((method.upper(), path), "public") != "public":
                operation["security"] = [{"bearer": []}, {"session": []}]
            if key in DESTRUCTIVE:
                operation["x-destructive"] = True
                operation["description"] = (operation.get("description", "") +
                                            f"\n\n**Destructive** ({DESTRUCTIVE[key]}).").strip()
            if key in INPUT_RULES:
                operation["x-input-rules"] = True
                if "422" in responses:
                    responses["422"]["description"] += ("; also when a rule beyond the schema is broken: " +
                                                        "; ".join(INPUT_RULES[key]))
    return document


def install(app: FastAPI, prefix: str) -> None:
    """Serve the completed document at ``app.openapi_url`` and route methods as the document says."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes, openapi_version=app.openapi_version, tags=app.openapi_tags,
                                   servers=app.servers)
            app.openapi_schema = complete(document, prefix)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(MethodRouting, api=app, prefix=prefix)


ORDER = {m: i for i, m in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"))}


class MethodRouting:
    """405 answers under ``prefix`` with the full ``Allow`` list; concrete paths before templated ones."""

    def __init__(self, app: ASGIApp, *, api: FastAPI, prefix: str):
        self.app = app
        self.api = api
        self.prefix = prefix
        self._static: dict[str, frozenset[str]] | None = None

    def routes(self) -> list[Any]:
        """Every route (FastAPI ≥ 0.16x keeps an included router as one entry holding its effective routes)."""
        flat: list[Any] = []
        for route in self.api.router.routes:
            contexts = getattr(route, "effective_route_contexts", None)
            flat.extend(contexts() if contexts is not None else [route])
        return flat

    def static_paths(self) -> dict[str, frozenset[str]]:
        """Concrete (parameter-free) paths under the prefix → their methods (read once, at the first request,
        when every router and the web pages are mounted)."""
        if self._static is None:
            found: dict[str, set[str]] = {}
            for route in self.routes():
                path = str(getattr(route, "path_format", None) or getattr(route, "path", ""))
                methods = getattr(route, "methods", None)
                if methods and path.startswith(self.prefix) and "{" not in path:
                    found.setdefault(path, set()).update(methods)
            self._static = {path: frozenset(methods) for path, methods in found.items()}
        return self._static

    def allowed(self, scope: Scope) -> list[str]:
        """Every method of every route whose path matches the request's."""
        methods: set[str] = set()
        for route in self.routes():
            if getattr(route, "methods", None) and route.matches(scope)[0] is not Match.NONE:
                methods.update(route.methods)
        return sorted(methods, key=lambda m: ORDER.get(m, 99))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        methods = self.static_paths().get(scope["path"])
        if methods is not None and scope["method"] not in methods:
            allow = ", ".join(sorted(methods, key=lambda m: ORDER.get(m, 99)))
            response = errors.error_response(405, "method_not_allowed", f"{scope['method']} is not allowed here; "
                                             f"allowed: {allow}", headers={"Allow": allow})
            await response(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = ", ".join(self.allowed(scope)).encode()
                message["headers"] = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message["headers"].append((b"allow", allow))
            await send(message)

        await self.app(scope, receive, send_with_allow)
# issue 17 (macc)
INPUT_RULES.update({
    ("GET", "/pathways/macc"): (*PATHWAY_RULES, "a policy lever of the scenario differs from the base's"),
    ("GET", "/pathways/costs"): (*PATHWAY_RULES, "at most 8 scenarios"),
})
# issue 17 (api): goal-seek, what it takes, the ensemble's versus and the attribution's LMDI
INPUT_RULES.update({
    ("POST", "/pathways/seek"): (*PATHWAY_RULES, "targets name targets the model judges",
                                 "runs at most 50 for a least-cost seek with a probability",
                                 "a seek with a probability is a job (job may not be false)"),
    ("GET", "/pathways/what-it-takes"): ("base and target name shipped scenarios",),
    ("POST", "/pathways/ensembles"): (*PATHWAY_RULES, "versus names a shipped scenario"),
    ("POST", "/pathways/attributions"): (*PATHWAY_RULES, "the scenario differs from the base where lmdi asks for "
                                                         "the gap's decomposition"),
})
