"""What /openapi.json promises (src/citycarbon/api/openapi.py), checked directly and fast; the schemathesis
run in test_fuzz.py checks the same promises with generated requests."""

from __future__ import annotations

import pytest

from citycarbon.api import openapi
from citycarbon.api.app import API_PREFIX

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document(api_env) -> dict:
    return api_env.client.get("/openapi.json").json()


def operations(document: dict) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path[len(API_PREFIX):]): operation for path, item in document["paths"].items()
            if path.startswith(API_PREFIX) for method, operation in item.items() if method in METHODS}


def test_every_marked_operation_exists(document):
    known = set(operations(document))
    for table in (openapi.DESTRUCTIVE, openapi.INPUT_RULES, openapi.EXTRA_RESPONSES, openapi.REQUEST_BODIES):
        assert set(table) <= known, f"stale entries: {set(table) - known}"


def test_markers_and_error_answers_are_in_the_document(document):
    ops = operations(document)
    destructive = {key for key, op in ops.items() if op.get("x-destructive")}
    assert destructive == set(openapi.DESTRUCTIVE)
    assert {key for key, op in ops.items() if op.get("x-input-rules")} == set(openapi.INPUT_RULES)
    assert "year must be one the ledger covers" in ops[("GET", "/status")]["responses"]["422"]["description"]
    for key, op in ops.items():
        statuses = set(op["responses"])
        assert {"401", "403", "404", "422"} <= statuses, key
        if "requestBody" in op:
            assert {"400", "413"} <= statuses, key
        for status in openapi.EXTRA_RESPONSES.get(key, {}):
            assert str(status) in statuses, key
    assert ops[("POST", "/monitoring/readings")]["requestBody"]["required"] is True


def test_security_is_declared_on_every_operation_but_the_public_ones(document):
    rules = openapi.permission_rules(API_PREFIX)
    assert set(document["components"]["securitySchemes"]) == {"bearer", "session"}
    for (method, path), op in operations(document).items():
        public = rules[(method, API_PREFIX + path)] == "public"
        assert ("security" in op) is not public, (method, path)


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("OPTIONS", "/users", "GET, POST"),
    ("DELETE", "/users", "GET, POST"),
    ("OPTIONS", "/users/viewer", "GET, PATCH"),
    ("PUT", "/monitoring/readings", "GET, POST"),
    ("GET", "/jobs/recompute", "POST"),  # a concrete path wins over /jobs/{job_id}
    ("POST", "/jobs/0123", "GET"),
])
def test_405_lists_every_method_of_the_path(api_env, method, path, allow):
    answer = api_env.client.request(method, API_PREFIX + path, headers=api_env.headers("admin"))
    assert answer.status_code == 405
    assert answer.headers["allow"] == allow
    assert answer.json()["error"]["code"] == "method_not_allowed"
    assert answer.headers["x-content-type-options"] == "nosniff"  # still inside the security headers


@pytest.mark.parametrize(("path", "field"), [
    ("/statistics?as_of=0.5", "as_of"),
    ("/statistics?as_of=1700000000", "as_of"),
    ("/statistics?as_of=2025-13-01T00:00:00%2B08:00", "as_of"),
    ("/audit?until=0.5", "until"),
    ("/audit?since=2025", "since"),
    ("/audit?since=2025-03-01T00:00:00", "since"),  # no time zone: was a 500 (a naive time into the store)
])
def test_a_number_is_not_a_date(api_env, path, field):
    answer = api_env.get(API_PREFIX + path)
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["field"] == field


def test_iso_dates_are_accepted(api_env):
    assert api_env.get(f"{API_PREFIX}/statistics?as_of=2025-03-01T00:00:00%2B08:00").status_code == 200
    window = "since=2025-03-01T00:00:00Z&until=2025-03-02 08:00%2B08:00"
    assert api_env.get(f"{API_PREFIX}/audit?{window}").status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("PATCH", "/users/viewer", {"disabled": 0}, "disabled"),
    ("POST", "/pathways/ensembles", {"seed": True}, "seed"),
    ("POST", "/pathways/ensembles", {"runs": "100"}, "runs"),
    ("POST", "/pathways/attributions", {"exact": 1}, "exact"),
    ("POST", "/pathways/run", {"levers": {"ccus_2060_mt": "4"}}, "levers.ccus_2060_mt"),
])
def test_json_types_are_not_coerced(api_env, method, path, body, field):
    answer = api_env.client.request(method, API_PREFIX + path, json=body, headers=api_env.headers("admin"))
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["field"] == field


def test_an_integral_number_is_an_integer(api_env):
    answer = api_env.client.post(f"{API_PREFIX}/pathways/ensembles", json={"runs": 20.0, "seed": 3.0},
                                 headers=api_env.headers("admin"))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(("raw", "ok"), [("2025-01-31", True), ("0.5", False), ("1700000000", False),
                                          ("2025-1-31", False), ("2025-01-31T00:00:00Z", False)])
def test_iso_date_takes_a_calendar_date_only(raw, ok):
    from pydantic import TypeAdapter, ValidationError

    from citycarbon.api.routers._common import IsoDate

    try:
        TypeAdapter(IsoDate).validate_python(raw)
    except ValidationError:
        assert not ok
    else:
        assert ok
