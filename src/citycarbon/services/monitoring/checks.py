"""Data quality, alerts and rule scores of a day, a year to date or a simulated city: the orchestration the CLI
commands ``monitoring quality|alerts|score`` call (readings from the lake or from files, daily energy from the
lake's rollup, the repaired view checked enterprise chunk by chunk so memory stays bounded).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from citycarbon.errors import InputError, Problem
from citycarbon.progress import Progress, or_silent

if TYPE_CHECKING:
    from collections.abc import Iterable

    from citycarbon.monitoring.registry import Registry

__all__ = [
    "AlertsReport",
    "NowcastFeed",
    "QualityReport",
    "ScoreReport",
    "day_alerts",
    "day_quality",
    "frame_records",
    "lake_daily",
    "lake_repaired_daily",
    "nowcast_feed",
    "quality_report",
    "read_readings_files",
    "read_window",
    "score_rules",
    "sub_registry",
]


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready records (times as ISO text, missing values as None)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].map(lambda t: t.isoformat() if not pd.isna(t) else None)
    records: list[dict[str, Any]] = out.astype(object).where(out.notna(), None).to_dict("records")
    return records


def read_readings_files(path: Path, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """Readings from a Parquet/CSV file or every such file under a folder (the simulator's ``readings/``)."""
    files = sorted(p for p in path.rglob("*") if p.suffix in (".parquet", ".csv")) if path.is_dir() else [path]
    if not files:
        raise InputError(Problem("no .parquet or .csv readings here", file=str(path)))
    frames = []
    for file in files:
        try:
            frame = pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file)
        except (OSError, ValueError) as error:
            raise InputError(Problem(f"cannot read readings: {error}", file=file.name)) from error
        missing = [c for c in ("point_id", "start", "end") if c not in frame.columns]
        if "value" not in frame.columns and "value_raw" not in frame.columns:
            missing.append("value")
        if missing:
            raise InputError(Problem(f"missing column {missing[0]!r}", file=file.name, field=missing[0]))
        frame["start"] = pd.to_datetime(frame["start"], utc=True)
        frame["end"] = pd.to_datetime(frame["end"], utc=True)
        if start is not None:
            frame = frame[frame["start"] >= start]
        if end is not None:
            frame = frame[frame["start"] < end]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def read_window(lake: Path, readings: Path | None, start: pd.Timestamp, end: pd.Timestamp,
              enterprise: str | None) -> pd.DataFrame:
    """Readings of the window from ``--readings`` or the meter lake (all revisions, for the duplicate rules)."""
    if readings is not None:
        return read_readings_files(readings, start, end)
    try:
        from citycarbon.monitoring.lake import read_readings
    except ImportError as error:  # the lake module ships separately
        raise InputError(Problem("the meter lake is not available here; pass --readings FILE", field="--lake")) \
            from error
    return read_readings(lake, enterprise=enterprise, start=start, end=end, latest_revision_only=False)


def lake_daily(lake: Path, registry: Registry, start: pd.Timestamp, end: pd.Timestamp,
                enterprise: str | None) -> pd.DataFrame:
    """Daily energy per point from the lake's rollup (DuckDB over the Parquet parts), as the alerts read it."""
    from citycarbon.monitoring.alerts import daily_from_rollup
    from citycarbon.monitoring.rollup import rollup

    result = rollup(lake, registry, period="day", by="point", enterprise=enterprise, start=start, end=end)
    return daily_from_rollup(result.frame, registry)


def sub_registry(registry: Registry, enterprises: Iterable[object]) -> Registry:
    """The registry of ``enterprises`` only (quality checks with a window expect exactly their points)."""
    from citycarbon.monitoring.registry import Registry

    wanted = {str(e) for e in enterprises}

    def only(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["enterprise_id"].astype(str).isin(wanted)].reset_index(drop=True)

    return Registry(only(registry.enterprises), only(registry.points), only(registry.products), registry.timezone)


def lake_repaired_daily(lake: Path, registry: Registry, raw_daily: pd.DataFrame, start: pd.Timestamp,
                         now: pd.Timestamp, enterprise: str | None, chunk: int,
                         progress: Progress | None = None) -> pd.DataFrame:
    """The lake's raw daily rollup with the repaired view of the year to date: the readings are checked
    enterprise chunk by chunk (each chunk with its own points only, so the memory stays bounded) and their
    repaired daily energy (``quality.daily_energy(..., flags=...)``) replaces the raw days. ``progress`` counts
    the enterprises checked."""
    from citycarbon.monitoring import quality
    from citycarbon.monitoring.alerts import repaired_daily
    from citycarbon.monitoring.lake import read_readings
    ids = [enterprise] if enterprise is not None else list(registry.enterprises["enterprise_id"].astype(str))
    parts = []
    report = or_silent(progress)
    report(0, len(ids), "")
    for k in range(0, len(ids), chunk):
        part = set(ids[k:k + chunk])
        sub = sub_registry(registry, part)
        frame = read_readings(lake, enterprise=sorted(part), start=start, end=now, latest_revision_only=False)
        if not frame.empty:
            flags = quality.check(frame, sub, now=now, start=start, end=now)
            parts.append(quality.daily_energy(frame, sub, now=now, flags=flags))
        report(min(k + chunk, len(ids)), len(ids), ids[min(k + chunk, len(ids)) - 1])
    return repaired_daily(raw_daily, pd.concat(parts, ignore_index=True) if parts else raw_daily.iloc[0:0])


