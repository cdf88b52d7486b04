"""Rollups of the meter lake: hourly, daily, monthly energy, tce and CO2 by point, enterprise, industry, district.

Two stages, so that the DuckDB and the Dask engine give the same answer:

1. **Scan** (engine-specific, the heavy part): the latest revision of every reading (a row is dropped when
   the same point and interval end has a higher revision), summed per ``(point_id, local period)``, where
   the period is the LOCAL hour/day/month of the interval's ``start`` (the registry's time zone, default
   Asia/Shanghai; national indicators use local days and months). DuckDB SQL over ``read_parquet`` of the
   committed parts, or ``dask.dataframe`` over the same files on a distributed cluster.
2. **Attribute** (shared, pandas, small): join the registry (enterprise, industry, district) and convert the
   energy sums with factor rows. Above point level only main meters of energy are added up: sub-meters
   (non-empty ``parent_point_id``) are part of their main meter's energy and ``product_output`` points count
   product, not energy (``by="point"`` still lists every point). The conversion uses factor rows — the same
   rows and options the accounting engine uses (:mod:`citycarbon.accounting.conversion`,
   ``AccountingOptions.for_city``):

   * tce by the calorific method (当量值: GB/T 2589 ``standard_coal`` rows; the electricity 当量值 row)
     and by the coal-equivalent method (发电煤耗法: electricity at the year's ``coal_rate`` row);
   * CO2: fuels by NCV × CC × OF × 44/12 (``FactorTable.fuel_co2_factor``, the options' factor set),
     electricity by the grid factor (options' set and region, with its fallback region), heat by the
     ``heat_ef`` row, steam as heat of its calorific content (tce × 29.307 GJ/tce, a unit conversion);
     non-fossil types 0. A missing factor leaves the value empty and is listed in the provenance.

Factors are looked up for the year of each local period (the factor table's fallback rules apply).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from citycarbon.accounting.conversion import coal_factors, electricity_factor
from citycarbon.accounting.options import AccountingOptions
from citycarbon.codelists import fuel_table
from citycarbon.errors import InputError, Problem
from citycarbon.factors import FactorNotFound, FactorRow, FactorTable, load_factors
from citycarbon.monitoring.lake import Lake
from citycarbon.provenance import Provenance
from citycarbon.units import conversion_factor, product_factor

__all__ = ["LEVELS", "PERIODS", "RollupResult", "energy_factors", "rollup", "scan_duckdb"]

Period = Literal["hour", "day", "month"]
PERIODS: tuple[str, ...] = ("hour", "day", "month")
LEVELS: dict[str, tuple[str, ...]] = {
    "point": ("point_id", "enterprise_id"),
    "enterprise": ("enterprise_id",),
    "industry": ("industry_code",),
    "district": ("region",),
    "city": (),
}
SCAN_COLUMNS = ("point_id", "period", "energy", "energy_n", "readings")
_PERIOD_FORMAT = {"hour": "%Y-%m-%dT%H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}
METHOD = "citycarbon.monitoring.rollup"


@dataclass
class RollupResult:
    frame: pd.DataFrame
    provenance: Provenance
    missing_factors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"meta": self.provenance.to_dict() | {"missing_factors": self.missing_factors},
                "data": self.frame.to_dict(orient="records")}


# ---------------------------------------------------------------------------------------------------
# Stage 1: scans


def _timezone_offset(timezone: str, lo: str, hi: str) -> int | None:
    """Whole minutes of ``timezone``'s UTC offset if it is constant over months ``lo``..``hi``, else None."""
    from citycarbon.monitoring.aggregates import constant_offset_minutes

    return constant_offset_minutes(timezone, lo, hi)


def _select_parts(lake: Lake, enterprises: list[str] | None, start: pd.Timestamp | None,
                  end: pd.Timestamp | None) -> tuple[list[str], int, tuple[str, str] | None]:
    lo = (start - pd.Timedelta(days=1)).strftime("%Y-%m") if start is not None else None
    hi = (end + pd.Timedelta(days=1)).strftime("%Y-%m") if end is not None else None
    parts = lake.parts(enterprises=enterprises, months=(lo, hi))
    root = str(lake.root)  # plain text joins: pathlib costs ~40 µs a path, a large lake has thousands of parts
    paths = [f"{root}/{p.path}" for p in parts]
    revised = sum(p.revised_rows for p in parts)
    months = (min(p.month for p in parts), max(p.month for p in parts)) if parts else None
    return paths, revised, months


