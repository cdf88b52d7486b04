"""The permission matrix, generated: every route of the app × every role (admin, analyst, district A,
district B, enterprise X, enterprise Y, viewer, anonymous) × token scope (read, write).

The expected outcome of each cell comes from the route's declared rule (each router module's
``PERMISSIONS``) applied with :class:`citycarbon.auth.principal.Principal`'s own methods; a route without a
declared rule fails the test. Write requests carry a body the handler must reject (422), so a permitted
caller is told "bad input" and a refused one 401/403 — the matrix writes no data (the readings endpoint
records an ingest caller's refused batch as a monitoring submission, which is its contract). Every answer to a
district user is searched for the other district's code and name, every answer to an enterprise user for
the other enterprise's id: they must never appear.
"""

from __future__ import annotations

import importlib
import json
import re

import pytest
from fastapi.routing import APIRoute

from citycarbon.api.app import API_PREFIX, router_modules
from citycarbon.api.routers._common import RULES
from citycarbon.auth.principal import Principal
from tests.api.conftest import DISTRICT_A, DISTRICT_B, NAMES, PEOPLE

#: routes outside /api/v1 and their rules
APP_ROUTES = {("GET", "/healthz"): "public", ("GET", "/openapi.json"): "public", ("HEAD", "/openapi.json"): "public"}
#: path parameters used for every route (district A's code: district B must get 404)
PATH_VALUES = {"year": "2022", "code": DISTRICT_A, "username": "viewer", "prefix": "00000000",
               "batch_id": "1", "job_id": "00000000-0000-0000-0000-000000000000", "submission_id": "1",
               "target_id": "energy_intensity_reduction_2025", "plan_code": "zhuanghe_2030", "item_id": "1",
               "filing_id": "1", "attachment_id": "1", "org": "miit"}
PATH_VALUES.update({"source": "E-1", "allocation_id": "1"})  # issue 15: the replacement ledgers
PATH_VALUES.update({"doc_id": "1"})  # issue 16 (reports): a stored report document
#: query parameters a GET route requires
QUERY_VALUES = {"/api/v1/statistics/history": {"year": "2020", "region": "210200", "variable": "gdp"}}
# issue 16 (runs): assessment runs
PATH_VALUES.update({"run_id": "1", "unit": "d210202", "objection_id": "1"})
QUERY_VALUES.update({"/api/v1/assessments/runs/latest": {"year": "2024"}})
QUERY_VALUES.update({"/api/v1/pathways/macc": {"year": "2030"}})  # issue 17 (macc)
#: a JSON body every write endpoint must reject as invalid (unknown field / wrong types)
INVALID_BODY = {"definitely_not_a_field": ["x"], "username": 7, "scope": "everything", "code": 1}


def declared_rules() -> dict[tuple[str, str], str]:
    rules = dict(APP_ROUTES)
    for name in router_modules():
        module = importlib.import_module(f"citycarbon.api.routers.{name}")
        for (method, path), rule in getattr(module, "PERMISSIONS", {}).items():
            rules[(method, API_PREFIX + path)] = rule
    return rules


def principal_of(user: str, scope: str) -> Principal | None:
    if user == "anonymous":
        return None
    for index, (name, role, regions, enterprise) in enumerate(PEOPLE, start=1):
        if name == user:
            base = Principal(index, name, role, frozenset(regions), enterprise)
            return base.narrowed({scope})
    raise KeyError(user)


def allowed(rule: str, principal: Principal) -> bool:
    """Whether the rule lets this principal through (the answer for a refusal is 403 or, for rule
    'region', 404)."""
    return {
        "public": True,
        "authenticated": True,
        "read": True,
        "region": principal.can_read_region(DISTRICT_A),
        "write": principal.can_write,
        "import": principal.can_import_statistics(),
        "import_read": principal.role.value in ("admin", "analyst", "district"),
        "approve": principal.can_approve_import(),
        "admin": principal.can_read_audit(),
        "admin_write": principal.can_manage_users(),
        "city_job": principal.can_start_city_jobs(),
        "governance": principal.role.value != "enterprise",
        "session": False,  # bearer calls never hold a login session
    }[rule]


def expected(rule: str, principal: Principal | None, method: str) -> set[int]:
    """The statuses a correct app may answer for this cell."""
    if rule == "session":
        return {401, 422}
    if principal is None:
        return {200, 401, 422, 404} if rule == "public" else {401}
    if allowed(rule, principal):
        # permitted: the handler runs (200), rejects the invalid body (422), or the object does not exist
        # for this caller (404: another user's job/batch/token); never 401/403
        return {200, 201, 202, 404, 409, 422} if method != "GET" else {200, 404}
    return {404} if rule == "region" else {403}


