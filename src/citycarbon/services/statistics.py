"""The ledger's rows as a service: what we know now (or knew ``as_of`` a moment) and one value's history, with the
caller's region scope applied here, once (API ``/statistics``; any face that lists ledger rows).

Scope: rows of the city itself are public; a region's detail is seen by city-wide roles (admin, analyst) and by
a district user for its own regions (:meth:`Principal.can_read_region`). Asking for a region one may not see is
:class:`~citycarbon.errors.NotFound` (its existence is not leaked); a listing without ``region`` drops the rows
of regions one may not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, NotFound, Problem
from citycarbon.store import ledger

if TYPE_CHECKING:
    from citycarbon.services.results import Results

__all__ = ["StatisticsPage", "ValueHistory", "list_rows", "value_history"]


@dataclass(frozen=True)
class StatisticsPage:
    """One page of a dataset's rows (plain values, the ledger's columns) and how many rows match in all."""

    rows: list[dict[str, Any]]
    total: int


@dataclass(frozen=True)
class ValueHistory:
    """Every recorded version of one value (oldest first) and the key that names the value."""

    key: dict[str, Any]
    versions: list[dict[str, Any]]


def _aware(moment: datetime | None, field: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InputError(Problem("give a time zone, e.g. 2025-01-31T00:00:00+08:00", field=field,
                                 value=moment.isoformat()))
    return moment


def _city_code(results: Results) -> str:
    return str(results.dataset(results.version()).region)


def _require_city(results: Results, principal: Principal) -> None:
    """A caller scoped to another city than the one ``results`` serves is refused
    (:class:`~citycarbon.errors.Forbidden`)."""
    from citycarbon.services.cities import require_city

    if principal.city is not None:  # an unscoped caller reaches every city
        require_city(principal, str(getattr(results, "city", "")))


def _check_region(results: Results, principal: Principal, region: str) -> None:
    if region != _city_code(results) and not principal.can_read_region(region):
        raise NotFound("region not found")


def list_rows(results: Results, principal: Principal, dataset: str, *, year: int | None = None,
              region: str | None = None, variable: str | None = None, as_of: datetime | None = None,
              page: int = 1, per_page: int = 50) -> StatisticsPage:
    """Current (or ``as_of``, which must carry a time zone) rows of a ledger dataset that ``principal`` may see,
    filtered by year, region and variable, and the ``page``-th ``per_page`` of them."""
    _require_city(results, principal)
    as_of = _aware(as_of, "as_of")
    city = _city_code(results)
    if region is not None:
        _check_region(results, principal, region)
    with results.db.session() as session:
        frame = ledger.current_frame(session, dataset, region=region, as_of=as_of)
    if year is not None:
        frame = frame[frame["year"] == year]
    if variable is not None and "variable" in frame.columns:
        frame = frame[frame["variable"] == variable]
    if not principal.city_wide:
        regions = frame["region"].astype(str)
        visible = {city, *principal.visible_regions(sorted(set(regions)))}
        frame = frame[regions.isin(visible).to_numpy(dtype=bool)]
    rows = frame.iloc[(page - 1) * per_page: page * per_page].to_dict(orient="records")
    return StatisticsPage(rows=[{str(k): v for k, v in row.items()} for row in rows], total=len(frame))


def value_history(results: Results, principal: Principal, dataset: str, *, year: int, region: str,
                  month: int | None = None, dims: dict[str, Any] | None = None) -> ValueHistory:
    """Every recorded version of one value (oldest first): value, unit, status, source, recorded at/by. ``dims``
    names the dataset's further key columns (``flow``, ``sector``, ``variable``, …); a missing one that the
    dataset needs is an :class:`InputError` naming it."""
    _require_city(results, principal)
    _check_region(results, principal, region)
    given = dims or {}
    spec = ledger.spec_for(dataset)
    key: dict[str, Any] = {"year": year, "region": region}
    if spec.monthly:
        if month is None:
            raise InputError(Problem(f"'{dataset}' values are monthly: give month", field="month"))
        key["month"] = month
    for name in spec.dims:
        value = given.get(name)
        if value is None and name not in spec.nullable_dims:
            raise InputError(Problem(f"a '{dataset}' value is named by {', '.join(spec.key_columns)}: give {name}",
                                     field=name))
        key[name] = value
    with results.db.session() as session:
        versions = ledger.history(session, dataset, key)
    return ValueHistory(key=key, versions=versions)
