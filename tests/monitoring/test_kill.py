"""SIGKILL in the middle of an ingest stream loses no acknowledged batch and duplicates none after restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from citycarbon.monitoring.ingest import ingest_frame
from citycarbon.monitoring.lake import Lake, content_frame, read_readings

try:
    from tests.monitoring.test_lake_fixtures import make_registry
except ImportError:  # tests/monitoring is not a package
    from test_lake_fixtures import make_registry

ROOT = Path(__file__).resolve().parents[2]
BATCHES = 24
ROWS = 1500
#: the ingest clock: after the stream's last reading (ingest rejects readings from the future)
CLOCK = "2025-01-01T00:00:00Z"

#: the ingest client: sends batch after batch and prints each batch number once it is durable (acknowledged)
STREAM = textwrap.dedent("""
    import sys
    import pandas as pd
    from citycarbon.monitoring.ingest import ingest_frame
    from citycarbon.monitoring.lake import Lake
    from citycarbon.monitoring.registry import load_registry
    from tests.monitoring.test_kill import batch

    lake, registry = Lake.open(sys.argv[1]), load_registry(sys.argv[2])
    now = pd.Timestamp("{now}")
    for number in range({batches}):
        ingest_frame(lake, registry, batch(number), source="stream", batch_id=f"b{{number}}", now=now)
        print(number, flush=True)
""")


def batch(number: int) -> pd.DataFrame:
    """Batch ``number``: ROWS quarter-hours of E1-EL and E2-EL; every fifth batch also revises batch n−1."""
    start = pd.Timestamp("2024-01-01T00:00:00Z") + pd.Timedelta(minutes=15 * ROWS * number)
    starts = pd.date_range(start, periods=ROWS // 2, freq="15min")
    frames = []
    for point in ("E1-EL", "E2-EL"):
        frames.append(pd.DataFrame({"point_id": point, "start": starts.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                                    "end": (starts + pd.Timedelta("15min")).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                                    "value": [float((number * 7 + i) % 97) for i in range(len(starts))],
                                    "unit": "kWh"}))
    if number % 5 == 4:
        previous = batch(number - 1).iloc[:10].copy()
        previous["value"] = previous["value"] + 1000.0
        frames.append(previous)
    return pd.concat(frames, ignore_index=True)


def run_stream(lake: Path, registry: Path, kill_after: int | None) -> list[int]:
    """Run the client; with ``kill_after`` SIGKILL it once that many batches were acknowledged."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = STREAM.format(batches=BATCHES, now=CLOCK)
    process = subprocess.Popen([sys.executable, "-c", script, str(lake), str(registry)],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    acknowledged: list[int] = []
    assert process.stdout is not None
    for line in process.stdout:
        acknowledged.append(int(line))
        if kill_after is not None and len(acknowledged) >= kill_after:
            process.send_signal(signal.SIGKILL)
            break
    process.stdout.close()
    process.wait(timeout=120)
    if kill_after is not None:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 0
    return acknowledged


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_sigkill_mid_stream_then_resend_everything(tmp_path):
    registry_dir = tmp_path / "registry"
    registry = make_registry()
    registry.write(registry_dir)
    lake_dir = tmp_path / "lake"
    acknowledged = run_stream(lake_dir, registry_dir, kill_after=8)
    assert acknowledged == list(range(len(acknowledged)))
    lake = Lake.open(lake_dir)
    # every acknowledged batch is durable and present exactly once, before any restart
    stored = read_readings(lake, latest_revision_only=False)
    for number in acknowledged:
        rows = batch(number)
        starts = pd.to_datetime(rows["start"], utc=True)
        got = stored[stored["start"].isin(starts)]
        assert not got.duplicated(["point_id", "start", "end", "revision"]).any()
        assert len(got) >= rows.drop_duplicates(["point_id", "start"]).shape[0]
    # restart and re-send everything from the beginning
    run_stream(lake_dir, registry_dir, kill_after=None)
    assert not lake.journal_path.exists()
    # the result equals an uninterrupted ingest of the same stream, and every file is in the ledger
    reference = Lake.open(tmp_path / "reference")
    for number in range(BATCHES):
        ingest_frame(reference, registry, batch(number), source="stream", now=pd.Timestamp(CLOCK))
    pd.testing.assert_frame_equal(content_frame(lake), content_frame(reference))
    files = sorted(str(p.relative_to(lake.root)) for p in lake.root.rglob("*.parquet"))
    ledger = [p.path for p in lake.parts()] + [str(Path(p).relative_to(lake.root)) for p in lake.aggregate_paths()]
    assert files == sorted(ledger)
    # the hourly aggregates written beside the acknowledged batches add up to the readings' latest revisions
    from citycarbon.monitoring.rollup import scan_duckdb

    kwargs = {"period": "hour", "timezone": "Asia/Shanghai"}
    pd.testing.assert_frame_equal(
        scan_duckdb(lake, source="aggregates", **kwargs).sort_values(["point_id", "period"]).reset_index(drop=True),
        scan_duckdb(lake, source="readings", **kwargs).sort_values(["point_id", "period"]).reset_index(drop=True),
        check_exact=False, rtol=1e-12)
    every = read_readings(lake, latest_revision_only=False)
    assert not every.duplicated(["point_id", "start", "end", "revision"]).any()
