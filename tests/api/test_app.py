"""Application plumbing: jobs after a restart, CORS only when configured, one JSON log line per request
without secrets, the request-size limit setting."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace

import pytest

from tests.api.conftest import TestClient

API = "/api/v1"


def test_jobs_left_running_by_a_previous_process_are_failed_at_start(fresh_env):
    from citycarbon.api.app import create_app
    from citycarbon.services.jobs import INTERRUPTED
    from citycarbon.store import jobs

    env = fresh_env
    with env.db.session() as session:
        queued = jobs.create(session, "recompute", {}, actor="admin").id
        running = jobs.create(session, "recompute", {}, actor="admin").id
        jobs.start(session, running)
    restarted = create_app(env.settings, prepare=False, web=False, warm=False)
    with TestClient(restarted) as client:
        for job_id in (queued, running):
            job = client.get(f"{API}/jobs/{job_id}", headers=env.headers("admin")).json()["data"]
            assert job["status"] == "failed" and job["error"] == INTERRUPTED
        fresh = client.post(f"{API}/jobs/recompute", headers=env.headers("admin"))
        assert fresh.status_code == 202
        restarted.state.jobs.wait()
        job = client.get(f"{API}/jobs/{fresh.json()['data']['job_id']}", headers=env.headers("admin")).json()["data"]
        assert job["status"] == "done" and job["result"]["ledger_version"] > 0


def test_cors_only_for_configured_origins(fresh_env):
    from citycarbon.api.app import create_app

    env = fresh_env
    settings = replace(env.settings, extra={"CITYCARBON_CORS_ORIGINS": "https://intra.example"})
    app = create_app(settings, prepare=False, web=False, warm=False)
    with TestClient(app) as client:
        allowed = client.options(f"{API}/plan", headers={"Origin": "https://intra.example",
                                                         "Access-Control-Request-Method": "GET"})
        assert allowed.headers["access-control-allow-origin"] == "https://intra.example"
        other = client.get(f"{API}/plan", headers={"Origin": "https://evil.example", **env.headers("viewer", "read")})
        assert "access-control-allow-origin" not in other.headers
    with pytest.raises(ValueError, match="refused"):
        create_app(replace(env.settings, extra={"CITYCARBON_CORS_ORIGINS": "*"}), prepare=False, web=False)


def test_one_json_log_line_per_request_without_secrets(api_env):
    from citycarbon.api.logging import LOGGER_NAME, JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        token = api_env.tokens[("analyst", "read")]
        api_env.client.get(f"{API}/plan?token={token}", headers=api_env.headers("analyst", "read"))
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET" and line["path"] == f"{API}/plan" and line["status"] == 200
    assert line["user"] == "analyst" and line["request_id"] and line["ms"] >= 0
    assert token not in stream.getvalue() and token.split("_")[2] not in stream.getvalue()


def test_body_limit_setting(fresh_env):
    from citycarbon.api.app import create_app, max_body_bytes

    env = fresh_env
    small = replace(env.settings, extra={"CITYCARBON_MAX_BODY_MB": "0.001"})
    assert max_body_bytes(small) == 1048
    with TestClient(create_app(small, prepare=False, web=False, warm=False)) as client:
        answer = client.post(f"{API}/auth/login", json={"username": "x" * 2000, "password": "y"})
        assert answer.status_code == 413
    with pytest.raises(ValueError):
        max_body_bytes(replace(env.settings, extra={"CITYCARBON_MAX_BODY_MB": "-1"}))
