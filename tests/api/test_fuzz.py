"""Schemathesis with every check (``schemathesis run --checks all``: server errors, status codes, content
types, response schemas and headers, negative data rejected, positive data accepted, 405 with ``Allow`` for
undeclared methods, authentication not ignored, …) in-process over ASGI, as an administrator and as a district
user. Every phase runs (examples, coverage, fuzzing, stateful), derandomized (a fixed seed, the same cases
every run) and bounded (a few generated examples per operation).

Operations the document marks ``x-destructive`` are excluded, and only those (``schemathesis.toml``, read
here as the CLI reads it); see docs/api.md, "What /openapi.json promises"."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import StopReason, events, from_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 5
#: a guard against a run that grows, not the expected time (about 30 s per user on a quiet 2-core machine).
#: Not given to schemathesis as ``max-time``: with one, it repeats fuzzing and stateful phases until time is up
MAX_SECONDS = 180


def fuzz(env, user: str) -> tuple[list[str], set[str], int, float]:
    """Failures (one line each, with the request to reproduce them), the operations tested, the number of
    requests and the seconds the run took."""
    settings = tomllib.loads((ROOT / "schemathesis.toml").read_text(encoding="utf-8"))
    settings.update({"seed": 20261207, "suppress-health-check": ["all"], "headers": env.headers(user),
                     "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True,
                                    "database": "none"}})
    settings.setdefault("checks", {})["enabled"] = True  # --checks all
    config = SchemathesisConfig.from_dict(settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", env.client.app, config=config)
    failures: list[str] = []
    tested: set[str] = set()
    requests = 0
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            requests += len(event.recorder.interactions)
            if event.phase.value != "stateful":
                tested.add(event.recorder.label)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.append(f"{event.recorder.label} [{check.name}] {failure.title}: "
                                        f"{failure.message}\n    {check.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"{getattr(event, 'label', '')}: error {getattr(event, 'value', event)!r}")
        elif isinstance(event, events.EngineFinished):
            assert event.stop_reason is StopReason.COMPLETED, f"the run stopped early: {event.stop_reason}"
    return sorted(set(failures)), tested, requests, time.monotonic() - started


def expected_operations(env) -> set[str]:
    document = env.client.get("/openapi.json").json()
    return {f"{method.upper()} {path}" for path, item in document["paths"].items()
            for method, operation in item.items() if not operation.get("x-destructive")}


@pytest.mark.slow
def test_schemathesis_finds_no_failure_with_every_check_as_admin_and_as_district_user(fresh_env):
    """One test, the users in a fixed order over one store: the cases and the state they meet are the same on
    every run (the district run meets what the administrator's run created)."""
    expected = expected_operations(fresh_env)
    report = []
    for user in ("admin", "district-a"):
        failures, tested, requests, seconds = fuzz(fresh_env, user)
        report.append(f"{user}: {requests} requests, {len(tested)} operations, {seconds:.1f} s")
        assert not failures, f"{len(failures)} failure(s) as {user}:\n" + "\n".join(failures)
        assert tested == expected, f"as {user}: untested {expected - tested}, unexpected {tested - expected}"
        assert requests > 20 * len(tested), f"as {user}: only {requests} requests for {len(tested)} operations"
        assert seconds < MAX_SECONDS, f"as {user}: the run took {seconds:.0f} s"
    print("; ".join(report))
