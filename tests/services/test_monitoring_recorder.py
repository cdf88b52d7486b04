"""Every channel audits a meter-reading batch that reached the lake: HTTP in ``ingest_payload``, MQTT and file
backfills through ``submission_recorder`` (one transaction with the submission record); a batch refused whole
is recorded as a submission and writes no audit row, as on HTTP."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from citycarbon.services.monitoring.submissions import submission_recorder
from citycarbon.store import audit
from citycarbon.store.models import AuditEntry


def _audit_rows(db) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.execute(select(AuditEntry).where(AuditEntry.entity == "meter_readings")).scalars())


def test_a_stored_mqtt_batch_is_audited_with_its_submission(db):
    record = submission_recorder(db)
    submission = record(channel="mqtt", submitted_by="mqtt:gateway-1", enterprise_id="E00001", rows_received=3,
                        counts={"accepted": 3, "duplicate": 0, "revised": 0, "rejected": 0},
                        lake_batch_id="b-42", client_batch_id="c-7", source="mqtt:city/readings/E00001")
    rows = _audit_rows(db)
    assert len(rows) == 1
    entry = rows[0]
    assert (entry.actor, entry.action, entry.entity_id) == ("mqtt:gateway-1", "ingest", "b-42")
    after = json.loads(entry.after)
    assert after["submission_id"] == submission and after["accepted"] == 3 and after["channel"] == "mqtt"
    with db.session() as session:
        assert audit.verify(session).ok


def test_a_batch_refused_whole_is_recorded_but_not_audited(db):
    record = submission_recorder(db)
    record(channel="mqtt", submitted_by="mqtt:gateway-1", enterprise_id=None, rows_received=0,
           source="mqtt:city/readings/E99999", refusal="topic: unknown enterprise")
    assert _audit_rows(db) == []
    with db.session() as session:
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0
