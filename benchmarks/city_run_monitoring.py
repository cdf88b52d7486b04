"""The "Done when" run of issue 6: a simulated city, ingested, checked, scored, rolled up and alerted on.

    .venv/bin/python benchmarks/city_run_monitoring.py [--units 1000] [--days 365] [--points 5] [--seed 2025]
        [--chunk 10] [--workers 1] [--overlap] [--keep DIR] [--out benchmarks/results/monitoring_city.md]
        [--compare-before REV] [--stop-after SECONDS]

Streams the city enterprise chunk by enterprise chunk (never the whole city in memory):

1. **simulate** ``--chunk`` enterprises (``simulate.iter_city``: realistic default points — main electricity,
   the industry's fuel, electricity sub-meters, product output for cement and ironmaking plants; faults at the
   simulator's rates, overlapping with ``--overlap``; situations that raise alerts); with ``--workers N`` N
   processes simulate ahead of the main process, each its own chunks (a chunk does not depend on the others);
2. **ingest** them into a fresh lake through ``citycarbon.monitoring.ingest.ingest_frame`` (the real path: one
   durable batch per ≤ 1 M rows, first arrivals in receipt order, then the resent rows, which become revisions);
3. **read** the chunk back from the lake (``lake.read_readings``, all revisions) and run **quality**
   (``quality.check`` over the whole window) on it;
4. **score** the flags against the simulator's truth (precision and recall per fault kind; counts add up over
   chunks);
5. **alerts** for the last day of the run, at its end: budget and product limits on the REPAIRED daily energy
   (``quality.daily_energy(..., flags=...)``) and, for comparison, on the raw energy; completeness, silence and
   unrepaired faults on the last ``lookback_days`` of readings; scored against the simulator's alert truth
   (per kind; "borderline" truth, within 1 point of a threshold, is counted apart);

and at the end **rolls up** the lake to monthly energy, tce and CO2 per enterprise and per district
(``rollup.rollup``, DuckDB), checked against the units' own monthly reports. Writes the Markdown report
(``--out``) and prints it. Lakes live under /tmp and are deleted unless ``--keep``.
``--stop-after``: stop starting new chunks after this many seconds and report the part done (with the rate
and the time the full city would take).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import multiprocessing as mp
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from citycarbon.monitoring import alerts, ingest, quality
from citycarbon.monitoring.lake import Lake, read_readings
from citycarbon.monitoring.registry import Registry
from citycarbon.monitoring.rollup import rollup
from citycarbon.monitoring.simulate import CityChunk, iter_city, simulator_parameters

MAX_BATCH = 1_000_000
START = "2025-01-01T00:00:00+08:00"
#: the simulator's future_timestamp faults lie up to 30 days after the city's now; a deployment's ingest rejects
#: them (5 min margin), but this run scores the quality rule that finds them in the lake, so it lets them in
SIMULATED_FUTURE_MARGIN = pd.Timedelta(days=31)


# ----------------------------------------------------------------------------------------------- the pieces

def sub_registry(registry: Registry, ids: list[str]) -> Registry:
    """The registry of ``ids`` only (quality and alerts then expect exactly their points)."""
    wanted = set(ids)
    return Registry(registry.enterprises[registry.enterprises["enterprise_id"].isin(wanted)].reset_index(drop=True),
                    registry.points[registry.points["enterprise_id"].isin(wanted)].reset_index(drop=True),
                    registry.products[registry.products["enterprise_id"].isin(wanted)].reset_index(drop=True),
                    registry.timezone)


def ingest_chunk(lake: Lake, registry: Registry, points: pd.DataFrame, readings: pd.DataFrame,
                 now: pd.Timestamp) -> dict:
    """First arrivals in receipt order, then the resent rows (revisions / conflicting duplicates), in batches."""
    arrived = readings.sort_values("received_at", kind="stable")
    resent = arrived.duplicated(["point_id", "start", "end"], keep="first").to_numpy()
    totals: dict[str, int] = defaultdict(int)
    for part in (arrived[~resent], arrived[resent]):
        for k in range(0, len(part), MAX_BATCH):
            report = ingest.ingest_frame(lake, registry, part.iloc[k:k + MAX_BATCH], source="city_run",
                                         points=points, now=now, future_margin=SIMULATED_FUTURE_MARGIN)
            for key in ("rows", "accepted", "duplicate", "revised", "rejected"):
                totals[key] += int(getattr(report, key))
    return dict(totals)


def score_counts(flags: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    return quality.score(flags, truth).set_index("fault_kind")[["truth", "flagged", "true_positive"]]


def alert_keys(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
    return {(str(k), str(e), str(s)) for k, e, s in zip(frame["kind"], frame["enterprise_id"], frame["subject"],
                                                         strict=True)}


def score_alerts(raised: pd.DataFrame, truth: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per kind: truth, raised, true positives (borderline truth and the alerts on those keys left out), and
    for budget alerts whether the level agreed."""
    border = alert_keys(truth[truth["borderline"]])
    firm = truth[~truth["borderline"] & (truth["level"] != "")]
    want, got = alert_keys(firm) - border, alert_keys(raised) - border
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for kind, *_ in want:
        out[kind]["truth"] += 1
    for kind, *_ in got:
        out[kind]["raised"] += 1
    for kind, *_ in want & got:
        out[kind]["true_positive"] += 1
    for kind, *_ in border:
        out[kind]["borderline"] += 1
    levels = firm.set_index(["kind", "enterprise_id", "subject"])["level"]
    for row in raised.itertuples(index=False):
        key = (row.kind, row.enterprise_id, row.subject)
        if key in levels.index and key not in border:
            out[row.kind]["level_agrees"] += int(levels.loc[key] == row.level)
    return {k: dict(v) for k, v in out.items()}


