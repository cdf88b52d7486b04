"""Meter lake: layout, ledger, writer lock, crash recovery, compaction, reads with pushdown."""

from __future__ import annotations

import json
import threading

import pandas as pd
import pyarrow.parquet as pq
import pytest

from citycarbon.monitoring.ingest import ingest_frame
from citycarbon.monitoring.lake import COLUMNS, Lake, LakeBusy, content_frame, read_readings

try:
    from tests.monitoring.test_lake_fixtures import NOW, interval_rows, make_registry
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import NOW, interval_rows, make_registry


@pytest.fixture(scope="module")
def registry():
    return make_registry()


@pytest.fixture
def lake(tmp_path, ledger_url):
    """A new lake, its ledger in SQLite and in PostgreSQL."""
    return Lake.open(tmp_path / "lake", ledger_url=ledger_url)


def test_parts_are_partitioned_by_utc_month_and_enterprise(lake, registry):
    # 2024-02-01T07:00+08:00 is still January in UTC; 08:00+08:00 is February
    rows = pd.concat([interval_rows("E1-EL", "2024-02-01T07:45", 2, 15),
                      interval_rows("E2-EL", "2024-02-01T09:00", 1, 15)])
    report = ingest_frame(lake, registry, rows, source="test", now=NOW)
    assert report.accepted == 3
    dirs = sorted(str(p.parent.relative_to(lake.root)) for p in (lake.root / "readings").rglob("*.parquet"))
    assert dirs == ["readings/month=2024-01/enterprise=E1", "readings/month=2024-02/enterprise=E1",
                    "readings/month=2024-02/enterprise=E2"]
    table = pq.read_table(next((lake.root / "readings").rglob("*.parquet")))
    assert tuple(table.schema.names) == COLUMNS
    assert sorted(p.path for p in lake.parts()) == sorted(
        str(p.relative_to(lake.root)) for p in (lake.root / "readings").rglob("*.parquet"))


def test_read_readings_filters_and_returns_utc_frames(lake, registry):
    rows = pd.concat([interval_rows("E1-EL", "2024-01-10T00:00", 8, 15),
                      interval_rows("E2-EL", "2024-03-10T00:00", 4, 15)])
    ingest_frame(lake, registry, rows, source="test", now=NOW)
    everything = read_readings(lake)
    assert len(everything) == 12
    assert str(everything["start"].dtype) == "datetime64[ns, UTC]"
    e2 = read_readings(lake, enterprise="E2")
    assert set(e2["point_id"]) == {"E2-EL"} and len(e2) == 4
    window = read_readings(lake, start="2024-01-10T00:30:00+08:00", end="2024-01-10T01:30:00+08:00")
    assert len(window) == 4  # starts 00:30, 00:45, 01:00, 01:15
    assert window["start"].min() == pd.Timestamp("2024-01-09T16:30:00Z")


def test_revisions_kept_and_latest_only_by_default(lake, registry):
    rows = interval_rows("E1-EL", "2024-01-10T00:00", 2, 15, values=[5.0, 6.0])
    ingest_frame(lake, registry, rows, source="a", now=NOW)
    revised = rows.assign(value=[7.0, 6.0])
    report = ingest_frame(lake, registry, revised, source="b", now=NOW)
    assert (report.accepted, report.revised, report.duplicate) == (0, 1, 1)
    latest = read_readings(lake)
    assert latest["value_raw"].tolist() == [7.0, 6.0]
    assert latest["energy"].tolist() == [14.0, 12.0]  # CT multiplier 2
    every = read_readings(lake, latest_revision_only=False)
    assert every[["value_raw", "revision"]].values.tolist() == [[5.0, 0], [7.0, 1], [6.0, 0]]


def test_second_writer_waits_then_fails_with_a_clear_error(lake):
    other = Lake.open(lake.root, ledger_url=lake.ledger_url)
    with lake.writer(), pytest.raises(LakeBusy, match="another ingest writer"), other.writer(timeout=0.2):
        pass
    with lake.writer(timeout=0):  # released
        pass


def test_second_writer_proceeds_once_the_first_releases(lake):
    entered = threading.Event()
    release = threading.Event()

    def hold():
        with lake.writer():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    entered.wait(5)
    threading.Timer(0.3, release.set).start()
    with Lake.open(lake.root, ledger_url=lake.ledger_url).writer(timeout=5):
        assert release.is_set()  # it got the lock only after the first writer was told to let go
    thread.join()


