"""Fuzzing from /openapi.json (schemathesis, in-process ASGI): every operation gets generated requests as an
admin and as a district user; no answer may be a server error (5xx). Bounded: a few examples per operation,
derandomized (the same cases every run), the whole run well under 90 s on the CI machine."""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

EXAMPLES_PER_OPERATION = 4
#: operations whose generated cases would only exercise argon2 and the login rate limiter
SKIP = {("POST", "/api/v1/auth/login")}


def _fuzz(env, user: str, budget_s: float) -> int:
    schema = schemathesis.openapi.from_asgi("/openapi.json", env.client.app)
    headers = env.headers(user)
    started = time.monotonic()
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        run()
        assert time.monotonic() - started < budget_s, f"fuzzing exceeded its {budget_s:.0f} s budget"
    return calls


@pytest.mark.slow
def test_no_server_error_for_generated_requests_as_admin(api_env):
    assert _fuzz(api_env, "admin", budget_s=240) > 60


@pytest.mark.slow
def test_no_server_error_for_generated_requests_as_district_user(api_env):
    assert _fuzz(api_env, "district-a", budget_s=240) > 60
