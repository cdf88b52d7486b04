"""Submissions of the other channels: MQTT messages (handled without a broker) and CLI file ingest are recorded
in the store with their rejected rows, on SQLite and PostgreSQL; without a store nothing is created."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from citycarbon.cli import app
from citycarbon.monitoring.lake import Lake
from citycarbon.monitoring.mqtt import MqttIngest
from citycarbon.store.monitoring_submissions import list_rejections, list_submissions
from tests.db_fixtures import db, pg_admin, settings  # noqa: F401  (SQLite and PostgreSQL stores)

try:
    from tests.monitoring.test_lake_fixtures import interval_rows, make_registry
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import interval_rows, make_registry


def _payload(frame: pd.DataFrame, **extra) -> bytes:
    return json.dumps({"readings": frame.to_dict("records"), **extra}).encode()


def _submissions(db) -> list[dict]:  # noqa: F811
    with db.session() as session:
        return list_submissions(session, enterprise_ids=None)[0]


def test_mqtt_messages_are_recorded_stored_nothing_new_and_refused(db, tmp_path):  # noqa: F811
    from citycarbon.services.monitoring import submission_recorder

    service = MqttIngest(Lake.open(tmp_path / "lake"), make_registry(), client_id="test-ingest",
                         record=submission_recorder(db))
    published: list[tuple[str, dict]] = []
    service._publish = lambda topic, payload: published.append((topic, json.loads(payload)))  # no broker here
    good = interval_rows("E1-EL", "2024-01-10T00:00", 4, 15)
    bad = pd.DataFrame([{"point_id": "E2-HEAT", "start": "2024-01-10T00:00:00+08:00",
                         "end": "2024-01-10T01:00:00+08:00", "value": 1.0, "unit": "GJ"}])
    first = service.handle("cc/readings/E1", _payload(pd.concat([good, bad]), batch_id="m-1"))
    again = service.handle("site/cc/readings/E1", _payload(good))
    refused = service.handle("cc/readings/E1", b"{oops")
    unknown = service.handle("cc/readings/NOBODY", _payload(good))
    rows = {s["id"]: s for s in _submissions(db)}
    assert set(rows) == {first["submission_id"], again["submission_id"], refused["submission_id"],
                         unknown["submission_id"]}
    stored = rows[first["submission_id"]]
    assert (stored["channel"], stored["status"], stored["enterprise_id"], stored["client_batch_id"]) == (
        "mqtt", "stored", "E1", "m-1")
    assert (stored["accepted"], stored["rejected"], stored["source"]) == (4, 1, "mqtt:cc/readings/E1")
    assert stored["lake_batch_id"] == first["report"]["batch_id"] and stored["submitted_by"] == "mqtt:test-ingest"
    with db.session() as session:
        (rejection,) = list_rejections(session, stored["id"])
    assert rejection == {"row": 5, "point_id": "E2-HEAT", "field": "point_id",
                         "reason": "point 'E2-HEAT' is not a registered point of enterprise 'E1'"}
    assert (rows[again["submission_id"]]["status"], rows[again["submission_id"]]["duplicate"]) == ("nothing_new", 4)
    assert rows[refused["submission_id"]]["status"] == "refused"
    assert rows[refused["submission_id"]]["refusal"].startswith("body: body is not valid JSON")
    assert rows[unknown["submission_id"]]["enterprise_id"] is None  # the topic's id is not a registered one
    assert "unknown enterprise 'NOBODY'" in rows[unknown["submission_id"]]["refusal"]
    # the error topic's reports name the submission the enterprise can look up
    assert [(t, m["submission_id"]) for t, m in published] == [
        ("cc/errors/E1", first["submission_id"]), ("cc/errors/E1", refused["submission_id"]),
        ("cc/errors/NOBODY", unknown["submission_id"])]


def test_mqtt_without_a_store_records_nothing(tmp_path):
    service = MqttIngest(Lake.open(tmp_path / "lake"), make_registry())
    service._publish = lambda topic, payload: None  # no broker here
    result = service.handle("cc/readings/E1", _payload(interval_rows("E1-EL", "2024-01-10T00:00", 2, 15)))
    assert result["report"]["accepted"] == 2 and "submission_id" not in result


def test_cli_file_ingest_records_one_submission_per_file(db, tmp_path):  # noqa: F811
    registry = tmp_path / "registry"
    make_registry().write(registry)
    rows = interval_rows("E1-EL", "2024-01-10T00:00", 3, 15)
    rows.loc[len(rows)] = {"point_id": "NOPE", "start": "2024-01-10T00:00:00+08:00",
                           "end": "2024-01-10T00:15:00+08:00", "value": 1.0, "unit": "kWh"}
    (tmp_path / "in").mkdir()
    rows.to_csv(tmp_path / "in" / "a.csv", index=False)
    rows.iloc[:1].to_csv(tmp_path / "in" / "b.csv", index=False)
    result = CliRunner().invoke(app, ["monitoring", "ingest", str(tmp_path / "in"), "--registry", str(registry),
                                      "--lake", str(tmp_path / "lake"), "-f", "json"])
    assert result.exit_code == 0, result.output
    by_source = {s["source"]: s for s in _submissions(db)}
    assert set(by_source) == {"file:a.csv", "file:b.csv"}
    a, b = by_source["file:a.csv"], by_source["file:b.csv"]
    assert (a["channel"], a["status"], a["accepted"], a["rejected"], a["rows_received"]) == ("file", "stored", 3, 1, 4)
    assert a["submitted_by"].startswith("cli:") and a["enterprise_id"] is None  # the office's backfill
    assert (b["status"], b["duplicate"]) == ("nothing_new", 1)
    with db.session() as session:
        assert list_rejections(session, a["id"]) == [{"row": 4, "point_id": "NOPE", "field": "point_id",
                                                      "reason": "unknown point 'NOPE'"}]


def test_cli_file_ingest_without_a_store_creates_none(settings, tmp_path):  # noqa: F811
    registry = tmp_path / "registry"
    make_registry().write(registry)
    interval_rows("E1-EL", "2024-01-10T00:00", 2, 15).to_csv(tmp_path / "a.csv", index=False)
    result = CliRunner().invoke(app, ["monitoring", "ingest", str(tmp_path / "a.csv"), "--registry", str(registry),
                                      "--lake", str(tmp_path / "lake"), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert not (settings.home / "citycarbon.db").exists()