def check_chunk(lake: Lake | Path, piece: CityChunk, start: pd.Timestamp, lookback: pd.Timedelta) -> dict:
    """Read back, quality, score, repaired daily energy and alerts of one chunk (``piece.readings`` is not used:
    everything is read from the lake, so this runs in a worker process as well)."""
    times: dict[str, float] = defaultdict(float)
    lake = lake if isinstance(lake, Lake) else Lake.open(lake)
    registry = sub_registry(piece.registry, piece.enterprises)
    now = piece.now
    t = time.perf_counter()
    frame = read_readings(lake, enterprise=piece.enterprises, latest_revision_only=False)
    times["read"] += time.perf_counter() - t
    t = time.perf_counter()
    flags = quality.check(frame, registry, now=now, start=start, end=now)
    times["quality"] += time.perf_counter() - t
    t = time.perf_counter()
    counts = score_counts(flags, piece.truth)
    times["score"] += time.perf_counter() - t
    t = time.perf_counter()
    prepared = quality.prepare(frame, registry)
    repaired = quality.daily_energy(frame, registry, prepared=prepared, now=now, flags=flags)
    raw = quality.daily_energy(frame, registry, prepared=prepared, now=now)
    times["daily_energy"] += time.perf_counter() - t
    t = time.perf_counter()
    day = (now - pd.Timedelta(microseconds=1)).tz_convert(registry.timezone).strftime("%Y-%m-%d")
    recent_start = now - lookback
    recent = frame[frame["start"] >= recent_start]
    recent_flags = flags[flags["start"] >= recent_start]
    found = alerts.alerts(recent, registry, date=day, now=now, flags=recent_flags, daily=repaired,
                          window_start=recent_start)
    raw_found = pd.concat([alerts.budget_alerts(raw, registry, date=day, energy_view=alerts.VIEW_RAW),
                           alerts.product_alerts(raw, registry, date=day, energy_view=alerts.VIEW_RAW)],
                          ignore_index=True)
    times["alerts"] += time.perf_counter() - t
    monthly = repaired.assign(month=repaired["day"].str.slice(0, 7))
    monthly = monthly[monthly["parent_point_id"] == ""].groupby(["enterprise_id", "month"])["energy_tce"].sum()
    return {"readings": len(frame), "flags": len(flags), "counts": counts,
            "alerts": score_alerts(found, piece.alert_truth),
            "alerts_raw": score_alerts(raw_found, piece.alert_truth[piece.alert_truth["kind"].isin(
                ["budget", "product_limit"])]),
            "alert_rows": len(found), "monthly_repaired": monthly, "times": dict(times),
            "raised": found.drop(columns=["numbers"]),
            "examples": found.groupby("kind").head(1)[["kind", "enterprise_id", "subject", "message"]]}


