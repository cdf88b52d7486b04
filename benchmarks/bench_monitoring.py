"""Meter-lake benchmark (issue 6, "Performance"): file backfill, HTTP ingest, rollups over 100 M readings.

    .venv/bin/python benchmarks/bench_monitoring.py [--rows-backfill 2000000] [--rows-rollup 100000000]
                                                     [--http-batches 20] [--skip-http] [--keep DIR]

Prints one JSON document (figures, machine, load average) and writes nothing into the repository; every lake
lives in a temp directory that is deleted at the end (``--keep`` keeps the 100 M-row lake for re-runs).

* **Backfill**: ``ingest_files`` on a Parquet and a CSV file of N readings (1 000 points of 50 enterprises, 15-min
  intervals), fresh lake, readings/s end to end (read, validate, normalise, deduplicate, write + fsync, ledger).
  Beside it the same file re-ingested (all duplicates), pyarrow's raw read+write of the same rows (the floor),
  and a naive per-row Python loop (validate + convert one dict at a time) on a sample, extrapolated.
* **HTTP**: ``POST /api/v1/monitoring/readings`` with 10 000-row batches from an httpx client on loopback against
  uvicorn (one worker) over a fresh store; readings/s over the batches.
* **Rollups**: a lake of R readings generated directly with numpy/pyarrow in the lake's layout (month ×
  enterprise parts, as compaction leaves them) and registered in the ledger, then its aggregates built by
  ``Lake.rebuild_aggregates()`` (what ``citycarbon monitoring compact`` leaves: one file per month by local day);
  ``rollup(period="month", by="enterprise")`` over all of it (from the aggregates, and the same rollup scanning
  every reading, checked equal), and one enterprise's year, each beside DuckDB's raw ``SELECT … GROUP BY`` over
  the same readings' Parquet files in the same run (best of 3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from citycarbon.monitoring.registry import Registry, load_registry
from citycarbon.monitoring.uscc import uscc_check_character

START = pd.Timestamp("2025-01-01T00:00:00+08:00").tz_convert("UTC")


def uscc(number: int) -> str:
    body = f"91210200MA{number:07d}"
    return body + uscc_check_character(body)


def make_registry(enterprises: int, points_per: int) -> Registry:
    ents = pd.DataFrame({"enterprise_id": [uscc(i) for i in range(enterprises)],
                         "name": [f"企业{i}" for i in range(enterprises)],
                         "uscc": [uscc(i) for i in range(enterprises)], "industry_code": "2511",
                         "region": ["210211", "210213", "210281", "210204"] * (enterprises // 4) +
                         ["210211"] * (enterprises % 4),
                         "tier": "1", "annual_budget_tce": "", "budget_year": ""})
    rows = []
    for e in ents["enterprise_id"]:
        for p in range(points_per):
            gas = p % 5 == 4
            rows.append({"point_id": f"{e}-P{p:03d}", "enterprise_id": e,
                         "energy_type": "natural_gas" if gas else "electricity", "unit": "m**3" if gas else "kWh",
                         "kind": "interval", "multiplier": "1", "parent_point_id": "", "interval_minutes": "15",
                         "register_max": "", "purpose": "main"})
    return load_registry({"enterprises": ents.astype(str), "points": pd.DataFrame(rows)})


def readings_frame(registry: Registry, rows: int, by_time: bool = False) -> pd.DataFrame:
    """``rows`` readings: every point, consecutive 15-min intervals from START (ISO strings with +08:00);
    ``by_time`` orders them interval by interval (how terminals push), else point by point (a backfill)."""
    points = registry.points
    per_point = max(1, rows // len(points))
    starts = pd.date_range(START, periods=per_point, freq="15min").tz_convert("Asia/Shanghai")
    text_start = starts.strftime("%Y-%m-%dT%H:%M:%S+08:00").to_numpy()
    text_end = (starts + pd.Timedelta("15min")).strftime("%Y-%m-%dT%H:%M:%S+08:00").to_numpy()
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "point_id": np.repeat(points["point_id"].to_numpy(), per_point),
        "start": np.tile(text_start, len(points)), "end": np.tile(text_end, len(points)),
        "value": np.round(rng.gamma(2.0, 50.0, per_point * len(points)), 2),
        "unit": np.repeat(points["unit"].to_numpy(), per_point)})
    if by_time:
        order = np.argsort(np.tile(np.arange(per_point), len(points)), kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
    return frame


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# ---------------------------------------------------------------------------------------------------
# 1. file backfill


def bench_backfill(work: Path, rows: int) -> dict:
    from citycarbon.monitoring.ingest import ingest_files, ingest_frame
    from citycarbon.monitoring.lake import Lake

    registry = make_registry(50, 20)
    frame = readings_frame(registry, rows)
    n = len(frame)
    parquet, csv = work / "backfill.parquet", work / "backfill.csv"
    frame.to_parquet(parquet, index=False)
    frame.to_csv(csv, index=False)
    out: dict = {"readings": n, "points": len(registry.points), "enterprises": len(registry.enterprises)}
    for name, path in (("parquet", parquet), ("csv", csv)):
        lake = Lake.open(work / f"lake-{name}")
        t0 = time.perf_counter()
        report = ingest_files(lake, registry, [path])[str(path)]
        first = time.perf_counter() - t0
        assert report.accepted == n, report
        t0 = time.perf_counter()
        again = ingest_files(lake, registry, [path])[str(path)]
        second = time.perf_counter() - t0
        assert again.duplicate == n
        out[name] = {"seconds": round(first, 3), "readings_per_s": round(n / first),
                     "reingest_seconds": round(second, 3), "reingest_readings_per_s": round(n / second),
                     "parts": lake.info()["parts"]}
    # the floor: pyarrow reads the Parquet file and writes one Parquet file, no validation or durability
    floor = best(lambda: pq.write_table(pq.read_table(parquet), work / "floor.parquet"), repeat=2)
    out["pyarrow_read_write_floor"] = {"seconds": round(floor, 3), "readings_per_s": round(n / floor)}
    # naive baseline: per-row Python (parse, look up, convert, one dict at a time) on a sample
    sample = frame.iloc[:20_000].to_dict("records")
    points = registry.points.set_index("point_id")
    from citycarbon.units import conversion_factor

    def naive() -> None:
        rows_out = []
        for record in sample:
            point = points.loc[record["point_id"]]
            begin, end = pd.Timestamp(record["start"]), pd.Timestamp(record["end"])
            energy = float(record["value"]) * float(point["multiplier"]) * conversion_factor(record["unit"], "kWh"
                                                                                             if point["energy_type"]
                                                                                             == "electricity"
                                                                                             else "m**3")
            rows_out.append((record["point_id"], begin, end, energy))

    naive_s = best(naive, repeat=1)
    out["naive_per_row_python"] = {"sample": len(sample), "readings_per_s": round(len(sample) / naive_s)}
    # one in-memory 10 000-row frame, as the HTTP handler sees it
    lake = Lake.open(work / "lake-frames")
    pushed = readings_frame(registry, min(n, 200_000), by_time=True)
    batches = [pushed.iloc[i:i + 10_000] for i in range(0, len(pushed), 10_000)]
    t0 = time.perf_counter()
    for batch in batches:
        ingest_frame(lake, registry, batch, source="bench")
    spent = time.perf_counter() - t0
    out["frames_10k"] = {"batches": len(batches), "readings_per_s": round(sum(map(len, batches)) / spent)}
    return out


# ---------------------------------------------------------------------------------------------------
# 2. HTTP ingest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and its descendants (Linux ``/proc``; 0 elsewhere): the server's
    own cost, which a loaded machine does not inflate the way it inflates wall time."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(times.get(pid, 0.0) for pid in tree)


def bench_http(work: Path, batches: int, workers: int = 1, connections: int = 1) -> dict:
    """``batches`` 10 000-row batches POSTed to ``citycarbon serve --workers N`` over loopback from ``connections``
    client threads (a fleet sends concurrently); readings/s from the first send to the last answer, and the
    per-request latency the clients saw (median, p95). One warm-up batch is sent first and not counted."""
    import queue

    import httpx

    from citycarbon.settings import Settings
    from citycarbon.store import users
    from citycarbon.store.db import Database

    home = work / f"http-home-{workers}-{connections}"
    settings = Settings.for_home(home)
    settings.ensure_home()
    registry = make_registry(1, 200)
    from citycarbon.store.monitoring_registry import save_registry

    db = Database(settings)
    db.upgrade()
    save_registry(db, registry, "bench")
    enterprise = str(registry.enterprises["enterprise_id"].iloc[0])
    with db.session() as session:
        user, _ = users.create_user(session, username="bench-ent", role="enterprise", enterprise_id=enterprise,
                                    actor="bench")
        token = users.issue_token(session, user, "write", "bench ingest", actor="bench")
    db.dispose()
    port = _free_port()
    env = dict(os.environ, CITYCARBON_HOME=str(home), CITYCARBON_COOKIE_SECURE="0")
    cli = Path(sys.executable).with_name("citycarbon")
    server = subprocess.Popen([str(cli), "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        frame = readings_frame(registry, (batches + 1) * 10_000, by_time=True)
        bodies = [json.dumps({"readings": frame.iloc[i:i + 10_000].to_dict("records")}).encode()
                  for i in range(0, len(frame), 10_000)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def send_all(todo: list[bytes]) -> tuple[float, list[float], int]:
            pending: queue.SimpleQueue = queue.SimpleQueue()
            for body in todo:
                pending.put(body)
            latencies: list[float] = []
            accepted = [0]
            lock = threading.Lock()
            failures: list[str] = []

            def client_loop() -> None:
                with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                    while True:
                        try:
                            body = pending.get_nowait()
                        except queue.Empty:
                            return
                        t = time.perf_counter()
                        answer = client.post("/api/v1/monitoring/readings", content=body)
                        spent = time.perf_counter() - t
                        with lock:
                            latencies.append(spent)
                            if answer.status_code != 200:
                                failures.append(answer.text[:300])
                            else:
                                accepted[0] += answer.json()["data"]["accepted"]

            threads = [threading.Thread(target=client_loop) for _ in range(connections)]
            t0 = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not failures, failures[:3]
            return time.perf_counter() - t0, latencies, accepted[0]

        for body in bodies[:1] * workers:  # warm-up: the first request imports and loads the registry
            send_all([body])
        server_cpu, client_cpu = _tree_cpu_seconds(server.pid), time.process_time()
        spent, latencies, accepted = send_all(bodies[1:])
        server_cpu, client_cpu = _tree_cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
        again = bodies[1:1 + min(len(bodies) - 1, 4 * connections)]
        dup_spent, _, dup_accepted = send_all(again)
        n = 10_000 * (len(bodies) - 1)
        assert accepted == n, (accepted, n)
        assert dup_accepted == 0
        from citycarbon.store.monitoring_submissions import list_submissions

        db = Database(settings)
        with db.session() as session:  # every batch, from every worker, is recorded exactly once
            recorded = list_submissions(session, enterprise_ids={enterprise}, limit=1)[1]
        db.dispose()
        assert recorded == workers + len(bodies) - 1 + len(again), recorded
        return {"batches": len(bodies) - 1, "batch_rows": 10_000, "body_bytes": len(bodies[1]),
                "readings_per_s": round(n / spent), "seconds": round(spent, 3),
                "latency_median_s": round(float(np.median(latencies)), 3),
                "latency_p95_s": round(float(np.percentile(latencies, 95)), 3),
                "server_cpu_s_per_batch": round(server_cpu / (len(bodies) - 1), 4),
                "client_cpu_s_per_batch": round(client_cpu / (len(bodies) - 1), 4),
                "duplicate_batches_readings_per_s": round(10_000 * len(again) / dup_spent),
                "server": f"citycarbon serve --workers {workers}, loopback",
                "client": f"httpx, {connections} concurrent connection(s)"}
    finally:
        server.terminate()
        server.wait(30)


# ---------------------------------------------------------------------------------------------------
# 3. rollups over a generated 100 M-row lake


def generate_lake(root: Path, rows: int, enterprises: int) -> tuple[Registry, dict]:
    """A lake of about ``rows`` readings: ``enterprises`` × points, 15-min for a year, one part per UTC month and
    enterprise, written straight with pyarrow and registered in the ledger as committed parts."""
    from citycarbon.monitoring.lake import SCHEMA, Lake, partition_dir

    intervals = 35_040  # a year of quarter-hours
    points_per = max(1, round(rows / intervals / enterprises))
    registry = make_registry(enterprises, points_per)
    lake = Lake.open(root)
    starts_all = pd.date_range(START, periods=intervals, freq="15min")
    months = starts_all.strftime("%Y-%m")
    received = pd.Timestamp("2026-01-01T00:00:00Z")
    rng = np.random.default_rng(7)
    values = np.round(rng.gamma(2.0, 50.0, 1 << 16), 1)
    parts = []
    t0 = time.perf_counter()
    for e_index, enterprise in enumerate(registry.enterprises["enterprise_id"]):
        points = registry.points.loc[registry.points["enterprise_id"] == enterprise]
        ids = points["point_id"].to_numpy()
        units = points["unit"].to_numpy()
        for month in pd.unique(months):
            mask = months == month
            starts = starts_all[mask].as_unit("us")
            count = int(mask.sum())
            m = len(ids) * count
            start_us = np.tile(starts.asi8, len(ids))
            energy = values[rng.integers(0, len(values), m)]
            def constant(text: str, size: int) -> pa.Array:
                return pa.DictionaryArray.from_arrays(np.zeros(size, np.int32), pa.array([text])).cast(pa.string())

            def per_point(labels: np.ndarray, count: int = count) -> pa.Array:
                codes = np.repeat(np.arange(len(labels), dtype=np.int32), count)
                return pa.DictionaryArray.from_arrays(codes, pa.array(labels.tolist())).cast(pa.string())

            table = pa.table({
                "point_id": per_point(ids), "enterprise_id": constant(enterprise, m),
                "start": pa.array(start_us, pa.timestamp("us", tz="UTC")),
                "end": pa.array(start_us + 900_000_000, pa.timestamp("us", tz="UTC")),
                "value_raw": energy, "unit_raw": per_point(units), "energy": energy,
                "energy_unit": per_point(np.where(units == "kWh", "kWh", "m**3")),
                "batch_id": constant("bench", m), "revision": pa.array(np.zeros(m, np.int32)),
                "received_at": pa.array(np.full(m, received.value // 1000), pa.timestamp("us", tz="UTC")),
                "energy_flag": constant("", m),
            }, schema=SCHEMA)
            rel = f"{partition_dir(month, enterprise)}/part-bench-{e_index}.parquet"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, root / rel, compression="snappy")
            parts.append((rel, "bench", month, enterprise, m, 0, None, None, datetime.now(UTC).isoformat()))
    with sqlite3.connect(lake.ledger_path) as con:
        con.executemany("INSERT INTO parts VALUES (?,?,?,?,?,?,?,?,?)", parts)
        # the parts bypassed the writer, so they have no hourly aggregates yet
        con.execute("DELETE FROM meta WHERE key = 'aggregates'")
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    rebuilt = lake.rebuild_aggregates()
    rebuild_seconds = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in (root / "readings").rglob("*.parquet"))
    agg_size = sum(p.stat().st_size for p in (root / "aggregates").rglob("*.parquet"))
    return registry, {"rows": sum(p[4] for p in parts), "parts": len(parts), "enterprises": enterprises,
                      "points": len(registry.points), "bytes": size, "aggregate_bytes": agg_size,
                      "aggregate_files": rebuilt["aggregate_files"], "generate_seconds": round(generated, 1),
                      "rebuild_aggregates_seconds": round(rebuild_seconds, 1)}


def bench_rollup(root: Path, rows: int, enterprises: int, reuse: bool) -> dict:
    import duckdb

    from citycarbon.monitoring.lake import Lake
    from citycarbon.monitoring.rollup import rollup

    if reuse and (root / "registry").exists():
        registry = load_registry(root / "registry")
        info = {"rows": Lake.open(root / "lake").info()["rows"], "reused": True}
    else:
        registry, info = generate_lake(root / "lake", rows, enterprises)
        registry.write(root / "registry")
    lake = Lake.open(root / "lake")
    glob = str(root / "lake" / "readings" / "**" / "*.parquet")
    one = str(registry.enterprises["enterprise_id"].iloc[3])
    out = {"lake": info}
    result = {}
    out["monthly_by_enterprise_s"] = round(best(lambda: result.setdefault(
        "r", rollup(lake, registry, period="month", by="enterprise"))), 3)
    assert len(result["r"].frame) > 0 and result["r"].provenance.parameters["read"] == "aggregates"
    out["aggregate_rows"] = int(duckdb.sql(
        f"SELECT count(*) FROM read_parquet({lake.aggregate_paths()!r})").fetchone()[0])
    # the same rollup scanning every reading (the path for bounds that are not whole hours), and the check that
    # both give the same sums
    out["monthly_by_enterprise_from_readings_s"] = round(best(lambda: result.setdefault(
        "raw", rollup(lake, registry, period="month", by="enterprise", source="readings")), repeat=1), 3)
    pd.testing.assert_frame_equal(result["r"].frame, result["raw"].frame, check_exact=False, rtol=1e-9)

    def raw(sql: str) -> None:
        con = duckdb.connect()
        con.execute("SET TimeZone='UTC'")
        con.execute(sql).fetchall()
        con.close()

    source = f"read_parquet('{glob}', hive_partitioning = true)"
    # DuckDB's raw speed on the same files: a plain GROUP BY, and the same local-month bucketing by hand
    out["duckdb_raw_sum_by_enterprise_s"] = round(best(lambda: raw(
        f"SELECT enterprise_id, sum(energy) FROM {source} GROUP BY ALL")), 3)
    out["duckdb_raw_monthly_by_enterprise_s"] = round(best(lambda: raw(
        "SELECT enterprise_id, date_trunc('month', make_timestamp(d * 86400000000)) AS m, sum(s) FROM ("
        "SELECT enterprise_id, (epoch_us(start) + 28800000000) // 86400000000 AS d, sum(energy) AS s "
        f"FROM {source} GROUP BY ALL) GROUP BY ALL")), 3)
    out["one_enterprise_year_s"] = round(best(lambda: rollup(lake, registry, period="month", enterprise=one),
                                              repeat=5), 4)
    out["one_enterprise_year_from_readings_s"] = round(best(lambda: rollup(
        lake, registry, period="month", enterprise=one, source="readings"), repeat=5), 4)

    def raw_one() -> None:
        raw("SELECT point_id, date_trunc('month', make_timestamp(d * 86400000000)) AS m, sum(s) FROM ("
            "SELECT point_id, (epoch_us(start) + 28800000000) // 86400000000 AS d, sum(energy) AS s "
            f"FROM {source} WHERE enterprise = '{one}' GROUP BY ALL) GROUP BY ALL")

    out["duckdb_raw_one_enterprise_year_s"] = round(best(raw_one, repeat=5), 4)
    return out


def machine() -> dict:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()[:12]
    except OSError:
        lscpu = []
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
            "cpus": os.cpu_count(), "load_average": os.getloadavg(), "lscpu": lscpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-backfill", type=int, default=2_000_000)
    parser.add_argument("--rows-rollup", type=int, default=100_000_000)
    parser.add_argument("--enterprises", type=int, default=100, help="enterprises of the rollup lake")
    parser.add_argument("--http-batches", type=int, default=20)
    parser.add_argument("--http-workers", type=int, default=1, help="uvicorn workers of citycarbon serve")
    parser.add_argument("--http-connections", type=int, default=1, help="concurrent client connections")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-backfill", action="store_true")
    parser.add_argument("--skip-rollup", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the rollup lake in this folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cc-bench-monitoring-"))
    report: dict = {"machine_before": machine()}
    try:
        if not args.skip_backfill:
            report["backfill"] = bench_backfill(work, args.rows_backfill)
            print(json.dumps({"backfill": report["backfill"]}), file=sys.stderr, flush=True)
        if not args.skip_http:
            report["http"] = bench_http(work, args.http_batches, args.http_workers, args.http_connections)
            print(json.dumps({"http": report["http"]}), file=sys.stderr, flush=True)
        if not args.skip_rollup:
            root = args.keep or work / "rollup"
            report["rollup"] = bench_rollup(root, args.rows_rollup, args.enterprises, reuse=args.keep is not None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["machine_after"] = machine()
    report["threads"] = threading.active_count()
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