def _only(frame: pd.DataFrame, registry: Registry, enterprise: str | None) -> pd.DataFrame:
    if enterprise is None or frame.empty:
        return frame
    ids = set(registry.points_of(enterprise)["point_id"])
    return frame[frame["point_id"].astype(str).isin(ids)]


@dataclass(frozen=True)
class QualityReport:
    """Flags of a local day and the national indicators per enterprise (with its count of flags)."""

    date: str
    timezone: str
    now: pd.Timestamp
    provenance: dict[str, Any]
    indicators: pd.DataFrame
    flags_by_rule: pd.DataFrame
    flags: pd.DataFrame
    limit: int = 200

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date, "timezone": self.timezone, "now": self.now.isoformat(),
                "provenance": self.provenance, "indicators": frame_records(self.indicators),
                "flags_by_rule": frame_records(self.flags_by_rule), "flags_total": len(self.flags),
                "flags": frame_records(self.flags.head(self.limit)), "flags_truncated": len(self.flags) > self.limit}


def quality_report(day: pd.Timestamp, readings: pd.DataFrame, registry: Registry, *, now: pd.Timestamp,
                   enterprise: str | None = None, monthly_reports: pd.DataFrame | None = None,
                   limit: int = 200, daily: pd.DataFrame | None = None) -> QualityReport:
    """Flags of the local ``day`` (checked with a day of context either side) and the national indicators
    (the month's daily energy from ``daily``, or ``readings`` from the first of the month, for the daily vs
    monthly deviation)."""
    from citycarbon.monitoring import quality

    readings = _only(readings, registry, enterprise)
    lo, hi = day.tz_convert("UTC"), (day + pd.Timedelta(days=1)).tz_convert("UTC")
    margin = pd.Timedelta(days=1)
    context = readings[(readings["start"] >= lo - margin) & (readings["start"] < hi + margin)]
    flags = quality.check(context, registry, now=now, start=lo, end=min(hi, now))
    flags = flags[(flags["start"] >= lo) & (flags["start"] < hi)]
    flags = _only(flags, registry, enterprise)
    indicators = quality.national_indicators(readings, registry, day.strftime("%Y-%m-%d"), now=now,
                                             monthly_reports=monthly_reports, daily=daily)
    if enterprise is not None:
        indicators = indicators[indicators["enterprise_id"] == enterprise]
    by_rule = flags.groupby(["rule_id", "severity"]).size().rename("count").reset_index()
    points = registry.points.set_index("point_id")["enterprise_id"]
    per_enterprise = flags.assign(enterprise_id=flags["point_id"].astype(str).map(points)).groupby(
        "enterprise_id").size()
    indicators = indicators.assign(flags=indicators["enterprise_id"].map(per_enterprise).fillna(0).astype(int))
    return QualityReport(day.strftime("%Y-%m-%d"), registry.timezone, now, quality.provenance().to_dict(),
                         indicators, by_rule, flags, limit)


def day_quality(registry: Any, day: pd.Timestamp, *, lake: Path, readings: Path | None, now: pd.Timestamp,
                enterprise: str | None = None, monthly_reports: pd.DataFrame | None = None,
                limit: int = 200) -> QualityReport:
    """The quality report of the local ``day``: on the lake, the month's energy from its rollup and the readings
    of three days only; on ``readings`` files, the readings from the first of the month."""
    first = min(day.replace(day=1), day - pd.Timedelta(days=1))
    upto = (day + pd.Timedelta(days=2)).tz_convert("UTC")
    daily = None
    if readings is None:
        first_of_month = day.replace(day=1)
        daily = lake_daily(lake, registry, first_of_month, first_of_month + pd.offsets.MonthBegin(1), enterprise)
        first = day - pd.Timedelta(days=1)
    frame = read_window(lake, readings, first.tz_convert("UTC"), upto, enterprise)
    return quality_report(day, frame, registry, now=now, enterprise=enterprise, monthly_reports=monthly_reports,
                          limit=limit, daily=daily)


@dataclass(frozen=True)
class AlertsReport:
    """The alerts of a day with their numbers, the check time and where the energy came from."""

    date: str
    now: pd.Timestamp
    energy_source: str
    provenance: dict[str, Any]
    alerts: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date, "now": self.now.isoformat(), "energy_source": self.energy_source,
                "provenance": self.provenance, "alerts": frame_records(self.alerts)}


