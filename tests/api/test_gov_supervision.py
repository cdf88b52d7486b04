"""``/api/v1/governance/supervision``, ``/calendar`` and ``/inbox`` (issue 14 items 5, 8): the office scans, a
department sees and answers only its own items (another's: 404), the office closes, the notice downloads as a DOCX
with its Chinese text, the calendar reads and imports, the inbox lists and marks read."""

from __future__ import annotations

import io
from datetime import date

from tests.api.conftest import ApiEnv
from tests.governance.test_supervision_services import make_round

API = "/api/v1/governance"


def _dept(env: ApiEnv, name: str, org: str) -> dict[str, str]:
    from citycarbon.store import users

    with env.db.session() as session:
        user, _ = users.create_user(session, username=name, role="department", org_code=org, actor="test")
        token = users.issue_token(session, user, "write", "t", actor="test")
    return {"Authorization": f"Bearer {token}"}


def test_supervision_through_the_api(backend_env):
    from docx import Document

    env = backend_env
    miit, eco = _dept(env, "api-miit", "miit"), _dept(env, "api-eco", "eco")
    make_round(env.db)
    assert env.client.post(f"{API}/supervision/scan", json={"today": "2026-10-20"}, headers=miit).status_code == 403
    scan = env.client.post(f"{API}/supervision/scan", json={"today": "2026-10-20"}, headers=env.headers("admin"))
    assert scan.status_code == 200, scan.text
    assert sorted(i["level"] for i in scan.json()["data"]["created"]) == ["notice", "notice"]
    mine = env.client.get(f"{API}/supervision", headers=miit).json()["data"]
    assert [i["org_code"] for i in mine] == ["miit"]
    theirs = next(i for i in env.get(f"{API}/supervision").json()["data"] if i["org_code"] == "eco")
    assert env.client.get(f"{API}/supervision/{theirs['id']}", headers=miit).status_code == 404
    assert env.client.post(f"{API}/supervision/{theirs['id']}/answer", data={"answer": "x"},
                           headers=miit).status_code == 404
    answered = env.client.post(f"{API}/supervision/{mine[0]['id']}/answer", data={"answer": "已整改"},
                               files=[("files", ("e.pdf", b"%PDF-1.4 x", "application/pdf"))], headers=miit)
    assert answered.status_code == 200, answered.text
    assert answered.json()["data"]["attachments"][0]["filename"] == "e.pdf"
    docx = env.client.get(f"{API}/supervision/{mine[0]['id']}/notice.docx", params={"day": "2026-10-20"},
                          headers=miit)
    assert docx.status_code == 200 and docx.headers["content-disposition"].startswith("attachment")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "督办通知" in text and mine[0]["doc_number"] in text
    assert env.client.post(f"{API}/supervision/{mine[0]['id']}/close", json={"note": "ok"},
                           headers=miit).status_code == 403
    closed = env.client.post(f"{API}/supervision/{mine[0]['id']}/close", json={"note": "办结"},
                             headers=env.headers("admin"))
    assert closed.status_code == 200 and closed.json()["data"]["state"] == "closed"
    messages = env.client.get(f"{API}/inbox", headers=miit).json()["data"]
    assert [m["message"] for m in messages] == ["supervision_closed", "supervision_created"]
    assert env.client.post(f"{API}/inbox/read", json={"ids": [messages[0]["id"]]}, headers=eco).status_code == 404
    read = env.client.post(f"{API}/inbox/read", json={}, headers=miit)
    assert read.json()["data"]["marked"] == 2
    assert env.client.get(f"{API}/inbox", params={"unread": "true"}, headers=miit).json()["data"] == []


def test_calendar_through_the_api(api_env):
    env = api_env
    year = env.get(f"{API}/calendar/2026").json()["data"]
    assert {d["day"] for d in year if d["kind"] == "workday"} >= {"2026-10-10", "2026-09-20"}
    missing = env.get(f"{API}/calendar/{date.today().year + 5}")
    assert missing.status_code == 422 and "calendar" in missing.text
    body = b"date,kind,name,source,status\n2027-01-01,holiday,\xe5\x85\x83\xe6\x97\xa6,test,unverified\n"
    files = {"file": ("2027.csv", body, "text/csv")}
    assert env.client.post(f"{API}/calendar", files=files, headers=env.headers("analyst")).status_code == 403
    assert env.client.post(f"{API}/calendar", files=files, headers=env.headers("admin")).status_code == 201
    assert env.get(f"{API}/calendar/2027").json()["data"][0]["name"] == "元旦"
    bad = env.client.post(f"{API}/calendar", files={"file": ("b.csv", b"date,kind\nnope,holiday\n", "text/csv")},
                          headers=env.headers("admin"))
    assert bad.status_code == 422 and "b.csv" in bad.text
