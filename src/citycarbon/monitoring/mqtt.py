"""MQTT ingest (paho-mqtt 2): terminal pushes of ``{"readings": [...]}`` on ``cc/readings/<enterprise_id>``.

Contract (docs/monitoring.md, "Ingest contract"):

* The topic names the enterprise: the level after ``readings``; every reading of the message must be one of
  that enterprise's points (checked like an HTTP ingest token's enterprise). A prefix before ``cc/`` is
  allowed (``site1/cc/readings/E1``), errors then go to ``site1/cc/errors/E1``.
* Same validation and idempotency as HTTP and files (:func:`citycarbon.monitoring.ingest.ingest_frame`).
* QoS 1 with manual acknowledgement: a message is acknowledged (PUBACK) only after its batch is durable in
  the lake. A persistent session (fixed client id, ``clean_session=False``) makes the broker redeliver
  unacknowledged messages after a crash; re-delivered batches come back as duplicates.
* A refused message (bad JSON, wrong shape, too many rows, unknown enterprise) and rows rejected from an
  accepted message are reported on ``cc/errors/<enterprise_id>`` as JSON
  ``{"topic", "batch_id", "reason"|"report"}``; the message is acknowledged (re-sending it would not help).
* An internal failure (disk, lock timeout) leaves the message unacknowledged and stops the service, so the
  broker redelivers it to the restarted service (crash-only design).
* With a submission recorder (``record``, given by the service layer:
  ``citycarbon.services.monitoring.submission_recorder(db)``), every message — stored, nothing new, or refused
  whole — is recorded as a submission (channel ``mqtt``) with its first 1 000 rejected rows before the message
  is acknowledged, so the enterprise sees it on its page and through ``GET /api/v1/monitoring/submissions``.
  A failure to record stops the service like any other. This adapter imports no store: what it needs (the
  recorder, the registry source) is injected.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from citycarbon.errors import InputError, Problem
from citycarbon.monitoring.ingest import (
    DEFAULT_FUTURE_MARGIN,
    BatchRefused,
    ingest_frame,
    parse_readings_payload,
    point_table,
)
from citycarbon.monitoring.lake import Lake

__all__ = ["MqttIngest", "parse_broker", "topic_enterprise"]

log = logging.getLogger("citycarbon.monitoring.mqtt")


def parse_broker(text: str) -> tuple[str, int]:
    """``HOST:PORT`` → (host, port); port defaults to 1883."""
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "1883")
    try:
        number = int(port)
    except ValueError:
        raise InputError(Problem(f"broker '{text}': port is not a number", field="broker")) from None
    return host or "127.0.0.1", number


def topic_enterprise(topic: str) -> tuple[str | None, str]:
    """(enterprise id, error topic) for a readings topic; enterprise None when the topic has no
    ``readings/<id>`` levels."""
    levels = topic.split("/")
    if "readings" in levels:
        index = len(levels) - 1 - levels[::-1].index("readings")
        errors = "/".join([*levels[:index], "errors", *levels[index + 1:]])
        if index + 2 == len(levels) and levels[-1]:
            return levels[-1], errors
        return None, errors
    return None, "/".join([*levels[:-1], "errors"]) if len(levels) > 1 else "cc/errors/unknown"


class MqttIngest:
    """Subscribe and ingest; :meth:`run` blocks, :meth:`start`/:meth:`stop` run it in the background."""

    def __init__(self, lake: Lake, registry: object, *, host: str = "127.0.0.1", port: int = 1883,
                 topic: str = "cc/readings/#", client_id: str = "citycarbon-ingest", keepalive: int = 30,
                 record: Callable[..., int | None] | None = None,
                 registry_source: Callable[[], tuple[int, object | None]] | None = None,
                 refresh_seconds: float = 5.0, future_margin: timedelta = DEFAULT_FUTURE_MARGIN):
        """``record`` records a submission (the keyword fields of a submission record; returns its id), None for
        none. ``registry_source`` (e.g. the store's ``current_registry``) gives ``(version, registry)``; it is asked
        at most every ``refresh_seconds`` before a message, and a new version replaces the registry, so an import
        takes effect without restarting the service. ``future_margin``: how far after the server's clock a
        reading's interval may end (later rows are rejected as readings from the future)."""
        import paho.mqtt.client as mqtt

        self.lake, self.topic, self.record, self.future_margin = lake, topic, record, future_margin
        self._source, self._refresh_seconds = registry_source, refresh_seconds
        self._version: int | None = None
        self._checked = time.monotonic()
        self._use(registry)
        self.host, self.port, self.keepalive, self.client_id = host, port, keepalive, client_id
        self.stats = {"messages": 0, "accepted": 0, "duplicate": 0, "revised": 0, "rejected": 0, "refused": 0}
        self.failure: BaseException | None = None
        self._done = threading.Event()
        self._subscribed = threading.Event()
        self._max: int | None = None
        self._published: list = []  # MQTTMessageInfo of error reports, flushed before disconnecting
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False, protocol=mqtt.MQTTv311, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()

    def _use(self, registry: object) -> None:
        self.registry = registry
        self.points = point_table(registry)
        self.enterprises = set(registry.enterprises["enterprise_id"].astype(str))  # type: ignore[attr-defined]

    def refresh_registry(self, *, force: bool = False) -> bool:
        """Take the source's registry if its version changed (at most every ``refresh_seconds``); True if it did.
        A source that fails keeps the registry in use (logged): ingest goes on with what it knows."""
        if self._source is None or (not force and time.monotonic() - self._checked < self._refresh_seconds):
            return False
        self._checked = time.monotonic()
        try:
            version, registry = self._source()
        except Exception:  # the store is down for a moment: keep ingesting with the registry in use
            log.exception("could not read the registry version; keeping the registry in use")
            return False
        if registry is None or version == self._version:
            return False
        changed = self._version is not None
        self._version = version
        if changed:
            log.info("registry version %s: %d enterprises, %d points", version,
                     len(registry.enterprises), len(registry.points))  # type: ignore[attr-defined]
        self._use(registry)
        return changed

    # ---- callbacks ---------------------------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT connect refused: %s", reason_code)
            return
        client.subscribe(self.topic, qos=1)

    def _on_message(self, client, userdata, message) -> None:
        try:
            self.handle(message.topic, message.payload)
        except Exception as exc:  # not acknowledged: the broker redelivers after the restart
            log.exception("ingest of a message on %s failed; stopping unacknowledged", message.topic)
            self.failure = exc
            self._done.set()
            client.disconnect()
            return
        client.ack(message.mid, message.qos)
        self.stats["messages"] += 1
        if self._max is not None and self.stats["messages"] >= self._max:
            self._done.set()

    # ---- the work ----------------------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> dict:
        """Ingest one message; returns what was published to the error topic (or the report)."""
        self.refresh_registry()
        enterprise, error_topic = topic_enterprise(topic)
        try:
            if enterprise is None:
                raise BatchRefused(f"topic '{topic}' does not end in readings/<enterprise_id>", field="topic")
            if enterprise not in self.enterprises:
                raise BatchRefused(f"unknown enterprise '{enterprise}' in topic '{topic}'", field="topic")
            frame, batch_id = parse_readings_payload(payload)
        except BatchRefused as refused:
            self.stats["refused"] += 1
            known = enterprise if enterprise in self.enterprises else None
            submission = self._record(topic, known, refusal=refused.reason if refused.field is None
                                      else f"{refused.field}: {refused.reason}")
            message = {"topic": topic, "batch_id": None, "reason": refused.reason, "field": refused.field,
                       "at": datetime.now(UTC).isoformat(timespec="seconds")}
            if submission is not None:
                message["submission_id"] = submission
            self._publish(error_topic, json.dumps(message, ensure_ascii=False))
            return message
        report = ingest_frame(self.lake, self.registry, frame, source=f"mqtt:{topic}", enterprise_id=enterprise,
                              batch_id=batch_id, points=self.points, future_margin=self.future_margin)
        for name in ("accepted", "duplicate", "revised", "rejected"):
            self.stats[name] += getattr(report, name)
        submission = self._record(topic, enterprise, report=report, batch_id=batch_id)
        result = {"topic": topic, "batch_id": batch_id, "report": report.to_dict()}
        if submission is not None:
            result["submission_id"] = submission
        if report.rejected:
            self._publish(error_topic, json.dumps(result, ensure_ascii=False, default=str))
        return result

    def _record(self, topic: str, enterprise: str | None, *, report: object = None, batch_id: str | None = None,
                refusal: str | None = None) -> int | None:
        """Record the message as a submission when the service has a recorder; its id (None without one)."""
        if self.record is None:
            return None
        counts = {name: getattr(report, name) for name in ("accepted", "duplicate", "revised", "rejected")} \
            if report is not None else None
        return self.record(
            channel="mqtt", submitted_by=f"mqtt:{self.client_id}", enterprise_id=enterprise,
            rows_received=getattr(report, "rows", 0), counts=counts,
            rejected_rows=getattr(report, "rejected_rows", ()), client_batch_id=batch_id,
            lake_batch_id=getattr(report, "batch_id", None), source=f"mqtt:{topic}", refusal=refusal)

    def _publish(self, topic: str, payload: str) -> None:
        self._published = [info for info in self._published if not info.is_published()]
        self._published.append(self.client.publish(topic, payload, qos=1))

    # ---- running -----------------------------------------------------------------------------------

    def connect(self) -> None:
        try:
            self.client.connect(self.host, self.port, keepalive=self.keepalive)
        except OSError as exc:
            raise InputError(Problem(f"cannot reach MQTT broker {self.host}:{self.port}: {exc}",
                                     field="broker")) from exc

    def start(self, timeout: float = 10.0) -> None:
        """Connect and process messages in a background thread; returns once subscribed."""
        self.connect()
        self.client.loop_start()
        if not self._subscribed.wait(timeout):
            raise TimeoutError(f"no SUBACK for {self.topic!r} within {timeout} s")

    def stop(self, flush_timeout: float = 10.0) -> None:
        """Disconnect after the error reports still in flight are delivered to the broker."""
        for info in self._published:
            try:
                info.wait_for_publish(flush_timeout)
            except (RuntimeError, ValueError):  # not queued (connection lost): nothing left to wait for
                continue
        self.client.disconnect()
        self.client.loop_stop()

    def run(self, max_messages: int | None = None) -> dict:
        """Block until ``max_messages`` were handled (forever without it) or an internal failure."""
        self._max = max_messages
        self.start()
        try:
            self._done.wait()
        finally:
            self.stop()
        if self.failure is not None:
            raise self.failure
        return dict(self.stats)