def day_alerts(registry: Any, day: pd.Timestamp, *, lake: Path, readings: Path | None, now: pd.Timestamp,
               enterprise: str | None = None, month_weights: Any = None, energy: str = "repaired",
               chunk: int = 50, progress: Progress | None = None) -> AlertsReport:
    """Alerts of the local ``day`` checked at ``now``: budget path, product limits, completeness, silence,
    unrepaired faults. On the lake the year-to-date energy comes from its rollup (``energy="repaired"``: the
    year to date checked enterprise ``chunk`` by chunk, the flags' suggested values replacing faults; ``raw``:
    the rollup as it is) and the readings of the data-quality lookback only. ``progress`` counts the
    enterprises of the year-to-date check."""
    from citycarbon.monitoring import quality
    from citycarbon.monitoring.alerts import alerts, energy_view_of, load_alert_rules

    if energy not in ("repaired", "raw"):
        raise InputError(Problem(f"--energy must be repaired or raw, not {energy!r}", field="--energy",
                                 value=energy))
    year_start = day.replace(month=1, day=1)
    daily = None
    first = year_start.tz_convert("UTC")
    if readings is None:
        daily = lake_daily(lake, registry, year_start, day + pd.Timedelta(days=1), enterprise)
        if energy == "repaired":
            daily = lake_repaired_daily(lake, registry, daily, year_start.tz_convert("UTC"), now, enterprise, chunk,
                                        progress)
        lookback = pd.Timedelta(days=float(str(load_alert_rules().get("data_quality", "lookback_days"))))
        first = max(first, now - lookback)
    frame = _only(read_window(lake, readings, first, now, enterprise), registry, enterprise)
    flags = quality.check(frame, registry, now=now)
    result = alerts(frame, registry, date=day.strftime("%Y-%m-%d"), now=now, flags=flags,
                    month_weights=month_weights, daily=daily)
    if enterprise is not None:
        result = result[result["enterprise_id"] == enterprise]
    source = ("readings, repaired view (flags' suggested values)" if daily is None else
              "lake, year to date checked: repaired view (flags' suggested values)" if energy == "repaired" else
              "lake daily rollup by point (raw latest revisions)")
    if daily is not None:
        source += f"; {energy_view_of(daily)}"
    meta = quality.provenance().to_dict()
    meta.update(method="citycarbon.monitoring.alerts", parameters={
        **meta["parameters"], "alert_rules": load_alert_rules().values, "energy_source": source})
    meta["estimates"] += ["alert_rules.yaml: thresholds marked estimate"]
    return AlertsReport(day.strftime("%Y-%m-%d"), now, source, meta, result)


@dataclass(frozen=True)
class ScoreReport:
    """Precision and recall of the quality rules per fault kind over a window."""

    start: pd.Timestamp
    now: pd.Timestamp
    enterprises: int
    flags: int
    scores: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "now": self.now.isoformat(), "enterprises": self.enterprises,
                "flags": self.flags, "scores": frame_records(self.scores)}


def score_rules(registry: Any, truth: pd.DataFrame, *, lake: Path, readings: Path | None, start: pd.Timestamp,
                now: pd.Timestamp, chunk: int = 50, progress: Progress | None = None) -> ScoreReport:
    """Score the quality rules against a simulated city's ``truth`` in ``[start, now]``, enterprises checked
    ``chunk`` at a time (a large city fits in memory); ``progress`` counts the enterprises checked."""
    from citycarbon.monitoring import quality
    from citycarbon.monitoring.lake import read_readings

    ids = list(registry.enterprises["enterprise_id"])
    everything = read_readings_files(readings, None, None) if readings is not None else None
    found = []
    report = or_silent(progress)
    report(0, len(ids), "")
    for k in range(0, len(ids), chunk):
        part = ids[k:k + chunk]
        points = set(registry.points.loc[registry.points["enterprise_id"].isin(part), "point_id"])
        if everything is not None:
            frame = everything[everything["point_id"].astype(str).isin(points)]
        else:
            frame = read_readings(lake, enterprise=part, latest_revision_only=False)
        # the chunk's own registry: with a window, every registry point without a reading would be a window of
        # gaps (all the other chunks' points), which the check would build and the filter drop
        flags = quality.check(frame, sub_registry(registry, part), now=now, start=start, end=now)
        found.append(flags[flags["point_id"].astype(str).isin(points)][["point_id", "fault_kind", "end"]])
        report(k + len(part), len(ids), str(part[-1]))
    flags = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=["point_id", "fault_kind", "end"])
    return ScoreReport(start, now, len(ids), len(flags), quality.score(flags, truth))


@dataclass(frozen=True)
class NowcastFeed:
    """The key units' monthly energy as the tracking nowcast's ``key_unit_energy_tce`` rows (monthly.csv's
    columns plus ``enterprises``) and the factors the rollup missed."""

    rows: pd.DataFrame
    missing_factors: list[str]


def nowcast_feed(lake: Any, registry: Any, year: int, *, region: str) -> NowcastFeed:
    """Monthly tce (当量值, main meters only) of ``year`` from the lake's rollup, labelled with ``region``."""
    from citycarbon.monitoring.alerts import monthly_energy_for_nowcast
    from citycarbon.monitoring.rollup import rollup

    result = rollup(lake, registry, period="month", by="point", start=f"{year}-01-01", end=f"{year + 1}-01-01")
    return NowcastFeed(monthly_energy_for_nowcast(result.frame, registry, region=region),
                       list(result.missing_factors))