_local_duckdb = threading.local()


def _duckdb(threads: int | None = None):
    """This thread's DuckDB connection (opening one costs ~15 ms, a small rollup less than that)."""
    import duckdb

    con = getattr(_local_duckdb, "con", None)
    if con is None:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        _local_duckdb.con = con
    if getattr(_local_duckdb, "threads", None) != threads:  # change the setting only when asked for another
        con.execute(f"SET threads = {int(threads)}" if threads else "RESET threads")
        _local_duckdb.threads = threads
    return con


def _empty_scan() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
        SCAN_COLUMNS, ("object", "datetime64[ns]", "float64", "int64", "int64"), strict=True)})


def _aligned(value: pd.Timestamp | None, unit_us: int, offset_minutes: int = 0) -> bool:
    """Whether ``value`` (UTC) starts a bucket of ``unit_us`` in local time ``offset_minutes`` east of UTC."""
    if value is None:
        return True
    local_us = value.value // 1000 + offset_minutes * 60_000_000
    return local_us % unit_us == 0


def _aggregates_usable(lake: Lake, period: str, offset: int | None, start: pd.Timestamp | None,
                       end: pd.Timestamp | None) -> bool:
    """Whether the lake's aggregates give this scan exactly (else the readings are scanned)."""
    from citycarbon.monitoring.aggregates import DAY_US, HOUR_US

    if offset is None or offset % 60 or not lake.aggregates_current():
        return False
    day_offset = lake.aggregates_day_offset()
    if day_offset is None:  # hourly files only
        return _aligned(start, HOUR_US) and _aligned(end, HOUR_US)
    # compacted files sum by local day at day_offset: days and months in that offset, bounds on local days
    return period != "hour" and offset == day_offset and _aligned(start, DAY_US, offset) \
        and _aligned(end, DAY_US, offset)


def scan_duckdb(lake: Lake, *, period: Period, timezone: str, enterprises: list[str] | None = None,
                points: list[str] | None = None, start: pd.Timestamp | None = None,
                end: pd.Timestamp | None = None, threads: int | None = None,
                source: Literal["auto", "readings", "aggregates"] = "auto") -> pd.DataFrame:
    """Stage 1 with DuckDB: energy per (point_id, local period start) over the latest revisions.

    ``source="auto"`` reads the lake's hourly aggregates (:mod:`citycarbon.monitoring.aggregates`) when they are
    current, the time zone's offset is a constant whole number of hours over the months read and the bounds
    fall on whole hours; otherwise it scans the readings. Both give the same sums (up to float rounding).
    """
    paths, revised, months = _select_parts(lake, enterprises, start, end)
    if not paths:
        return _empty_scan()
    offset = _timezone_offset(timezone, *months) if months else None
    usable = _aggregates_usable(lake, period, offset, start, end)
    if source == "aggregates" and not usable:
        raise InputError(Problem(f"the lake's aggregates cannot give {period} sums in {timezone} for these "
                                 "bounds (not current, another offset, or bounds inside a bucket)", field="source"))
    if source != "readings" and usable:
        frame = _scan_aggregates(lake, period=period, offset=offset, enterprises=enterprises, points=points,
                                 start=start, end=end, threads=threads)
        frame.attrs["source"] = "aggregates"
        return frame
    where: list[str] = ["TRUE"]
    params: dict[str, object] = {"paths": paths}

    def param(value: object) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return f"${name}"

    if start is not None:
        where.append(f"start >= {param(start.isoformat())}::TIMESTAMPTZ")
    if end is not None:
        where.append(f"start < {param(end.isoformat())}::TIMESTAMPTZ")
    if enterprises is not None:
        where.append(f"enterprise_id IN ({', '.join(param(e) for e in enterprises)})")
    if points is not None:
        where.append(f"point_id IN ({', '.join(param(p) for p in points)})")
    source = ("(SELECT point_id, start, \"end\", revision, energy FROM read_parquet($paths, "
              f"hive_partitioning = true, hive_types_autocast = false) WHERE {' AND '.join(where)})")
    if revised:
        body = (f"WITH src AS {source}, "
                "top AS (SELECT point_id, \"end\", max(revision) AS top FROM src WHERE revision > 0 GROUP BY ALL) "
                "SELECT src.* FROM src LEFT JOIN top USING (point_id, \"end\") "
                "WHERE top.top IS NULL OR src.revision = top.top")
    else:
        body = f"SELECT * FROM {source}"
    if offset is not None:
        # a constant offset: bucket on integers (local hour or day number from epoch microseconds), then
        # truncate the few buckets; casting TIMESTAMPTZ per row goes through ICU and is several times slower
        unit = 3_600_000_000 if period == "hour" else 86_400_000_000
        sql = (f"SELECT point_id, date_trunc('{period}', make_timestamp(bucket * {unit})) AS period, "
               "sum(energy) AS energy, sum(energy_n) AS energy_n, sum(readings) AS readings FROM ("
               f"SELECT point_id, (epoch_us(start) + {offset * 60_000_000}) // {unit} AS bucket, "
               "coalesce(sum(energy), 0) AS energy, count(energy) AS energy_n, count(*) AS readings "
               f"FROM ({body}) GROUP BY ALL) GROUP BY ALL")
    else:
        sql = (f"SELECT point_id, date_trunc('{period}', timezone('{timezone}', start)) AS period, "
               "coalesce(sum(energy), 0) AS energy, count(energy) AS energy_n, count(*) AS readings "
               f"FROM ({body}) GROUP BY ALL")
    table = _duckdb(threads).execute(sql, params).to_arrow_table()
    frame = table.to_pandas()
    frame["period"] = frame["period"].astype("datetime64[ns]")
    for column in ("energy_n", "readings"):  # sums of counts come back as HUGEINT (Python ints)
        frame[column] = frame[column].astype("int64")
    frame.attrs["source"] = "readings"
    return frame