def _flatten(routes) -> list:
    """Every route; FastAPI ≥ 0.16x keeps included routers as one entry with their effective routes."""
    flat = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            flat.extend(contexts())
        else:
            flat.append(route)
    return flat


def all_routes(app) -> list[tuple[str, str]]:
    routes = []
    for route in _flatten(app.routes):
        methods = getattr(route, "methods", None) or set()
        path = getattr(route, "path_format", None) or route.path
        for method in sorted(methods):
            if method == "HEAD" and (isinstance(route, APIRoute) or hasattr(route, "original_route")):
                continue
            routes.append((method, path))
    return sorted(set(routes))


def fill(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no sample value for a path parameter of {path}: add it to PATH_VALUES"
    return path


ENTERPRISES = {name: enterprise for name, _, _, enterprise in PEOPLE if enterprise}
CELLS = [(user, scope) for user, *_ in PEOPLE for scope in ("read", "write") if (user, scope) != ("viewer", "write")]
CELLS.append(("anonymous", "read"))


def test_every_route_declares_a_rule(api_env):
    rules = declared_rules()
    missing = [f"{m} {p}" for m, p in all_routes(api_env.client.app) if (m, p) not in rules]
    assert not missing, f"routes without an entry in their module's PERMISSIONS: {missing}"
    assert set(rules.values()) <= set(RULES)
    stale = sorted(f"{m} {p}" for m, p in set(rules) - set(all_routes(api_env.client.app)))
    assert not stale, f"PERMISSIONS entries for routes that do not exist: {stale}"


def test_declared_rules_are_known():
    unknown = {rule for rule in declared_rules().values() if rule not in RULES}
    assert not unknown, f"unknown permission rules {unknown}; known: {sorted(RULES)}"


def _call(env, method: str, path: str, user: str, scope: str):
    headers = {} if user == "anonymous" else env.headers(user, scope)
    if method in ("GET", "HEAD", "DELETE"):
        return env.client.request(method, path, headers=headers, params=QUERY_VALUES.get(path))
    return env.client.request(method, path, headers={**headers, "Content-Type": "application/json"},
                              content=json.dumps(INVALID_BODY))


@pytest.mark.parametrize(("user", "scope"), CELLS, ids=[f"{u}-{s}" for u, s in CELLS])
def test_permission_matrix(api_env, user, scope):
    rules = declared_rules()
    principal = principal_of(user, scope)
    failures, seen = [], []
    for method, route_path in all_routes(api_env.client.app):
        rule = rules[(method, route_path)]
        path = fill(route_path)
        answer = _call(api_env, method, path, user, scope)
        allowed_statuses = expected(rule, principal, method)
        seen.append(answer.status_code)
        if answer.status_code not in allowed_statuses:
            failures.append(f"{method} {path} [{rule}] → {answer.status_code}, expected {sorted(allowed_statuses)}: "
                            f"{answer.text[:160]}")
        if answer.status_code >= 500:
            failures.append(f"{method} {path} → server error {answer.status_code}")
        if user.startswith("district-"):
            other = DISTRICT_B if user == "district-a" else DISTRICT_A
            text = answer.text
            # whole tokens only: a float such as 0.132745210202985 contains the digits of a region code
            leaked = [token for token in (other, *NAMES[other])
                      if re.search(rf"(?<![0-9A-Za-z]){re.escape(token)}(?![0-9A-Za-z])", text)]
            if leaked:
                failures.append(f"{method} {path}: answer to {user} names the other district {leaked}")
        if user.startswith("enterprise-"):
            other = ENTERPRISES["enterprise-y" if user == "enterprise-x" else "enterprise-x"]
            if other in answer.text:
                failures.append(f"{method} {path}: answer to {user} names the other enterprise {other}")
    assert not failures, "\n".join(failures)
    assert len(seen) >= 30  # every route was asked


def test_denials_do_not_leak_existence(api_env):
    """District B asking for district A's detail gets the same 404 as for a code that does not exist."""
    foreign = api_env.get(f"{API_PREFIX}/districts/{DISTRICT_A}", user="district-b")
    unknown = api_env.get(f"{API_PREFIX}/districts/999999", user="district-b")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    status = api_env.get(f"{API_PREFIX}/status", params={"region": DISTRICT_A}, user="district-b")
    assert status.status_code == 404
    own = api_env.get(f"{API_PREFIX}/districts", user="district-b").json()["data"]
    assert [d["region"] for d in own] == [DISTRICT_B]
    assert api_env.get(f"{API_PREFIX}/districts", user="viewer", scope="read").json()["data"] == []
