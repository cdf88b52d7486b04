"""The matrix must cover every write: a public service function (or method) that takes a caller (``principal``,
``actor``, ``sender``) and is not a declared read fails this test until it is added to
:mod:`tests.permissions.matrix`; so does a non-GET API route or a web form post that no entry names."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import citycarbon.services
from tests.permissions.matrix import (
    COMPUTATIONS,
    MATRIX,
    OPERATOR_WRITES,
    READS,
    SESSION_WRITES,
    WRITES,
    WRITES_BY_NAME,
)

CALLER_PARAMETERS = {"principal", "actor", "sender"}
#: web form posts that are not writes of the matrix: the login session's own steps and the audit chain check
WEB_NOT_IN_MATRIX = {("POST", "/login"): "login (services.auth.login)",
                     ("POST", "/login/password"): "own password (services.auth.change_password)",
                     ("POST", "/login/totp"): "own TOTP (services.auth.confirm_totp)",
                     ("POST", "/logout"): "logout (services.auth.logout)",
                     ("POST", "/admin/audit/verify"): "verifies the audit chain (reads; admins)"}


def _service_callables() -> dict[str, object]:
    found: dict[str, object] = {}
    for info in pkgutil.walk_packages(citycarbon.services.__path__, "citycarbon.services."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(value):
                found[f"{module.__name__}.{name}"] = value
            elif inspect.isclass(value):
                for attr, member in vars(value).items():
                    function = member.__func__ if isinstance(member, classmethod | staticmethod) else member
                    if not attr.startswith("_") and inspect.isfunction(function):
                        found[f"{module.__name__}.{name}.{attr}"] = function
    return found


def _takes_a_caller(function) -> bool:
    return bool(CALLER_PARAMETERS & set(inspect.signature(function).parameters))


def test_every_service_write_is_in_the_matrix():
    callables = _service_callables()
    declared = {write.service for write in WRITES} | set(OPERATOR_WRITES) | READS
    missing = sorted(name for name, function in callables.items() if _takes_a_caller(function) and
                     name not in declared)
    assert not missing, ("service functions that take a caller and are neither declared reads nor in the "
                         f"permission matrix (tests/permissions/matrix.py): {missing}")
    stale = sorted(name for name in declared if name not in callables)
    assert not stale, f"the matrix names service functions that do not exist: {stale}"
    session_writes = sorted(set(SESSION_WRITES.values()) - set(callables))
    assert not session_writes, f"SESSION_WRITES names functions that do not exist: {session_writes}"


def test_every_write_is_declared_for_every_caller():
    assert set(WRITES_BY_NAME) == set(MATRIX), "WRITES and TABLE must name the same writes"
    assert len(WRITES_BY_NAME) == len(WRITES), "a write is declared twice"
    for name, cells in MATRIX.items():
        assert "ok" in cells.values(), f"{name}: nobody may do it (a write no face should offer)"


def test_every_non_get_api_route_is_in_the_matrix():
    from tests.api.test_permissions import declared_rules

    api = {write.api for write in WRITES if write.api}
    prefix = "/api/v1"
    routes = {(method, path.removeprefix(prefix)) for method, path in declared_rules()
              if method not in ("GET", "HEAD", "OPTIONS")}
    missing = sorted(f"{m} {p}" for m, p in routes - api - set(SESSION_WRITES) - set(COMPUTATIONS))
    assert not missing, f"non-GET API routes missing from tests/permissions/matrix.py: {missing}"
    stale = sorted(f"{m} {p}" for m, p in (api | set(SESSION_WRITES) | set(COMPUTATIONS)) - routes)
    assert not stale, f"the matrix names API routes that do not exist: {stale}"


def test_every_web_form_post_is_in_the_matrix():
    import citycarbon.web.routes

    posts = set()
    for info in pkgutil.iter_modules(citycarbon.web.routes.__path__, "citycarbon.web.routes."):
        router = getattr(importlib.import_module(info.name), "router", None)
        for route in getattr(router, "routes", ()):
            for method in getattr(route, "methods", set()) - {"GET", "HEAD"}:
                posts.add((method, route.path))
    web = {write.web for write in WRITES if write.web}
    missing = sorted(f"{m} {p}" for m, p in posts - web - set(WEB_NOT_IN_MATRIX))
    assert not missing, f"web form posts missing from tests/permissions/matrix.py: {missing}"
    stale = sorted(f"{m} {p}" for m, p in (web | set(WEB_NOT_IN_MATRIX)) - posts)
    assert not stale, f"the matrix names web routes that do not exist: {stale}"