def _scan_aggregates(lake: Lake, *, period: Period, offset: int, enterprises: list[str] | None,
                     points: list[str] | None, start: pd.Timestamp | None, end: pd.Timestamp | None,
                     threads: int | None) -> pd.DataFrame:
    """Stage 1 from the aggregates (hourly files of recent batches, daily files of compacted months): one
    GROUP BY over a quarter (hourly, 15-min meters) to a 96th (daily) of the readings."""
    lo = (start - pd.Timedelta(days=1)).strftime("%Y-%m") if start is not None else None
    hi = (end + pd.Timedelta(days=1)).strftime("%Y-%m") if end is not None else None
    paths = lake.aggregate_paths(enterprises=enterprises, months=(lo, hi))
    if not paths:
        return _empty_scan()
    params: dict[str, object] = {"paths": paths}
    where = ["TRUE"]
    if start is not None:
        where.append("hour >= $lo::TIMESTAMPTZ")
        params["lo"] = start.isoformat()
    if end is not None:
        where.append("hour < $hi::TIMESTAMPTZ")
        params["hi"] = end.isoformat()
    for name, values in (("enterprise_id", enterprises), ("point_id", points)):
        if values is not None:
            names = []
            for value in values:
                names.append(f"$v{len(params)}")
                params[names[-1][1:]] = value
            where.append(f"{name} IN ({', '.join(names)})")
    local = f"epoch_us(hour) + {offset * 60_000_000}"
    bucket = {"hour": f"make_timestamp({local})",
              "day": f"make_timestamp(({local}) // 86400000000 * 86400000000)",
              "month": f"date_trunc('month', make_timestamp(({local}) // 86400000000 * 86400000000))"}[period]
    sql = (f"SELECT point_id, {bucket} AS period, sum(energy) AS energy, sum(energy_n) AS energy_n, "
           "sum(readings) AS readings FROM read_parquet($paths, hive_partitioning = false) "
           f"WHERE {' AND '.join(where)} GROUP BY ALL HAVING sum(readings) <> 0")
    frame = _duckdb(threads).execute(sql, params).to_arrow_table().to_pandas()
    frame["period"] = frame["period"].astype("datetime64[ns]")
    for column in ("energy_n", "readings"):
        frame[column] = frame[column].astype("int64")
    frame["energy"] = frame["energy"].astype(float)
    return frame[list(SCAN_COLUMNS)]


