"""``/api/v1/projects/{code}/…`` workflow routes (issue 15 item 5): submit, completeness, comments with files,
the decision (409 with the numbers while the replacement is not covered), the history, the attachment download
(nosniff, another district 404), the 审查意见 DOCX, commissioning, 验收 with an entered figure, withdrawal."""

from __future__ import annotations

import io
import math
from decimal import Decimal

from sqlalchemy import select

from citycarbon.services.projects.evaluate import evaluate
from citycarbon.store import projects as store
from citycarbon.store.project_models import ProjLedgerSource, ProjProject
from tests.api.conftest import DISTRICT_A
from tests.projects.support import CITY, chemical_project, insert_project

API = "/api/v1/projects"


def test_workflow_through_the_api(backend_env):
    from docx import Document

    env = backend_env
    project = chemical_project(region_code=DISTRICT_A)
    code = insert_project(env.db, project, state="draft")
    post = env.client.post
    assert post(f"{API}/{code}/submit", headers=env.headers("district-b")).status_code == 404
    assert post(f"{API}/{code}/submit", headers=env.headers("district-a", "read")).status_code == 403
    submitted = post(f"{API}/{code}/submit", json={"version": 1}, headers=env.headers("district-a"))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["data"]["state"] == "submitted"
    assert post(f"{API}/{code}/submit", headers=env.headers("district-a")).status_code == 409
    assert post(f"{API}/{code}/completeness", json={"missing": ["nope"]},
                headers=env.headers("admin")).status_code == 422
    assert post(f"{API}/{code}/completeness", json={}, headers=env.headers("district-a")).status_code == 403
    review = post(f"{API}/{code}/completeness", json={}, headers=env.headers("admin"))
    assert review.json()["data"]["state"] == "under_review"
    commented = post(f"{API}/{code}/comments", data={"text": "建议补充余热利用"},
                     files=[("files", ("意见.pdf", b"%PDF-1.4 x", "application/pdf"))], headers=env.headers("analyst"))
    assert commented.status_code == 201, commented.text
    attachment = commented.json()["data"]["attachments"][0]["id"]
    download = env.client.get(f"{API}/{code}/attachments/{attachment}", headers=env.headers("district-a"))
    assert download.status_code == 200 and download.content == b"%PDF-1.4 x"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment")
    assert env.client.get(f"{API}/{code}/attachments/{attachment}",
                          headers=env.headers("district-b")).status_code == 404
    decision = {"decision": "approve", "number": "大发改能审〔2026〕8号", "date": "2026-12-01"}
    refused = post(f"{API}/{code}/decision", json=decision, headers=env.headers("admin"))
    assert refused.status_code == 409
    required = sum(f.numbers["required"] for f in evaluate(CITY, project).findings if f.code == "replacement.energy")
    shown = f"{math.ceil(required * 100) / 100:.2f}".rstrip("0").rstrip(".")  # the ledger's figure, up to 0.01
    assert f"须 {shown} tce" in refused.json()["error"]["message"]
    with env.db.session(write=True) as session:
        session.add(ProjLedgerSource(city=CITY, code="GB-9", kind="energy", amount="9000", unit="tce"))
        session.flush()
        row = session.scalars(select(ProjProject).where(ProjProject.code == code)).one()
        store.allocate(session, CITY, "GB-9", row, Decimal(str(required)), "tce", by="test")
    approved = post(f"{API}/{code}/decision", json=decision, headers=env.headers("admin"))
    assert approved.status_code == 200, approved.text
    docx = env.client.get(f"{API}/{code}/opinion.docx", headers=env.headers("district-a"))
    assert docx.status_code == 200
    assert "大发改能审〔2026〕8号" in "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert post(f"{API}/{code}/commissioning", json={"date": "2027-01-01"},
                headers=env.headers("district-a")).status_code == 200
    assert post(f"{API}/{code}/acceptance", json={"measured": 8000}, headers=env.headers("admin")).status_code == 422
    accepted = post(f"{API}/{code}/acceptance", json={"measured": 8000, "source": "验收报告"},
                    headers=env.headers("admin"))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["data"]["acceptance"]["flagged"] is False
    kinds = [e["kind"] for e in env.get(f"{API}/{code}/events").json()["data"]]
    assert kinds == ["submitted", "completeness", "comment", "decision", "commissioned", "acceptance"]
    assert env.client.get(f"{API}/{code}/events", headers=env.headers("district-b")).status_code == 404


def test_withdraw_through_the_api(backend_env):
    env = backend_env
    code = insert_project(env.db, chemical_project(region_code=DISTRICT_A), state="submitted")
    assert env.client.post(f"{API}/{code}/withdraw", json={}, headers=env.headers("admin")).status_code == 200
    assert env.client.post(f"{API}/{code}/withdraw", json={}, headers=env.headers("admin")).status_code == 409
