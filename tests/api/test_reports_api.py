"""API faces of the yearly reports (issue 16): generation as a job (202, poll), the stored documents with their
media type and RFC 5987 file name, the narrative (409 on a stale version), scope by role."""

from __future__ import annotations

import io
import time
from urllib.parse import quote

from docx import Document

API = "/api/v1"


def _wait(env, job_id: str, user: str = "admin") -> dict:
    for _ in range(600):
        data = env.get(f"{API}/jobs/{job_id}", user=user).json()["data"]
        if data["status"] not in ("queued", "running"):
            return data
        time.sleep(0.1)
    raise AssertionError("the report job did not finish")


def test_generate_list_download_and_narratives(api_env):
    env = api_env
    sections = env.get(f"{API}/reports/2024/narratives").json()["data"]
    assert [(s["section"], s["version"]) for s in sections] == [
        ("doc_number", 0), ("overview", 0), ("problems", 0), ("next_year", 0)]
    body = {"year": 2024, "section": "problems", "version": 0, "text": "接口编辑的问题。"}
    put = env.client.put(f"{API}/reports/narratives", json=body, headers=env.headers("admin"))
    assert put.status_code == 200, put.text
    assert put.json()["data"]["version"] == 1
    stale = env.client.put(f"{API}/reports/narratives", json=body, headers=env.headers("admin"))
    assert stale.status_code == 409
    refused = env.client.put(f"{API}/reports/narratives", json={**body, "version": 1},
                             headers=env.headers("viewer", "read"))
    assert refused.status_code == 403

    answer = env.client.post(f"{API}/reports/generate", json={"year": 2024, "formats": ["docx"]},
                             headers=env.headers("admin"))
    assert answer.status_code == 202, answer.text
    data = answer.json()["data"]
    assert data["poll"] == f"/api/v1/jobs/{data['job_id']}"
    job = _wait(env, data["job_id"])
    assert job["status"] == "done", job
    assert job["progress"]["done"] == job["progress"]["total"]
    (doc_id,) = job["result"]["documents"]

    listed = env.get(f"{API}/reports/documents?year=2024").json()["data"]
    assert doc_id in [d["id"] for d in listed]
    download = env.get(f"{API}/reports/documents/{doc_id}")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    name = "大连市2024年碳达峰碳中和工作贯彻落实情况报告.docx"
    disposition = download.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition and 'filename="' in disposition
    assert disposition.encode("latin-1")  # the header itself is ASCII-safe
    paragraphs = [p.text for p in Document(io.BytesIO(download.content)).paragraphs]
    assert "接口编辑的问题。" in paragraphs

    # scope: districts and viewers read the city's report; enterprise users do not even see it
    assert env.get(f"{API}/reports/documents/{doc_id}", user="district-a", scope="read").status_code == 200
    assert env.get(f"{API}/reports/documents", user="enterprise-x", scope="read").json()["data"] == []
    assert env.get(f"{API}/reports/documents/{doc_id}", user="enterprise-x", scope="read").status_code == 404
    denied = env.client.post(f"{API}/reports/generate", json={"year": 2024}, headers=env.headers("district-a"))
    assert denied.status_code == 403
    # a unit's narrative: its own users edit it; another district's user gets 404 (existence not leaked)
    own = {"year": 2024, "section": "overview", "org": "d210202", "version": 0, "text": "中山区的补充说明。"}
    assert env.client.put(f"{API}/reports/narratives", json=own,
                          headers=env.headers("district-a")).status_code == 200
    assert env.client.put(f"{API}/reports/narratives", json={**own, "version": 1},
                          headers=env.headers("district-b")).status_code == 404
    mine = env.get(f"{API}/reports/2024/narratives?org=d210202", user="district-a", scope="read").json()["data"]
    assert mine[0]["text"] == "中山区的补充说明。" and mine[0]["version"] == 1
    assert env.get(f"{API}/reports/2024/narratives?org=d210202", user="district-b").status_code == 404
    bad = env.client.post(f"{API}/reports/generate", json={"year": 2024, "formats": ["odt"]},
                          headers=env.headers("admin"))
    assert bad.status_code == 422 and "format" in bad.text