def compare_before(rev: str, repo: Path, lake: Lake, piece: CityChunk, start: pd.Timestamp) -> dict:
    """Old quality module (``git show REV:src/citycarbon/monitoring/quality.py``) against the current one on the
    same chunk of the lake: readings/s of each (best of 2, same process) and whether the flags are identical."""
    text = subprocess.run(["git", "-C", str(repo), "show", f"{rev}:src/citycarbon/monitoring/quality.py"], check=True,
                          capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix="quality-before-")) / "quality_before.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("quality_before", path)
    old = importlib.util.module_from_spec(spec)
    sys.modules["quality_before"] = old
    spec.loader.exec_module(old)  # type: ignore[union-attr]
    registry = sub_registry(piece.registry, piece.enterprises)
    frame = read_readings(lake, enterprise=piece.enterprises, latest_revision_only=False)
    out, results = {"rev": rev, "readings": len(frame)}, {}
    for name, module in (("before", old), ("after", quality)):
        best = math.inf
        for _ in range(2):
            t = time.perf_counter()
            results[name] = module.check(frame, registry, now=piece.now, start=start, end=piece.now)
            best = min(best, time.perf_counter() - t)
        out[f"{name}_s"] = best
        out[f"{name}_readings_per_s"] = len(frame) / best
    a, b = (results[k].reset_index(drop=True) for k in ("before", "after"))
    same = len(a) == len(b) and all(
        np.allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-12, equal_nan=True) if c == "suggested_value"
        else bool((a[c].astype(str).to_numpy() == b[c].astype(str).to_numpy()).all()) for c in a.columns)
    out["identical_flags"] = same
    out["flags"] = len(b)
    shutil.rmtree(path.parent, ignore_errors=True)
    return out


# ----------------------------------------------------------------------------------------- simulator workers

def _simulate_worker(args: dict, mine: list[int], queue: mp.Queue) -> None:
    try:
        for piece in iter_city(args["units"], args["points"], args["days"], args["seed"], start=START,
                               chunk=args["chunk"], overlap=args["overlap"], faults=args["faults"],
                               situations=args["situations"], only=mine):
            queue.put(piece)
    except BaseException as error:  # the main process must not wait forever for a chunk that never comes
        queue.put(error)
        raise


def chunks(args: dict, n_chunks: int, workers: int):
    """The city's chunks in order, simulated in this process (0 workers) or ahead by ``workers`` processes."""
    if workers <= 0:
        yield from iter_city(args["units"], args["points"], args["days"], args["seed"], start=START,
                             chunk=args["chunk"], overlap=args["overlap"], faults=args["faults"],
                             situations=args["situations"])
        return
    context = mp.get_context("spawn")
    queues = [context.Queue(maxsize=1) for _ in range(workers)]
    procs = [context.Process(target=_simulate_worker, args=(args, list(range(w, n_chunks, workers)), queues[w]),
                             daemon=True) for w in range(workers)]
    for proc in procs:
        proc.start()
    try:
        for k in range(n_chunks):
            piece = queues[k % workers].get()
            if isinstance(piece, BaseException):
                raise RuntimeError(f"simulator worker failed: {piece!r}")
            yield piece
    finally:
        for proc in procs:
            proc.terminate()
            proc.join(5)


# ------------------------------------------------------------------------------------------------- report

