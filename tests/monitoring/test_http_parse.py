"""The JSON batch parser of HTTP and MQTT ingest: the fast (msgspec) path returns exactly the frame of the
reference path (``json.loads`` + ``DataFrame.from_records``) for any body, and refuses what it refuses with the
same reason."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycarbon.monitoring.ingest import (
    MAX_BATCH_ROWS,
    BatchRefused,
    _parse_payload_stdlib,
    parse_readings_payload,
)

FIELDS = ("point_id", "start", "end", "value", "unit", "received_at")
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                    st.text(max_size=8), st.sampled_from(["X-EL", "2025-01-10T00:00:00+08:00", "kWh", ""]))
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(st.text(max_size=3), scalars, max_size=2))
reading = st.dictionaries(st.sampled_from([*FIELDS, "extra"]), values, max_size=7)
item = st.one_of(reading, reading, reading, scalars)  # mostly objects, sometimes a wrong shape
payload = st.one_of(
    st.fixed_dictionaries({"readings": st.lists(item, max_size=12)},
                          optional={"batch_id": st.one_of(st.text(max_size=5), st.integers(), st.none()),
                                    "other": scalars}),
    st.dictionaries(st.text(max_size=3), values, max_size=2), st.lists(scalars, max_size=2), scalars)


def _outcome(parse, body: bytes, max_rows: int = MAX_BATCH_ROWS):
    try:
        frame, batch_id = parse(body, max_rows=max_rows)
    except BatchRefused as refused:
        return ("refused", refused.reason, refused.field, refused.too_large)
    return ("ok", frame, batch_id)


def _same(body: bytes, max_rows: int = MAX_BATCH_ROWS) -> tuple:
    fast = _outcome(parse_readings_payload, body, max_rows)
    slow = _outcome(_parse_payload_stdlib, body, max_rows)
    assert fast[0] == slow[0], (fast, slow)
    if fast[0] == "refused":
        assert fast == slow
    else:
        pd.testing.assert_frame_equal(fast[1], slow[1])
        assert fast[2] == slow[2]
    return fast


@settings(max_examples=300)
@given(payload)
def test_fast_and_reference_paths_agree(value):
    _same(json.dumps(value).encode())


@settings(max_examples=50)
@given(st.lists(reading, min_size=1, max_size=6), st.integers(0, 6))
def test_row_limit_is_the_same_on_both_paths(rows, max_rows):
    outcome = _same(json.dumps({"readings": rows}).encode(), max_rows)
    assert (outcome[0] == "refused") == (len(rows) > max_rows)
    if len(rows) > max_rows:
        assert outcome[3] is True and outcome[2] == "readings"


@pytest.mark.parametrize("body", [
    b'{"readings": [{"point_id": "X-EL", "value": NaN}]}',  # json.loads accepts NaN, msgspec does not
    b'{"readings": [{"point_id": "X-EL", "value": Infinity, "unit": "kWh"}]}',
    b'{"readings": [{"point_id": "X-EL", "value": 1e400}]}',
    b'{"readings": [{"point_id": "X-EL", "value": 1, "value": "2"}]}',  # duplicate key: the last wins
    b'{"readings": [], "batch_id": "b"}',
    b'{"readings": [{"value": 1.5}, {"value": 2}], "readings": [{"unit": "kWh"}]}',
    b'{"readings": [{"point_id": "X-EL"}], "batch_id": 7}',
    b'{"readings": [{"point_id": "\\u00e9\\ud83d\\ude00"}]}',
    b'{"readings": [{"point_id": "\\ud83d", "unit": "\\udc00x"}]}',  # lone surrogates
    b'{"readings": [{"point_id": "X-EL", "value": -0.0, "unit": "kWh"}, {"value": 1E2}, '
    b'{"value": 12345678901234567890}]}',
    '{"readings": [{"point_id": "企业-EL", "value": 1}]}'.encode(),
    b'\xff\xfe{}', b'', b'[]', b'{"readings": {}}', b'{"readings": [1]}', b'{"readings": [{}] ',
])
def test_edge_bodies_agree(body):
    _same(body)


def test_a_normal_batch_keeps_json_types():
    rows = [{"point_id": "X-EL", "start": "2025-01-10T00:00:00+08:00", "end": "2025-01-10T00:15:00+08:00",
             "value": 1.5, "unit": "kWh"},
            {"point_id": "X-EL", "start": "2025-01-10T00:15:00+08:00", "end": "2025-01-10T00:30:00+08:00",
             "value": "2", "unit": "kWh", "received_at": "2025-01-10T00:31:00+08:00"}]
    frame, batch_id = parse_readings_payload(json.dumps({"readings": rows, "batch_id": "gw-1"}).encode())
    assert batch_id == "gw-1"
    assert list(frame.columns) == ["point_id", "start", "end", "value", "unit", "received_at"]
    assert frame["value"].tolist() == [1.5, "2"]  # a string stays a string: ingest rejects it as a wrong type
    assert pd.isna(frame["received_at"].iloc[0]) and frame["received_at"].iloc[1] == "2025-01-10T00:31:00+08:00"


def test_oversized_body_is_refused_unread():
    with pytest.raises(BatchRefused, match="exceeds 10 bytes") as refused:
        parse_readings_payload(b'{"readings": []}', max_bytes=10)
    assert refused.value.too_large


@pytest.mark.parametrize("body", [b'{"readings": [{"point_id": "\\ud83d"}]}',
                                  b'{"readings": [{"point_id": 1}, {"point_id": "\\udc00"}]}',
                                  b'{"readings": [], "batch_id": "b\\ud800"}'])
def test_unpaired_surrogates_are_refused_naming_the_body(body):
    """json.loads accepts a lone surrogate escape; Arrow, SQLite and PostgreSQL cannot store it (was a 500)."""
    with pytest.raises(BatchRefused, match="unpaired UTF-16 surrogate") as refused:
        parse_readings_payload(body)
    assert refused.value.field == "body" and not refused.value.too_large
