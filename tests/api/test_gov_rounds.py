"""``/api/v1/governance/rounds`` and ``/filings``: open, list, file, review, attach and download over HTTP with
bearer tokens; 409 with the current state for a stale version; 404 for another unit's filing and attachment;
downloads only as attachments (disposition, sniffed type, nosniff, sandbox CSP)."""

from __future__ import annotations

import pytest

from tests.governance.rounds_support import PDF, measure_with_indicators

API = "/api/v1/governance"


@pytest.fixture(scope="module")
def env(api_env):
    from citycarbon.store import users

    with api_env.db.session() as session:
        for name, org in (("dept-miit", "miit"), ("dept-eco", "eco")):
            user, _ = users.create_user(session, username=name, role="department", actor="test", org_code=org)
            for scope in ("read", "write"):
                api_env.tokens[(name, scope)] = users.issue_token(session, user, scope, scope, actor="test")
    api_env.measure = measure_with_indicators(api_env.db)
    return api_env


def _call(env, method: str, path: str, user: str = "admin", scope: str = "write", **kwargs):
    return env.client.request(method, API + path, headers=env.headers(user, scope), **kwargs)


def test_open_file_review_and_download_over_http(env):
    opened = _call(env, "POST", "/rounds", json={"code": "2026Q4", "period": "quarterly", "deadline": "2027-01-10",
                                                 "tasks": [4]})
    assert opened.status_code == 201, opened.text
    data = opened.json()["data"]
    assert data["period_start"] == "2026-10-01" and data["counts"]["assignments"] == data["counts"]["not_filed"] > 0
    assert _call(env, "POST", "/rounds", json={"code": "2026Q4", "period": "quarterly",
                                               "deadline": "2027-01-10"}).status_code == 409
    assert [r["code"] for r in _call(env, "GET", "/rounds", user="viewer", scope="read").json()["data"]] == ["2026Q4"]
    assert _call(env, "GET", "/rounds/2026Q4/filings", user="viewer", scope="read").json()["data"] == []

    own = _call(env, "GET", "/rounds/2026Q4/filings", user="dept-miit").json()["data"]
    assert own and {f["org"] for f in own} == {"miit"}
    filing = next(f for f in own if f["measure"] == env.measure)
    fid = filing["id"]
    assert [i["unit"] for i in filing["indicators"]] == ["MW", "1"]

    bad = _call(env, "PUT", f"/filings/{fid}", user="dept-miit", json={
        "version": 0, "status": "in_progress", "indicator_values": {"wind_mw": 3}})
    assert bad.status_code == 422 and "indicator_values.wind_mw" in bad.text
    saved = _call(env, "PUT", f"/filings/{fid}", user="dept-miit", json={
        "version": 0, "status": "in_progress", "narrative": "开工", "indicator_values": {"pv_mw": 80}})
    assert saved.status_code == 200 and saved.json()["data"]["version"] == 1
    stale = _call(env, "PUT", f"/filings/{fid}", user="dept-miit", json={"version": 0, "status": "completed"})
    assert stale.status_code == 409
    assert stale.json()["error"]["current"]["version"] == 1 and stale.json()["error"]["current"]["narrative"] == "开工"

    upload = _call(env, "POST", f"/filings/{fid}/attachments", user="dept-miit",
                   files={"file": ("photo.png", PDF, "image/png")})
    assert upload.status_code == 201 and upload.json()["data"]["media_type"] == "application/pdf"  # by content
    wrong = _call(env, "POST", f"/filings/{fid}/attachments", user="dept-miit",
                  files={"file": ("table.csv", b"a,b\n1,2\n", "text/csv")})
    assert wrong.status_code == 422 and "table.csv" in wrong.text
    aid = upload.json()["data"]["id"]
    listed = _call(env, "GET", f"/filings/{fid}/attachments", user="analyst", scope="read").json()["data"]
    assert [a["id"] for a in listed] == [aid]
    got = _call(env, "GET", f"/attachments/{aid}", user="dept-miit", scope="read")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;") and "photo.png" in got.headers[
        "content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"].startswith("sandbox")
    for user in ("dept-eco", "district-a", "viewer"):
        scope = "read"
        assert _call(env, "GET", f"/attachments/{aid}", user=user, scope=scope).status_code == 404
        assert _call(env, "GET", f"/filings/{fid}", user=user, scope=scope).status_code == 404
    assert _call(env, "PUT", f"/filings/{fid}", user="dept-eco", json={
        "version": 1, "status": "completed"}).status_code == 404

    submitted = _call(env, "PUT", f"/filings/{fid}", user="dept-miit", json={
        "version": 1, "status": "lagging", "lag_reason": "审批未完成", "submit": True})
    assert submitted.json()["data"]["state"] == "submitted"
    assert _call(env, "POST", f"/filings/{fid}/review", user="dept-miit", json={
        "version": 2, "decision": "accept"}).status_code == 403
    returned = _call(env, "POST", f"/filings/{fid}/review", json={"version": 2, "decision": "return",
                                                                  "comment": "请补充"})
    assert returned.status_code == 200 and returned.json()["data"]["state"] == "returned"
    again = _call(env, "PUT", f"/filings/{fid}", user="dept-miit", json={
        "version": 3, "status": "completed", "submit": True})
    assert again.json()["data"]["version"] == 4
    accepted = _call(env, "POST", f"/filings/{fid}/review", json={"version": 4, "decision": "accept"})
    assert accepted.json()["data"]["state"] == "accepted"
    shown = _call(env, "GET", f"/filings/{fid}", user="dept-miit", scope="read").json()["data"]
    assert [h["action"] for h in shown["history"]] == ["save", "submit", "return", "submit", "accept"]
    counts = _call(env, "GET", "/rounds/2026Q4", user="viewer", scope="read").json()["data"]["counts"]
    assert counts["accepted"] == 1
    state = _call(env, "GET", "/rounds/2026Q4/filings?state=accepted").json()["data"]
    assert [f["id"] for f in state] == [fid]

    closed = _call(env, "POST", "/rounds/2026Q4/close")
    assert closed.status_code == 200 and closed.json()["data"]["state"] == "closed"
    assert _call(env, "POST", "/rounds/2026Q4/close").status_code == 409
    other = next(f for f in own if f["id"] != fid)
    late = _call(env, "PUT", f"/filings/{other['id']}", user="dept-miit", json={"version": 0, "status": "completed",
                                                                              "submit": True})
    assert late.status_code == 409 and "closed" in late.json()["error"]["message"]
