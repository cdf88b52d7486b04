"""The envelope, provenance, paging, errors, headers and /healthz; a representative subset of endpoints on
both backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.api.conftest import DISTRICT_A

API = "/api/v1"


def test_healthz_reports_database_migration_and_ledger_version(api_env):
    answer = api_env.client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["migration_current"] is True
    assert body["migration"] == body["migration_head"]
    assert isinstance(body["ledger_version"], int) and body["ledger_version"] > 0


def test_indicators_carry_provenance_and_ledger_version(api_env):
    body = api_env.get(f"{API}/indicators/2022").json()
    assert set(body) == {"meta", "data"}
    meta, data = body["meta"], body["data"]
    assert meta["ledger_version"] == api_env.client.get("/healthz").json()["ledger_version"]
    assert meta["method_version"].startswith("citycarbon.accounting/")
    assert meta["inputs"]["balance"].startswith("sha256:")
    assert meta["factors"] and all("factor_id" in row or "id" in row for row in meta["factors"])
    assert any("estimate" in e for e in meta["estimates"])
    assert meta["generated_at"]
    assert data["year"] == 2022 and data["indicators"]["energy_consumption_tce"] > 0
    for part in ("by_sector", "by_fuel", "co2_by_scope", "dual_control"):
        assert data[part]


def test_indicators_equal_the_file_based_accounting(api_env):
    from citycarbon.services.accounting import account_city

    expected = account_city(2021, source="files").indicators
    got = api_env.get(f"{API}/indicators?year=2021").json()["data"]["indicators"]
    for name in ("energy_consumption_tce", "co2_emissions_t", "non_fossil_share"):
        assert got[name] == pytest.approx(expected[name], rel=1e-9)


def test_unknown_year_is_404_with_error_envelope(api_env):
    answer = api_env.get(f"{API}/indicators/1990")
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "not_found" and "1990" in error["message"]


def test_bad_query_parameter_is_422_naming_the_field(api_env):
    answer = api_env.get(f"{API}/decompositions", params={"measure": "water"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["problems"][0]["field"] == "measure" and error["problems"][0]["file"] == "query"


def test_input_error_from_the_domain_is_422(api_env):
    answer = api_env.get(f"{API}/decompositions", params={"start": 2018})
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["field"] == "end"


def test_lists_are_paged_with_links(api_env):
    body = api_env.get(f"{API}/statistics", params={"per_page": 5, "page": 2}).json()
    paging = body["meta"]["paging"]
    assert paging["page"] == 2 and paging["per_page"] == 5 and paging["total"] > 10
    assert len(body["data"]) == 5
    assert "page=3" in paging["links"]["next"] and "page=1" in paging["links"]["prev"]
    assert api_env.get(f"{API}/statistics", params={"per_page": 501}).status_code == 422


def test_statistics_as_of_before_anything_was_recorded_is_empty(api_env):
    body = api_env.get(f"{API}/statistics", params={"as_of": "2000-01-01T00:00:00+00:00"}).json()
    assert body["meta"]["paging"]["total"] == 0
    naive = api_env.get(f"{API}/statistics", params={"as_of": "2000-01-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["error"]["problems"][0]["field"] == "as_of"


def test_security_headers_on_every_answer_and_no_cors_by_default(api_env):
    for answer in (api_env.client.get("/healthz"), api_env.client.get(f"{API}/plan"),
                   api_env.get(f"{API}/plan", headers={"Origin": "https://evil.example"})):
        headers = answer.headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "camera=()" in headers["permissions-policy"]
        assert headers["x-request-id"]
        assert not any(name.lower().startswith("access-control-") for name in headers)
    preflight = api_env.client.options(f"{API}/plan", headers={"Origin": "https://evil.example",
                                                               "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers


def test_no_docs_pages_that_would_load_a_cdn(api_env):
    assert api_env.client.get("/docs").status_code == 404
    assert api_env.client.get("/redoc").status_code == 404
    schema = api_env.client.get("/openapi.json").json()
    assert schema["paths"]["/api/v1/indicators/{year}"]["get"]["responses"]["200"]
    assert "cdn" not in api_env.client.get("/openapi.json").text.lower()


def test_status_and_district_views(api_env):
    status = api_env.get(f"{API}/status", params={"year": 2023}).json()
    assert status["data"]["year"] == 2023 and status["data"]["targets"]
    assert {d["region"] for d in status["data"]["districts"]} >= {DISTRICT_A}
    district = api_env.get(f"{API}/districts/{DISTRICT_A}", params={"year": 2023}).json()["data"]
    assert district["region"] == DISTRICT_A and district["targets"]
    warnings = api_env.get(f"{API}/warnings", params={"year": 2023}).json()["data"]
    assert all(w["level"] in (1, 2, 3) for w in warnings)
    assert [w["level"] for w in warnings] == sorted(w["level"] for w in warnings)


REPRESENTATIVE = ("/plan/targets", "/indicators/2020", "/sinks?year=2020",
                  "/statistics?dataset=balance&year=2020&per_page=3", "/statistics/history?year=2020&region=210200"
                  "&variable=gdp", "/audit?per_page=2", "/users", "/auth/me", "/tokens")


def test_representative_endpoints_on_both_backends(backend_env):
    for path in REPRESENTATIVE:
        answer = backend_env.get(API + path)
        assert answer.status_code == 200, (path, answer.text)
        body = answer.json()
        assert set(body) == {"meta", "data"} and body["data"], path
    assert backend_env.get(API + "/users", scope="read").status_code == 200
    assert backend_env.get(API + "/users", user="analyst").status_code == 403