def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = cpu
    return (f"{platform.node()}: {os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"pandas {pd.__version__}")


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def pr_table(counts: pd.DataFrame) -> list[str]:
    lines = ["| fault kind | truth | flagged | true positives | precision | recall |", "|---|---:|---:|---:|---:|---:|"]
    for kind, row in counts.sort_index().iterrows():
        precision = row.true_positive / row.flagged if row.flagged else math.nan
        recall = row.true_positive / row.truth if row.truth else math.nan
        lines.append(f"| {kind} | {int(row.truth):,} | {int(row.flagged):,} | {int(row.true_positive):,} | "
                     f"{pct(precision)} | {pct(recall)} |")
    scored = counts.drop(index=[k for k in ("submeter_balance",) if k in counts.index])
    tp, fl, tr = scored["true_positive"].sum(), scored["flagged"].sum(), scored["truth"].sum()
    lines.append(f"| **all kinds with truth** | {int(tr):,} | {int(fl):,} | {int(tp):,} | "
                 f"{pct(tp / fl if fl else math.nan)} | {pct(tp / tr if tr else math.nan)} |")
    return lines


def alert_table(scores: dict[str, dict[str, int]]) -> list[str]:
    lines = ["| alert kind | truth | raised | true positives | precision | recall | borderline (not scored) |"
             " level agrees |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in sorted(scores):
        s = scores[kind]
        truth, raised, tp = s.get("truth", 0), s.get("raised", 0), s.get("true_positive", 0)
        lines.append(f"| {kind} | {truth:,} | {raised:,} | {tp:,} | {pct(tp / raised if raised else math.nan)} | "
                     f"{pct(tp / truth if truth else math.nan)} | {s.get('borderline', 0)} | "
                     f"{s.get('level_agrees', 0) if kind == 'budget' else ''} |")
    return lines


def merge_alert_scores(total: dict, part: dict) -> None:
    for kind, values in part.items():
        for key, value in values.items():
            total[kind][key] += value


# ---------------------------------------------------------------------------------------------------- main

def run_city(*, units: int, days: int, points: int = 5, seed: int = 2025, chunk: int = 10, workers: int = 1,
             overlap: bool = False, root: Path, faults: bool | dict = True, situations: bool | dict = True,
             compare_before_rev: str | None = None, repo: Path | None = None, stop_after: float | None = None,
             check_workers: int = 0, log=print) -> dict:
    """The whole run into a fresh lake under ``root``; returns every figure the report shows.
    ``check_workers``: processes that read back, check, score and alert on a chunk while this one ingests the
    next (the lake is read only after the chunk's batches are committed; results are absorbed in chunk order, so
    they are the same as with 0)."""
    args = {"units": units, "points": points, "days": days, "seed": seed, "chunk": chunk, "overlap": overlap,
            "faults": faults, "situations": situations}
    started = datetime.now(UTC)
    load_start = os.getloadavg()
    lake_dir = root / "lake"
    if lake_dir.exists():
        shutil.rmtree(lake_dir)
    lake = Lake.open(lake_dir)
    n_chunks = math.ceil(units / chunk)
    start = pd.Timestamp(START).tz_convert("UTC")
    lookback = pd.Timedelta(days=float(alerts.load_alert_rules().get("data_quality", "lookback_days")))
    times: dict[str, float] = defaultdict(float)
    alert_scores: dict = defaultdict(lambda: defaultdict(int))
    alert_scores_raw: dict = defaultdict(lambda: defaultdict(int))
    ingest_totals: dict[str, int] = defaultdict(int)
    monthly_parts, examples, reports, raised, truths = [], [], [], [], []
    before = None
    registry = point_table = None
    state = {"counts": None, "readings": 0, "flags": 0, "alerts": 0, "units": 0}

    def absorb(result: dict, piece: CityChunk) -> None:
        state["counts"] = result["counts"] if state["counts"] is None else state["counts"].add(
            result["counts"], fill_value=0)
        merge_alert_scores(alert_scores, result["alerts"])
        merge_alert_scores(alert_scores_raw, result["alerts_raw"])
        monthly_parts.append(result["monthly_repaired"])
        examples.append(result["examples"])
        raised.append(result["raised"])
        truths.append(piece.alert_truth)
        reports.append(piece.monthly_reports)
        for key in ("readings", "flags"):
            state[key] += result[key]
        state["alerts"] += result["alert_rows"]
        state["units"] += len(piece.enterprises)
        for name, sec in result["times"].items():
            times[name] += sec

    pool = (ProcessPoolExecutor(max_workers=check_workers, mp_context=mp.get_context("spawn"))
            if check_workers > 0 else None)
    pending: list = []
    wall = time.perf_counter()
    stream = chunks(args, n_chunks, workers)
    for k in range(n_chunks):
        t = time.perf_counter()
        piece = next(stream)
        times["simulate (wait)" if workers > 0 else "simulate"] += time.perf_counter() - t
        if registry is None:
            registry = piece.registry
            point_table = ingest.point_table(registry)
        t = time.perf_counter()
        totals = ingest_chunk(lake, registry, point_table, piece.readings, piece.now)
        times["ingest"] += time.perf_counter() - t
        for key, value in totals.items():
            ingest_totals[key] += value
        if k == 0 and compare_before_rev:
            before = compare_before(compare_before_rev, repo or Path(__file__).resolve().parents[1], lake, piece,
                                    start)
        light = CityChunk(piece.registry, piece.readings.iloc[0:0], piece.truth, piece.monthly_reports,
                          piece.alert_truth, piece.enterprises, piece.now)
        del piece
        if pool is None:
            absorb(check_chunk(lake, light, start, lookback), light)
        else:  # checked in a worker while this process ingests the next chunk; absorbed in chunk order
            pending.append((pool.submit(check_chunk, lake_dir, light, start, lookback), light))
            while len(pending) > check_workers:
                future, done = pending.pop(0)
                absorb(future.result(), done)
        elapsed = time.perf_counter() - wall
        log(f"[{datetime.now(UTC):%H:%M:%S}] chunk {k + 1}/{n_chunks}: {state['units']} units checked, "
            f"{state['readings']:,} readings, {state['readings'] / elapsed:,.0f} readings/s end to end, "
            f"load {os.getloadavg()[0]:.1f}; "
            + ", ".join(f"{name} {sec:.0f} s" for name, sec in times.items()))
        if stop_after is not None and elapsed > stop_after and k + 1 < n_chunks:
            log(f"stopping after {elapsed:.0f} s (--stop-after)")
            break
    stream.close()
    for future, done in pending:
        absorb(future.result(), done)
    if pool is not None:
        pool.shutdown()
    # rollups over the lake: monthly energy, tce and CO2 per enterprise and per district
    rolled = {}
    for by in ("enterprise", "district"):
        t = time.perf_counter()
        rolled[by] = rollup(lake, registry, period="month", by=by).frame
        times[f"rollup by {by}"] = time.perf_counter() - t
    wall = time.perf_counter() - wall
    # monthly rollup (raw) and repaired monthly energy against the units' own monthly reports
    by_ent = rolled["enterprise"]
    month_col = "period" if "period" in by_ent.columns else "month"
    raw_month = by_ent.assign(month=by_ent[month_col].astype(str).str.slice(0, 7)).groupby(
        ["enterprise_id", "month"])["tce_calorific"].sum()
    repaired_month = pd.concat(monthly_parts)
    monthly_reports = pd.concat(reports, ignore_index=True)
    compare = monthly_reports[["enterprise_id", "month", "energy_tce", "mismatch"]].astype(
        {"enterprise_id": str, "month": str})
    compare = compare.merge(raw_month.rename("raw").reset_index(), on=["enterprise_id", "month"])
    compare = compare.merge(repaired_month.rename("repaired").reset_index(), on=["enterprise_id", "month"])
    clean = compare[~compare["mismatch"].astype(bool)]  # (no complete month in the run: empty, figures NaN)
    return {"started": started, "load_start": load_start, "load_end": os.getloadavg(), "times": dict(times),
            "wall": wall, "readings": state["readings"], "flags": state["flags"], "alerts": state["alerts"],
            "done_units": state["units"], "n_chunks": n_chunks, "ingest": dict(ingest_totals),
            "lake_bytes": du(lake_dir), "alert_scores": alert_scores,
            "alert_scores_raw": alert_scores_raw, "before": before, "counts": state["counts"],
            "dev_raw": (clean["raw"] / clean["energy_tce"] - 1).abs(),
            "dev_repaired": (clean["repaired"] / clean["energy_tce"] - 1).abs(), "n_months": len(clean),
            "by_enterprise": by_ent, "by_district": rolled["district"],
            "examples": pd.concat(examples, ignore_index=True), "raised": pd.concat(raised, ignore_index=True),
            "alert_truth": pd.concat(truths, ignore_index=True), "registry": registry}


def fault_rates(scale: float) -> bool | dict:
    """True (the simulator's rates) or every rate × ``scale``."""
    if scale == 1.0:
        return True
    return {kind: float(spec["rate"]) * scale for kind, spec in simulator_parameters()["faults"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--points", type=int, default=5, help="energy points per unit (≥ 3: main, fuel, sub-meters)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--chunk", type=int, default=10, help="enterprises per chunk")
    parser.add_argument("--workers", type=int, default=1, help="simulator processes ahead of the main one (0: none)")
    parser.add_argument("--check-workers", type=int, default=0,
                        help="processes that check chunks while the main one ingests the next (0: none)")
    parser.add_argument("--overlap", action="store_true", help="faults may touch and overlap (not an upper bound)")
    parser.add_argument("--fault-scale", type=float, default=1.0,
                        help="multiply every fault rate of simulator.yaml (stress: faults meet more often)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the lake in this folder")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/monitoring_city.md"))
    parser.add_argument("--compare-before", default=None, help="git revision whose quality.py to time on chunk 0")
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1],
                        help="git checkout for --compare-before")
    parser.add_argument("--stop-after", type=float, default=None, help="seconds; then report the part done")
    opts = parser.parse_args()
    if opts.points < 3:
        parser.error("--points must be ≥ 3 (main electricity, fuel and at least one sub-meter)")
    root = opts.keep or Path(tempfile.mkdtemp(prefix="city-run-", dir="/tmp"))
    try:
        result = run_city(units=opts.units, days=opts.days, points=opts.points, seed=opts.seed, chunk=opts.chunk,
                          workers=opts.workers, overlap=opts.overlap, root=root, faults=fault_rates(opts.fault_scale),
                          compare_before_rev=opts.compare_before, repo=opts.repo, stop_after=opts.stop_after,
                          check_workers=opts.check_workers,
                          log=lambda line: print(line, flush=True))
    finally:
        if opts.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    text = "\n".join(render(opts, result)) + "\n"
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(text, encoding="utf-8")
    print(text)


def render(opts: argparse.Namespace, r: dict) -> list[str]:
    """The Markdown report of :func:`run_city`'s figures."""
    started, load_start, load_end, times, wall = r["started"], r["load_start"], r["load_end"], r["times"], r["wall"]
    readings_total, flags_total, alerts_total, done_units = r["readings"], r["flags"], r["alerts"], r["done_units"]
    ingest_totals, lake_bytes, counts, before = r["ingest"], r["lake_bytes"], r["counts"], r["before"]
    alert_scores, alert_scores_raw, dev_raw, dev_rep = r["alert_scores"], r["alert_scores_raw"], r["dev_raw"], \
        r["dev_repaired"]
    by_ent, district, examples, n_months = r["by_enterprise"], r["by_district"], r["examples"], r["n_months"]
    full = opts.units * opts.days
    done_share = done_units * opts.days / full
    lines = [
        "# The city run (issue 6, \"Done when\")",
        "",
        f"`benchmarks/city_run_monitoring.py --units {opts.units} --days {opts.days} --points {opts.points} "
        f"--seed {opts.seed} --chunk {opts.chunk} --workers {opts.workers}{' --overlap' if opts.overlap else ''}"
        f"{f' --check-workers {opts.check_workers}' if getattr(opts, 'check_workers', 0) else ''}"
        f"{f' --fault-scale {opts.fault_scale:g}' if opts.fault_scale != 1.0 else ''}`, "
        f"started {started:%Y-%m-%d %H:%M} UTC.",
        "",
        f"* Machine: {machine()}; load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end "
        "(a shared machine: other work ran beside it).",
        f"* Done: **{done_units:,} of {opts.units:,} units** × {opts.days} days"
        + ("" if done_units == opts.units else f" (stopped by --stop-after; {done_share:.0%} of the city)")
        + f": {readings_total:,} readings in the lake (all revisions), {ingest_totals['rows']:,} rows sent "
        f"({ingest_totals['accepted']:,} accepted, {ingest_totals['revised']:,} revisions, "
        f"{ingest_totals['duplicate']:,} duplicates, {ingest_totals['rejected']:,} rejected), "
        f"{flags_total:,} quality flags, {alerts_total:,} alerts; lake {lake_bytes / 2**30:.2f} GiB.",
        f"* Wall time {wall / 60:.1f} min, {readings_total / wall:,.0f} readings/s end to end"
        + ("" if done_units == opts.units else
           f"; the whole city at that rate: about {wall / done_share / 3600:.1f} h"),
        "",
        *([f"* Read-back, quality, scoring, daily energy and alerts ran in {opts.check_workers} worker "
           "process(es) beside the ingest: their seconds below overlap the ingest's.", ""]
          if getattr(opts, "check_workers", 0) else []),
        "| stage | seconds | readings/s |",
        "|---|---:|---:|",
    ]
    for name, sec in times.items():
        per = f"{readings_total / sec:,.0f}" if sec > 0 and not name.startswith("rollup") else ""
        lines.append(f"| {name} | {sec:,.1f} | {per} |")
    if before:
        lines += ["", f"**Quality before/after** (chunk 0, {before['readings']:,} readings from the lake, same "
                  f"process, best of 2): `{before['rev']}` {before['before_s']:.1f} s "
                  f"({before['before_readings_per_s']:,.0f} readings/s) → now {before['after_s']:.1f} s "
                  f"({before['after_readings_per_s']:,.0f} readings/s), "
                  f"×{before['before_s'] / before['after_s']:.1f}; identical flags: {before['identical_flags']} "
                  f"({before['flags']:,} flags)."]
    lines += ["", "## Quality flags against the simulator's truth", "",
              "Faults " + (f"at {opts.fault_scale:g}× the simulator's rates " if opts.fault_scale != 1.0 else "")
              + ("may overlap (`--overlap`)" if opts.overlap else
                           "keep 12 clean intervals on each side (the simulator's default: an upper bound)")
              + "; a flag matches a truth row on point, fault kind and interval end. `submeter_balance` has no "
              "truth (real imbalances of faulty raw data) and is left out of the total.", ""]
    lines += pr_table(counts)
    lines += ["", "## Alerts for the last day of the run, against the simulator's alert truth", "",
              "Budget and product limits on the **repaired** daily energy (quality flags' suggested values, gaps "
              "filled); the truth is the true energy. Completeness, silence and unrepaired faults on the last "
              "14 days of readings. Borderline truth (within 1 point of a threshold) is not scored.", ""]
    lines += alert_table(alert_scores)
    lines += ["", "The same budget and product alerts on the **raw** energy (latest revisions as stored, faults "
              "included), for comparison:", ""]
    lines += alert_table(alert_scores_raw)
    n_districts = district["region"].nunique() if "region" in district.columns else "?"
    lines += ["", "## Monthly rollups", "",
              f"`rollup(period=\"month\", by=\"enterprise\")`: {len(by_ent):,} rows; `by=\"district\"`: "
              f"{len(district):,} rows ({n_districts} districts). Against the "
              f"units' own monthly reports ({n_months:,} enterprise-months whose report is not one of the simulator's "
              "deliberate 7–15 % mismatches): median |deviation| raw rollup "
              f"{dev_raw.median():.2%} (95th percentile {dev_raw.quantile(0.95):.2%}), repaired energy "
              f"{dev_rep.median():.2%} (95th percentile {dev_rep.quantile(0.95):.2%}).", ""]
    if len(district):
        cols = [c for c in ("period", "month", "region", "energy_type", "energy", "energy_unit", "tce_calorific",
                            "co2_t") if c in district.columns]
        head = district[cols].head(6)
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for row in head.itertuples(index=False):
            lines.append("| " + " | ".join(f"{v:,.1f}" if isinstance(v, float) else str(v) for v in row) + " |")
    lines += ["", "## One alert of each kind", ""]
    for row in examples.groupby("kind").head(1).itertuples(index=False):
        lines.append(f"* `{row.kind}` {row.enterprise_id} {row.subject}: {row.message}")
    return lines


if __name__ == "__main__":
    main()