def test_orphan_parts_of_an_unacknowledged_batch_are_removed_on_restart(lake, registry):
    ingest_frame(lake, registry, interval_rows("E1-EL", "2024-01-10T00:00", 4, 15), source="a", now=NOW)
    before = content_frame(lake)
    # simulate a crash after the parts were renamed into place but before the ledger commit
    orphan_rel = "readings/month=2024-01/enterprise=E1/part-crashed-0.parquet"
    (lake.root / orphan_rel).write_bytes(next((lake.root / "readings").rglob("*.parquet")).read_bytes())
    lake.journal_path.write_text(json.dumps({"write": [orphan_rel], "replace": []}))
    assert len(read_readings(lake)) == 4  # readers never see an uncommitted part
    with lake.writer():
        pass
    assert not (lake.root / orphan_rel).exists()
    assert not lake.journal_path.exists()
    pd.testing.assert_frame_equal(content_frame(lake), before)


def test_full_recovery_removes_stray_files(lake, registry):
    ingest_frame(lake, registry, interval_rows("E1-EL", "2024-01-10T00:00", 4, 15), source="a", now=NOW)
    stray = lake.root / "readings/month=2024-01/enterprise=E1/.part-x.parquet.tmp"
    stray.write_bytes(b"partial")
    with lake.writer():
        removed = lake.recover(full=True)
    assert removed == [str(stray.relative_to(lake.root))]


def test_compaction_merges_parts_and_keeps_content(lake, registry):
    for day in range(2, 7):
        ingest_frame(lake, registry, interval_rows("E1-EL", f"2024-01-0{day}T09:00", 4, 15), source="a", now=NOW)
    ingest_frame(lake, registry, interval_rows("E1-EL", "2024-01-02T09:00", 1, 15, values=[99.0]),
                 source="fix", now=NOW)
    before = content_frame(lake)
    assert len(lake.parts()) == 6
    result = lake.compact()
    assert result == {"partitions_compacted": 1, "parts_replaced": 6, "aggregate_files_replaced": 6}
    assert len(lake.parts()) == 1 and len(list((lake.root / "readings").rglob("*.parquet"))) == 1
    pd.testing.assert_frame_equal(content_frame(lake), before)
    assert lake.parts()[0].revised_rows == 1
    # idempotency still holds after compaction
    again = ingest_frame(lake, registry, interval_rows("E1-EL", "2024-01-02T09:00", 4, 15), source="a", now=NOW)
    assert again.duplicate == 4 and again.batch_id is None


def test_crash_during_compaction_after_commit_deletes_replaced_parts(lake, registry):
    for day in (2, 3):
        ingest_frame(lake, registry, interval_rows("E1-EL", f"2024-01-0{day}T09:00", 2, 15), source="a", now=NOW)
    old = [p.path for p in lake.parts()]
    before = content_frame(lake)
    lake.compact()
    new = lake.parts()[0].path
    # put the replaced files back as if the process died before deleting them
    for rel in old:
        (lake.root / rel).write_bytes((lake.root / new).read_bytes())
    lake.journal_path.write_text(json.dumps({"write": [new], "replace": old}))
    with lake.writer():
        pass
    assert sorted(str(p.relative_to(lake.root)) for p in (lake.root / "readings").rglob("*.parquet")) == [new]
    pd.testing.assert_frame_equal(content_frame(lake), before)


def test_info_counts(lake, registry):
    ingest_frame(lake, registry, interval_rows("E1-EL", "2024-01-10T00:00", 4, 15), source="a", now=NOW)
    info = lake.info()
    assert (info["batches"], info["parts"], info["rows"], info["enterprises"]) == (1, 1, 4, 1)
    assert info["months"] == ["2024-01", "2024-01"] and not info["journal_pending"]


def test_enterprise_ids_are_safe_directory_names(tmp_path):
    from citycarbon.monitoring.lake import partition_dir, unquote_enterprise

    path = partition_dir("2024-01", "a/b c")
    assert "/" not in path.split("enterprise=")[1]
    assert unquote_enterprise(path.split("/")[-1]) == "a/b c"


def test_a_lake_removed_and_made_again_in_the_same_place_gets_a_new_ledger(tmp_path, registry):
    import shutil
    import sqlite3

    root = tmp_path / "lake"
    first = Lake.open(root)  # its connections stay pooled in this process
    ingest_frame(first, registry, interval_rows("E1-EL", "2024-01-10T00:00", 4, 15), source="a", now=NOW)
    shutil.rmtree(root)
    again = Lake.open(root)
    assert again.parts() == [] and again.ledger_path.exists()
    report = ingest_frame(again, registry, interval_rows("E1-EL", "2024-01-10T00:00", 2, 15), source="b", now=NOW)
    assert report.accepted == 2  # nothing of the removed lake is remembered
    with sqlite3.connect(again.ledger_path) as con:  # and the rows are in the new file, not the removed one
        assert con.execute("SELECT count(*) FROM batches").fetchone()[0] == 1
        assert con.execute("SELECT sum(rows) FROM parts").fetchone()[0] == 2
