"""The file backfill's fast paths give exactly what the general paths give (issue 6 "Performance").

* text columns handed over as categoricals (Arrow dictionaries from the file readers) are parsed once per distinct
  value: every row gets the same timestamp, text and rejection as parsing the plain text column;
* lake parts are built in Arrow with dictionary-encoded text (:class:`PartColumns`) and read back equal to
  ``pa.Table.from_pandas(frame, schema=SCHEMA)`` — by pyarrow with and without the schema, and by DuckDB;
* the O(n) "no key repeats" proof and the UTC month numbers agree with pandas;
* a whole file ingested with categoricals stores and reports the same as with plain text columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon.monitoring import ingest
from citycarbon.monitoring.ingest import (
    _joint_keys,
    _parse_text,
    _parse_times,
    _Rejections,
    _repeated_keys,
    ingest_frame,
    iter_reading_file,
)
from citycarbon.monitoring.lake import COLUMNS, SCHEMA, Lake, PartColumns, content_frame, utc_month_numbers

try:
    from tests.monitoring.test_lake_fixtures import NOW, interval_rows, make_registry
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import NOW, interval_rows, make_registry

TIME_TEXTS = ["2024-01-10T00:00:00+08:00", "2024-01-10T00:15:00+08:00", "2024-01-09T16:00:00Z",
              "2024-01-10T00:00:00.123456789+08:00", " 2024-01-10T00:30:00+08:00 ", "2024-01-10 00:45:00+0800",
              "2024-01-10T00:00:00", "2024-13-45T00:00:00+08:00", "garbage", "", "   ", "2023-12-31T23:59:59-05:00"]
TEXTS = ["E1-EL", "E2-EL", "kWh", " ", "", "E1-EL ", "点位-1"]


def _rejections_of(column: pd.Series, parse) -> tuple[pd.Series, list, list]:
    bad = _Rejections(len(column))
    out = parse(column, bad)
    return out, list(bad.field), list(bad.reason)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(TIME_TEXTS), st.none()), min_size=0, max_size=40),
       st.sampled_from([None, "Asia/Shanghai"]))
def test_timestamps_parsed_once_per_distinct_value_equal_row_by_row(values, assume):
    plain = pd.Series(values, dtype="string[pyarrow]")
    categorical = pd.Series(pd.Categorical(values))
    want, want_field, want_reason = _rejections_of(plain, lambda c, b: _parse_times(c, "start", b, assume))
    got, got_field, got_reason = _rejections_of(categorical, lambda c, b: _parse_times(c, "start", b, assume))
    pd.testing.assert_series_equal(got, want)
    assert (got_field, got_reason) == (want_field, want_reason)


@settings(max_examples=60)
@given(st.lists(st.one_of(st.sampled_from(TEXTS), st.none()), min_size=0, max_size=40))
def test_texts_parsed_once_per_distinct_value_equal_row_by_row(values):
    plain = pd.Series(values, dtype="string[pyarrow]")
    categorical = pd.Series(pd.Categorical(values))
    want, want_field, want_reason = _rejections_of(plain, lambda c, b: _parse_text(c, "point_id", b))
    got, got_field, got_reason = _rejections_of(categorical, lambda c, b: _parse_text(c, "point_id", b))
    assert got.to_numpy(dtype=object).tolist() == want.to_numpy(dtype=object).tolist()
    assert (got_field, got_reason) == (want_field, want_reason)


def _lake_frame(draw_rows: list[tuple], text_dtype: str) -> pd.DataFrame:
    point, enterprise, start_s, duration, value, energy, revision, flag = zip(*draw_rows, strict=True) \
        if draw_rows else ([],) * 8
    start = pd.Series(pd.to_datetime(np.asarray(start_s, dtype="int64") * 1_000_000, unit="ns", utc=True))
    frame = pd.DataFrame({
        "point_id": list(point), "enterprise_id": list(enterprise), "start": start,
        "end": start + pd.to_timedelta(np.asarray(duration, dtype="int64"), unit="s"),
        "value_raw": np.asarray(value, dtype=float), "unit_raw": ["kWh" if i % 3 else "MWh" for i in range(len(point))],
        "energy": np.asarray(energy, dtype=float), "energy_unit": "kWh", "batch_id": "b-1",
        "revision": np.asarray(revision, dtype="int32"), "received_at": pd.Timestamp("2024-03-01T00:00:00.5Z"),
        "energy_flag": list(flag)}).astype({"start": "datetime64[ns, UTC]", "end": "datetime64[ns, UTC]",
                                             "received_at": "datetime64[ns, UTC]"})
    text = ["point_id", "enterprise_id", "unit_raw", "energy_unit", "batch_id", "energy_flag"]
    if text_dtype == "category":
        frame[text] = frame[text].astype("category")
    elif text_dtype == "string[pyarrow]":
        frame[text] = frame[text].astype("string[pyarrow]")
    return frame


ROW = st.tuples(st.sampled_from(["E1-EL", "E1-NG", "E2-EL", "点位-3"]), st.sampled_from(["E1", "E2", "企业3"]),
                st.integers(-10**9, 4 * 10**9), st.integers(0, 86_400),
                st.floats(allow_nan=False, allow_infinity=False, width=64),
                st.one_of(st.floats(allow_infinity=False), st.just(float("nan"))), st.integers(0, 5),
                st.sampled_from(["", "first_read", "rollover", "reset"]))


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(ROW, min_size=1, max_size=30), st.sampled_from(["category", "string[pyarrow]", "object"]),
       st.randoms(use_true_random=False))
def test_arrow_built_parts_read_back_as_from_pandas(tmp_path_factory, rows, text_dtype, random):
    frame = _lake_frame(rows, text_dtype)
    positions = np.asarray(random.sample(range(len(frame)), k=random.randint(1, len(frame))))
    lake = Lake.open(tmp_path_factory.mktemp("lake"))
    lake._write_part("readings/part.parquet", PartColumns(frame).table(positions))
    path = str(lake.root / "readings/part.parquet")
    want = pa.Table.from_pandas(frame.iloc[positions][list(COLUMNS)], schema=SCHEMA, preserve_index=False)
    assert pq.read_table(path, schema=SCHEMA).equals(want.replace_schema_metadata(None))
    plain = pq.read_table(path)
    assert plain.schema.remove_metadata().equals(SCHEMA) and plain.cast(SCHEMA).equals(want.cast(SCHEMA))
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        via_duckdb = con.execute("SELECT * FROM read_parquet(?)", [path]).to_arrow_table()
    assert via_duckdb.cast(SCHEMA).equals(want.replace_schema_metadata(None))


def test_part_columns_refuse_a_lost_sub_microsecond_digit_like_from_pandas():
    frame = _lake_frame([("E1-EL", "E1", 0, 900, 1.0, 1.0, 0, "")], "object")
    frame["start"] = frame["start"] + pd.Timedelta(1, unit="ns")
    with pytest.raises(pa.ArrowInvalid):
        pa.Table.from_pandas(frame[list(COLUMNS)], schema=SCHEMA, preserve_index=False)
    with pytest.raises(pa.ArrowInvalid):
        PartColumns(frame)


@settings(max_examples=80)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 2)), max_size=30), st.booleans())
def test_repeated_keys_match_pandas_duplicated(keys, presort):
    if presort:
        keys = sorted(keys)
    frame = pd.DataFrame(keys, columns=["p", "s", "e"], dtype="int64")
    want = frame.duplicated(keep=False).to_numpy()
    got = _repeated_keys(frame["p"].to_numpy(), frame["s"].to_numpy(), frame["e"].to_numpy())
    assert got.tolist() == want.tolist()


KEY3 = st.tuples(st.integers(-1, 3), st.sampled_from([0, 900, -(2**62), 2**62]), st.integers(0, 2))


@settings(max_examples=80)
@given(st.lists(KEY3, max_size=20), st.lists(KEY3, max_size=20))
def test_joint_keys_are_equal_exactly_when_every_column_is(left, right):
    columns = [np.asarray([row[c] for row in left], dtype="int64") for c in range(3)]
    other = [np.asarray([row[c] for row in right], dtype="int64") for c in range(3)]
    key_left, key_right = _joint_keys(columns, other)
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            assert (key_left[i] == key_right[j]) == (a == b)
        for j, b in enumerate(left):
            assert (key_left[i] == key_left[j]) == (a == b)


@settings(max_examples=50)
@given(st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=50), st.sampled_from(["ns", "us"]))
def testutc_month_numbers_match_pandas(values, unit):
    start = pd.Series(pd.to_datetime(np.asarray(values, dtype="int64") // 1000, unit="us", utc=True)).astype(
        f"datetime64[{unit}, UTC]")
    assert utc_month_numbers(start).tolist() == (start.dt.year * 100 + start.dt.month).tolist()
    assert utc_month_numbers(start.dt.tz_convert("Asia/Shanghai")).tolist() == utc_month_numbers(start).tolist()


@pytest.mark.parametrize(("suffix", "streamed"), [(".csv", False), (".csv", True), (".parquet", False)])
def test_a_file_read_as_categoricals_stores_and_reports_what_plain_text_does(tmp_path, monkeypatch, suffix, streamed):
    if streamed:  # the block-by-block CSV reader of files above the whole-file size
        monkeypatch.setattr(ingest, "_CSV_WHOLE_FILE_BYTES", 0)
    registry = make_registry()
    rows = pd.concat([interval_rows("E1-EL", "2024-01-31T20:00", 40, 15),
                      interval_rows("E2-EL", "2024-02-01T07:00", 10, 15),
                      interval_rows("E1-NG", "2024-01-10T00:00", 5, 60, unit="10^4 m3")], ignore_index=True)
    rows.loc[3, "point_id"] = "NOPE"
    rows.loc[4, "start"] = "2024-01-31T20:45:00"
    rows.loc[5, "unit"] = "kg"
    rows.loc[6, "start"] = "garbage"
    rows.loc[7, "point_id"] = " "
    rows.loc[8, "end"] = None
    rows.loc[9, "unit"] = None
    rows.loc[10, "end"] = rows.loc[10, "start"]
    rows = pd.concat([rows, rows.iloc[20:30].assign(value=lambda f: f["value"] + 1), rows.iloc[:5]],
                     ignore_index=True)
    path = tmp_path / f"r{suffix}"
    rows.to_csv(path, index=False) if suffix == ".csv" else rows.to_parquet(path, index=False)
    results = []
    for categorical in (False, True):
        lake = Lake.open(tmp_path / f"lake-{categorical}")
        reports = []
        for offset, chunk in enumerate(iter_reading_file(path, chunk_rows=25, categorical=categorical)):
            if categorical:
                assert isinstance(chunk["point_id"].dtype, pd.CategoricalDtype)
            report = ingest_frame(lake, registry, chunk, source="t", now=NOW, row_offset=25 * offset).to_dict()
            report.pop("batch_id")
            reports.append(report)
        results.append((reports, content_frame(lake)))
    (plain_reports, plain_content), (fast_reports, fast_content) = results
    assert fast_reports == plain_reports
    assert sum(r["rejected"] for r in fast_reports) == 10 and sum(r["revised"] for r in fast_reports) == 10
    pd.testing.assert_frame_equal(fast_content, plain_content)