def scan_dask(lake: Lake, *, period: Period, timezone: str, scheduler: str | None = None,
              enterprises: list[str] | None = None, points: list[str] | None = None,
              start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Stage 1 with ``dask.dataframe`` over the same Parquet parts (on ``scheduler`` if given)."""
    import dask.dataframe as dd

    paths, revised, _ = _select_parts(lake, enterprises, start, end)
    if not paths:
        return scan_duckdb(lake, period=period, timezone=timezone, enterprises=["\0none"])
    columns = ["point_id", "enterprise_id", "start", "end", "revision", "energy"]
    meta = _read_part(None, columns)
    # one partition per committed part (dd.from_map over pyarrow; the same files DuckDB reads)
    frame = dd.from_map(_read_part, paths, columns=columns, meta=meta, label="lake-part")
    if start is not None:
        frame = frame[frame["start"] >= start]
    if end is not None:
        frame = frame[frame["start"] < end]
    if enterprises is not None:
        frame = frame[frame["enterprise_id"].isin(enterprises)]
    if points is not None:
        frame = frame[frame["point_id"].isin(points)]
    client = None
    if scheduler:
        from distributed import Client

        client = Client(scheduler, set_as_default=False)
    try:
        compute = client.compute if client is not None else None

        def run(collection):
            if compute is None:
                return collection.compute()
            return compute(collection).result()

        if revised:
            top = run(frame[frame["revision"] > 0].groupby(["point_id", "end"])["revision"].max())
            top = top.rename("top").reset_index()
            frame = frame.map_partitions(_drop_superseded, top, meta=frame._meta)
        frame = frame.map_partitions(_with_period, period, timezone,
                                     meta=frame._meta.assign(period=pd.Series(dtype="datetime64[ns]"),
                                                             energy_n=pd.Series(dtype="int64")))
        grouped = frame.groupby(["point_id", "period"]).agg(
            energy=("energy", "sum"), energy_n=("energy_n", "sum"), readings=("revision", "count"))
        result = run(grouped).reset_index()
    finally:
        if client is not None:
            client.close()
    result["energy"] = result["energy"].astype(float)
    return result[list(SCAN_COLUMNS)]


def _read_part(path: str | None, columns: list[str]) -> pd.DataFrame:
    """One Parquet part as pandas (``None``: the empty frame with the lake's types, Dask's ``meta``)."""
    import pyarrow.parquet as pq

    from citycarbon.monitoring.lake import SCHEMA

    table = SCHEMA.empty_table().select(columns) if path is None else pq.read_table(path, columns=columns)
    frame = table.to_pandas()
    for column in ("start", "end"):
        if column in frame.columns:
            frame[column] = frame[column].astype("datetime64[ns, UTC]")
    return frame


def _drop_superseded(part: pd.DataFrame, top: pd.DataFrame) -> pd.DataFrame:
    merged = part.merge(top, on=["point_id", "end"], how="left")
    keep = merged["top"].isna().to_numpy() | (merged["revision"].to_numpy() == merged["top"].to_numpy())
    return part[keep]


def _with_period(part: pd.DataFrame, period: str, timezone: str) -> pd.DataFrame:
    local = part["start"].dt.tz_convert(timezone).dt.tz_localize(None)
    if period == "month":
        floored = local.dt.to_period("M").dt.start_time
    else:
        floored = local.dt.floor("h" if period == "hour" else "D")
    return part.assign(period=floored.astype("datetime64[ns]"), energy=part["energy"].fillna(0.0),
                       energy_n=part["energy"].notna().astype("int64"))


# ---------------------------------------------------------------------------------------------------
# Stage 2: factors and attribution


def _region_row(table: FactorTable, kind: str, key: str, year: int, factor_set: str | None,
                regions: tuple[str, ...]) -> FactorRow:
    """The factor row of the first region that has one (as the accounting engine looks up grid factors)."""
    return table.lookup_first(kind, key, year, factor_set=factor_set, regions=regions)


def energy_factors(types: list[str], years: list[int], options: AccountingOptions,
                   table: FactorTable | None = None) -> tuple[pd.DataFrame, dict[str, FactorRow], list[str]]:
    """Per (energy_type, year): tce (calorific, coal-equivalent) and t CO2 per canonical unit.

    Returns the factor frame, the rows used (by id) and the missing factors (as readable strings).
    """
    from citycarbon.monitoring.registry import energy_types

    table = table or load_factors()
    catalogue = energy_types()
    fuels = fuel_table()
    used: dict[str, FactorRow] = {}
    missing: list[str] = []
    records = []
    calorific = options.model_copy(update={"method": "calorific"})
    coal_equivalent = options.model_copy(update={"method": "coal-equivalent"})
    for etype in types:
        info = catalogue.loc[etype] if etype in catalogue.index else None
        unit = str(info["canonical_unit"]) if info is not None else ""
        is_energy = bool(info["is_energy"]) if info is not None else False
        for year in years:
            record = {"energy_type": etype, "year": year, "tce_cal": math.nan, "tce_ceq": math.nan,
                      "co2": math.nan}
            if not is_energy:
                records.append(record)
                continue
            try:
                record["tce_cal"], record["tce_ceq"] = _tce_per_unit(etype, unit, year, table, calorific,
                                                                     coal_equivalent, fuels, info, used)
            except (FactorNotFound, InputError) as exc:
                missing.append(f"tce {etype} {year}: {exc}")
            try:
                record["co2"] = _co2_per_unit(etype, unit, year, table, options, fuels, record["tce_cal"], used)
            except (FactorNotFound, InputError) as exc:
                missing.append(f"CO2 {etype} {year}: {exc}")
            records.append(record)
    frame = pd.DataFrame(records, columns=["energy_type", "year", "tce_cal", "tce_ceq", "co2"])
    return frame, used, missing


def _tce_per_unit(etype: str, unit: str, year: int, table: FactorTable, calorific: AccountingOptions,
                  coal_equivalent: AccountingOptions, fuels: pd.DataFrame, info: pd.Series | None,
                  used: dict[str, FactorRow]) -> tuple[float, float]:
    is_electric = etype in fuels.index and (etype == "electricity" or bool(fuels.at[etype, "primary_electricity"]))
    if is_electric:
        values = []
        for options in (calorific, coal_equivalent):
            factor = electricity_factor(table, year, options)
            used[factor.row.factor_id] = factor.row
            values.append(factor.value * product_factor(unit, factor.unit, "tce"))
        return values[0], values[1]
    if etype in fuels.index:
        factor = coal_factors([etype], year, table, calorific, {etype: {unit}})[etype]
        if factor.row is not None:
            used[factor.row.factor_id] = factor.row
            value = factor.value * product_factor(unit, factor.unit, "tce")
        else:
            value = product_factor(unit, "dimensionless", "tce")
        return value, value
    row_id = None if info is None else info.get("standard_coal_factor")
    if row_id is None or (isinstance(row_id, float) and math.isnan(row_id)) or not str(row_id).strip():
        raise InputError(Problem(f"no standard-coal factor row for energy type '{etype}'", field="energy_type"))
    row = table.row(str(row_id))
    used[row.factor_id] = row
    value = row.value * product_factor(unit, row.unit, "tce")
    return value, value


def _co2_per_unit(etype: str, unit: str, year: int, table: FactorTable, options: AccountingOptions,
                  fuels: pd.DataFrame, tce_cal: float, used: dict[str, FactorRow]) -> float:
    if etype in fuels.index and fuels.at[etype, "group"] == "non_fossil":
        return 0.0
    if etype == "electricity":
        row = _region_row(table, "grid_ef", "electricity", year, options.grid_ef_set,
                          (options.grid_region, options.grid_region_fallback))
        used[row.factor_id] = row
        return row.value * product_factor(unit, row.unit, "t")
    if etype in ("heat", "steam"):
        row = table.lookup("heat_ef", "heat", year, factor_set=options.heat_ef_set)
        used[row.factor_id] = row
        per_gj = row.value * product_factor("GJ", row.unit, "t")
        if etype == "heat":
            return per_gj * conversion_factor(unit, "GJ")
        return per_gj * tce_cal * conversion_factor("tce", "GJ")
    derived = table.fuel_co2_factor(etype, year, factor_set=options.co2_factor_set)
    for row in derived.rows:
        used[row.factor_id] = row
    return derived.value * product_factor(unit, derived.unit, "t")


def _local(value: object, timezone: str) -> pd.Timestamp | None:
    """A bound given as a date/datetime: naive values are local times in ``timezone``."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(timezone)
    return ts.tz_convert("UTC")


def rollup(lake: Lake | str | Path, registry: object, *, period: Period = "month", by: str = "enterprise",
           enterprise: str | None = None, region: str | None = None, start: object = None, end: object = None,
           engine: Literal["duckdb", "dask"] = "duckdb", scheduler: str | None = None,
           timezone: str | None = None, options: AccountingOptions | None = None,
           city: str = "dalian", source: Literal["auto", "readings", "aggregates"] = "auto") -> RollupResult:
    """Energy, tce (both methods) and CO2 per local ``period`` and ``by`` level, per energy type.

    ``enterprise`` / ``region`` (GB/T 2260; a city code ``xxxx00`` covers its districts) narrow the
    enterprises; ``start``/``end`` bound the interval starts (naive = local time). ``engine='dask'`` runs
    stage 1 on ``scheduler`` (or in-process without one) with results identical to DuckDB's. ``source`` picks
    what the DuckDB engine reads (see :func:`scan_duckdb`); the provenance names what it read.
    """
    if source not in ("auto", "aggregates", "readings"):
        raise InputError(Problem(f"unknown source '{source}' (auto, aggregates or readings)", field="source"))
    if period not in PERIODS:
        raise InputError(Problem(f"unknown period '{period}' (one of {', '.join(PERIODS)})", field="period"))
    if by not in LEVELS:
        raise InputError(Problem(f"unknown level '{by}' (one of {', '.join(LEVELS)})", field="by"))
    lake = lake if isinstance(lake, Lake) else Lake.open(lake)
    timezone = timezone or getattr(registry, "timezone", None) or "Asia/Shanghai"
    options = options or _city_options(city)
    chosen = _registry_attributes(registry).enterprises  # enterprise id, industry, region as text
    if enterprise is not None:
        chosen = chosen[chosen["enterprise_id"] == str(enterprise)]
        if chosen.empty:
            raise InputError(Problem(f"unknown enterprise '{enterprise}'", field="enterprise", value=enterprise))
    if region is not None:
        chosen = chosen[_in_region(chosen["region"], str(region))]
    # only the registry's (or the chosen) enterprises are attributed; no filter when that is the whole lake
    wanted, stored = set(chosen["enterprise_id"]), lake.enterprises()
    everything = enterprise is None and region is None and stored <= wanted
    ids: list[str] | None = None if everything else sorted(wanted & stored)
    lo, hi = _local(start, timezone), _local(end, timezone)
    if ids == []:
        scanned = scan_duckdb(lake, period=period, timezone=timezone, enterprises=["\0none"])
    elif engine == "dask":
        scanned = scan_dask(lake, period=period, timezone=timezone, scheduler=scheduler, enterprises=ids,
                            start=lo, end=hi)
    elif engine == "duckdb":
        scanned = scan_duckdb(lake, period=period, timezone=timezone, enterprises=ids, start=lo, end=hi,
                              source=source)
    else:
        raise InputError(Problem(f"unknown engine '{engine}' (duckdb or dask)", field="engine"))
    frame, used, missing = attribute(scanned, registry, period=period, by=by, options=options)
    provenance = Provenance(
        method=METHOD, method_version="1",
        standards=["GB/T 2589-2020 (calorific 当量值)", "NBS 发电煤耗法 (coal-equivalent)",
                   "IPCC 2006 Vol.2 Eq. 2.1 / 省级温室气体清单编制指南 (fuel CO2)", "MEE/NBS grid factors"],
        factors=[row.to_dict() for row in used.values()],
        parameters={"period": period, "by": by, "enterprise": enterprise, "region": region,
                    "timezone": timezone, "engine": engine, "start": None if lo is None else lo.isoformat(),
                    "end": None if hi is None else hi.isoformat(), "options": options.model_dump(mode="json"),
                    "latest_revision_only": True, "read": scanned.attrs.get("source", "readings")},
        estimates=sorted({row.factor_id for row in used.values() if row.status == "estimate"}))
    return RollupResult(frame, provenance, missing)


@lru_cache(maxsize=8)
def _city_options(city: str) -> AccountingOptions:
    """The city's accounting options (read once per process; the rollup runs often)."""
    return AccountingOptions.for_city(city)


def _in_region(regions: pd.Series, code: str) -> pd.Series:
    if code.endswith("0000"):
        return regions.str[:2] == code[:2]
    if code.endswith("00"):
        return regions.str[:4] == code[:4]
    return regions == code


@lru_cache(maxsize=64)
def _energy_factors_cached(types: tuple[str, ...], years: tuple[int, ...], options_json: str
                           ) -> tuple[pd.DataFrame, dict[str, FactorRow], list[str]]:
    """:func:`energy_factors` on the shipped factor table (read once per process, immutable), memoised: a rollup
    runs often with the same types, years and options."""
    return energy_factors(list(types), list(years), AccountingOptions.model_validate_json(options_json))


_ATTRIBUTES: dict[tuple[int, int], tuple[tuple, _Lookup]] = {}
_LOOKUP_COLUMNS = ("enterprise_id", "energy_type", "parent_point_id", "industry_code", "region", "energy_unit")


@dataclass(frozen=True)
class _Lookup:
    """A registry's attributes by point, built once per registry object: ``index`` of point ids and, per
    attribute, an object array with one extra last slot for a point the registry does not know (empty
    attributes; its row is kept: its energy is in the lake, it is not silently dropped)."""

    index: pd.Index
    columns: dict[str, np.ndarray]
    counted: np.ndarray
    enterprises: pd.DataFrame


def _registry_attributes(registry: object) -> _Lookup:
    """The registry's point and enterprise attributes as text, built once per registry object (the web and API
    keep one registry object per version, so each rollup does not rebuild thousands of rows)."""
    points_frame = registry.points  # type: ignore[attr-defined]
    enterprises_frame = registry.enterprises  # type: ignore[attr-defined]
    key = (id(points_frame), id(enterprises_frame))
    cached = _ATTRIBUTES.get(key)
    if cached is not None and cached[0][0] is points_frame and cached[0][1] is enterprises_frame:
        return cached[1]
    from citycarbon.monitoring.registry import energy_types

    points = _point_attributes(points_frame)
    enterprises = enterprises_frame[["enterprise_id", "industry_code", "region"]].astype(str)
    by_enterprise = enterprises.drop_duplicates("enterprise_id").set_index("enterprise_id")
    for column in ("industry_code", "region"):
        points[column] = points["enterprise_id"].map(by_enterprise[column])
    points["energy_unit"] = points["energy_type"].map(energy_types()["canonical_unit"])
    points = points.drop_duplicates("point_id")
    columns = {c: np.append(points[c].to_numpy(dtype=object), np.nan) for c in _LOOKUP_COLUMNS}
    counted = np.append(_counted_above_point(points), True)
    lookup = _Lookup(pd.Index(points["point_id"].to_numpy(dtype=object)), columns, counted, enterprises)
    if len(_ATTRIBUTES) > 8:
        _ATTRIBUTES.clear()
    _ATTRIBUTES[key] = ((points_frame, enterprises_frame), lookup)
    return lookup


def _point_attributes(points: pd.DataFrame) -> pd.DataFrame:
    """``point_id, enterprise_id, energy_type, parent_point_id`` as text (an empty parent: a main meter)."""
    parent = points["parent_point_id"] if "parent_point_id" in points.columns else \
        pd.Series("", index=points.index)
    return pd.DataFrame({"point_id": points["point_id"].astype(str).to_numpy(dtype=object),
                         "enterprise_id": points["enterprise_id"].astype(str).to_numpy(dtype=object),
                         "energy_type": points["energy_type"].astype(str).to_numpy(dtype=object),
                         "parent_point_id": parent.fillna("").astype(str).str.strip().to_numpy(dtype=object)})


def _counted_above_point(frame: pd.DataFrame) -> np.ndarray:
    """Rows that an enterprise, industry, district or city total adds up: main meters of energy.

    A sub-meter (non-empty ``parent_point_id``) measures part of its main meter's energy (GB 17167 metering
    hierarchy), so adding it would count that energy twice; a point of an energy type that is not energy
    (``is_energy`` false in ``data/monitoring/energy_types.csv``: ``product_output``) counts product, not energy.
    A point missing from the registry keeps its row (its energy is in the lake; it is not silently dropped).
    """
    from citycarbon.monitoring.registry import energy_types

    is_energy = energy_types()["is_energy"].astype(str).str.lower().isin(("true", "1"))
    energy = frame["energy_type"].map(is_energy).fillna(frame["energy_type"].isna()).astype(bool)
    main = frame["parent_point_id"].fillna("").eq("")
    return (main & energy).to_numpy()


def attribute(scanned: pd.DataFrame, registry: object, *, period: str, by: str,
              options: AccountingOptions) -> tuple[pd.DataFrame, dict[str, FactorRow], list[str]]:
    """Stage 2: registry join, factor conversion and grouping of a stage-1 scan.

    The registry's attributes come by position from a per-registry lookup (no merges), the factors by
    (energy type, year) pair, and one group-by sums everything: one enterprise's year is a few hundred rows, so
    the fixed cost of each pandas step is what counts.
    """
    lookup = _registry_attributes(registry)
    keys = list(LEVELS[by])
    columns = ["period", *keys, "energy_type", "energy", "energy_unit", "readings", "tce_calorific",
               "tce_coal_equivalent", "co2_t"]
    if scanned.empty:
        return pd.DataFrame(columns=columns), {}, []
    position = lookup.index.get_indexer(scanned["point_id"].to_numpy(dtype=object))
    position[position < 0] = len(lookup.index)  # the registry's empty slot
    if by != "point":
        keep = lookup.counted[position]
        if not keep.any():
            return pd.DataFrame(columns=columns), {}, []
        if not keep.all():
            scanned, position = scanned[keep], position[keep]
    periods = scanned["period"]
    energy = scanned["energy"].to_numpy(dtype=float)
    types = lookup.columns["energy_type"][position]
    years = periods.dt.year.to_numpy()
    present = sorted({str(t) for t in pd.unique(types) if isinstance(t, str)})
    factors, used, missing = _energy_factors_cached(tuple(present), tuple(sorted(set(years.tolist()))),
                                                    options.model_dump_json())
    used, missing = dict(used), list(missing)  # the memo's own objects stay untouched
    converted = {"tce_calorific": np.full(energy.size, np.nan), "tce_coal_equivalent": np.full(energy.size, np.nan),
                 "co2_t": np.full(energy.size, np.nan)}
    for row in factors.itertuples(index=False):  # a handful of (type, year) pairs
        mask = (types == row.energy_type) & (years == row.year)
        if mask.any():
            for column, factor in (("tce_calorific", row.tce_cal), ("tce_coal_equivalent", row.tce_ceq),
                                   ("co2_t", row.co2)):
                converted[column][mask] = energy[mask] * factor
    frame = pd.DataFrame({"period": periods.to_numpy(),
                          **{k: lookup.columns[k][position] if k != "point_id" else
                             scanned["point_id"].to_numpy(dtype=object) for k in keys},
                          "energy_type": types, "energy_unit": lookup.columns["energy_unit"][position],
                          "energy": energy, "energy_n": scanned["energy_n"].to_numpy(),
                          "readings": scanned["readings"].to_numpy(), **converted})
    group = ["period", *keys, "energy_type", "energy_unit"]
    # every row of a group has the same type and year, so a converted column is either all empty (no factor:
    # the sum stays empty, not 0) or has no empty value; energy and counts are never empty
    out = frame.groupby(group, dropna=False, sort=True).sum(min_count=1).reset_index()
    no_energy = out["energy_n"].to_numpy() == 0
    if no_energy.any():
        for column in ("energy", "tce_calorific", "tce_coal_equivalent", "co2_t"):
            out.loc[no_energy, column] = np.nan
    out["period"] = out["period"].dt.strftime(_PERIOD_FORMAT[period])
    out["readings"] = out["readings"].astype("int64")
    return out[columns], used, missing
