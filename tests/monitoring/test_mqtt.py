"""MQTT ingest against the Mosquitto broker on 127.0.0.1:1883 (skipped with a reason when unreachable)."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import pytest

from citycarbon.monitoring.lake import Lake, read_readings
from citycarbon.monitoring.mqtt import MqttIngest, parse_broker, topic_enterprise

try:
    from tests.monitoring.test_lake_fixtures import interval_rows, make_registry
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import interval_rows, make_registry

BROKER = ("127.0.0.1", 1883)


def broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=1):
            return True
    except OSError:
        return False


needs_broker = pytest.mark.skipif(not broker_up(), reason="no MQTT broker on 127.0.0.1:1883 (Mosquitto)")


def test_topic_names_the_enterprise():
    assert topic_enterprise("cc/readings/E1") == ("E1", "cc/errors/E1")
    assert topic_enterprise("site/cc/readings/E2") == ("E2", "site/cc/errors/E2")
    assert topic_enterprise("cc/readings") == (None, "cc/errors")
    assert topic_enterprise("cc/readings/E1/extra")[0] is None
    assert parse_broker("localhost:1884") == ("localhost", 1884)


def payload(rows) -> bytes:
    return json.dumps({"readings": rows.to_dict(orient="records")}).encode()


@needs_broker
@pytest.mark.timeout(180)
def test_messages_are_ingested_acknowledged_and_errors_published(tmp_path):
    import paho.mqtt.client as mqtt

    prefix = f"test-{uuid.uuid4().hex[:8]}"
    lake = Lake.open(tmp_path / "lake")
    service = MqttIngest(lake, make_registry(), host=BROKER[0], port=BROKER[1], topic=f"{prefix}/cc/readings/#",
                         client_id=f"{prefix}-ingest")
    errors: list[dict] = []
    got_errors = threading.Event()
    listener = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-listen")

    def on_message(client, userdata, message):
        errors.append(json.loads(message.payload))
        if len(errors) >= 3:
            got_errors.set()

    listening = threading.Event()
    listener.on_message = on_message
    listener.on_subscribe = lambda *args: listening.set()
    listener.connect(*BROKER)
    listener.subscribe(f"{prefix}/cc/errors/#", qos=1)
    listener.loop_start()
    assert listening.wait(20), "no SUBACK for the error topic"  # else errors published early are missed
    runner = threading.Thread(target=lambda: service.run(max_messages=5))
    runner.start()
    try:
        deadline = time.time() + 30
        while not service._subscribed.is_set() and time.time() < deadline:
            time.sleep(0.05)
        publisher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-pub")
        publisher.connect(*BROKER)
        publisher.loop_start()
        good = interval_rows("E1-EL", "2024-01-10T00:00", 4, 15)
        for topic, body in ((f"{prefix}/cc/readings/E1", payload(good)),
                            (f"{prefix}/cc/readings/E1", payload(good)),  # re-sent: duplicates
                            (f"{prefix}/cc/readings/E1", b"{not json"),
                            (f"{prefix}/cc/readings/E1", payload(interval_rows("E2-EL", "2024-01-10T00:00", 1, 15))),
                            (f"{prefix}/cc/readings/NOPE", payload(good))):
            publisher.publish(topic, body, qos=1).wait_for_publish(5)
        runner.join(90)  # seconds when idle; the shared machine can be much slower
        assert not runner.is_alive()
        assert got_errors.wait(30), errors
        publisher.loop_stop()
        publisher.disconnect()
    finally:
        listener.loop_stop()
        listener.disconnect()
    assert service.stats == {"messages": 5, "accepted": 4, "duplicate": 4, "revised": 0, "rejected": 1,
                             "refused": 2}
    assert len(read_readings(lake.root)) == 4
    reasons = sorted(e.get("reason") or e["report"]["rejected_rows"][0]["reason"] for e in errors)
    assert any("not valid JSON" in r for r in reasons)
    assert any("not a registered point of enterprise 'E1'" in r for r in reasons)
    assert any("unknown enterprise 'NOPE'" in r for r in reasons)


def test_a_registry_import_takes_effect_without_a_restart(tmp_path):
    """The service asks its registry source for the version before a message; a new version (an import that
    added enterprise E2's points) replaces the registry, and a source that fails keeps the one in use."""
    from citycarbon.monitoring.registry import Registry

    full = make_registry()
    only_e1 = Registry(full.enterprises[full.enterprises["enterprise_id"] == "E1"].reset_index(drop=True),
                       full.points[full.points["enterprise_id"] == "E1"].reset_index(drop=True), full.products)
    answers: list = [(1, only_e1)]

    def source():
        answer = answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    service = MqttIngest(Lake.open(tmp_path / "lake"), only_e1, registry_source=source, refresh_seconds=0)
    message = payload(interval_rows("E2-EL", "2024-01-10T00:00", 4, 15))
    refused = service.handle("cc/readings/E2", message)
    assert "unknown enterprise 'E2'" in refused["reason"]
    answers[0] = (2, full)  # registry import
    accepted = service.handle("cc/readings/E2", message)
    assert accepted["report"]["accepted"] == 4
    answers[0] = RuntimeError("store unreachable")
    again = service.handle("cc/readings/E2", message)
    assert again["report"]["duplicate"] == 4  # still the version-2 registry
    assert service.stats["refused"] == 1


def test_a_message_from_the_future_is_rejected_with_the_reason(tmp_path):
    service = MqttIngest(Lake.open(tmp_path / "lake"), make_registry())
    published: list = []
    service._publish = lambda topic, payload: published.append((topic, json.loads(payload)))  # no broker here
    result = service.handle("cc/readings/E1", payload(interval_rows("E1-EL", "2030-01-01T00:00", 2, 15)))
    assert (result["report"]["accepted"], result["report"]["rejected"]) == (0, 2)
    assert all("from the future" in r["reason"] for r in result["report"]["rejected_rows"])
    assert published and published[0][0] == "cc/errors/E1"


def test_the_mqtt_adapter_does_not_import_the_store():
    import ast
    import inspect

    import citycarbon.monitoring.mqtt as module

    names = [n.module for n in ast.walk(ast.parse(inspect.getsource(module)))
             if isinstance(n, ast.ImportFrom) and n.module]
    names += [a.name for n in ast.walk(ast.parse(inspect.getsource(module))) if isinstance(n, ast.Import)
              for a in n.names]
    assert not [n for n in names if n.startswith(("citycarbon.store", "citycarbon.services", "sqlalchemy"))]
