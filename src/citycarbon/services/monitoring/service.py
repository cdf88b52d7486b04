"""The monitoring service owned by the application (``app.state.monitoring``): caches and every use case the
web pages and the API call, with the caller's scope applied here once.

Caches live on the service object (one per app), never in module globals: the registry of the store (read
again when its version changes), the lake of the settings, the city state per *data state* (the registry
version and the lake ledger's stamps, recomputed at most every :attr:`MonitoringService.min_refresh_seconds`
while only the lake keeps changing, in a background thread while the pages show the previous state), and the
rendered views (a small LRU keyed by the data state).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import InputError, Problem
from citycarbon.services.monitoring.city import City, build_city
from citycarbon.services.monitoring.submissions import (
    IngestOutcome,
    NotFound,
    Sender,
    ingest_payload,
    record_refusal,
    submission_scope,
)

__all__ = ["MonitoringService", "NotFound", "ReadingsPage", "SubmissionsPage"]

log = logging.getLogger("citycarbon.services.monitoring")
T = TypeVar("T")

#: submissions counted for the paging total at most (beyond it the total says "at least"; the pages go on)
SUBMISSIONS_COUNT_LIMIT = 100_000


@dataclass(frozen=True)
class ReadingsPage:
    """A page of the latest revision of each reading (oldest first) and the total."""

    rows: pd.DataFrame
    total: int


@dataclass(frozen=True)
class SubmissionsPage:
    """A page of submissions (newest first); ``total`` is a lower bound when ``total_is_lower_bound``."""

    rows: list[dict[str, Any]]
    total: int
    total_is_lower_bound: bool


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


class MonitoringService:
    """Online monitoring for one deployment: ``settings`` (lake, future margin) and the store ``db``."""

    #: a lake that keeps changing (meters posting every few seconds) is recomputed at most this often
    min_refresh_seconds: float = 60.0
    #: recompute a changing lake in a background thread while the pages keep showing the previous state
    background_refresh: bool = True
    view_cache_size: int = 16

    def __init__(self, settings: Any, db: Any):
        self.settings, self.db = settings, db
        self._lock = threading.Lock()
        self._registry: tuple[tuple[Any, ...], Any, pd.DataFrame] | None = None
        self._city: tuple[tuple[Any, ...], float, City] | None = None
        self._refreshing: threading.Thread | None = None
        self._views: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    # ---- sources ---------------------------------------------------------------------------------

    def registry(self) -> Any | None:
        """The store's registry, read again only when its version changed; None when none was ever imported."""
        from citycarbon.store.monitoring_registry import current_registry

        version, registry = current_registry(self.db)
        if registry is None:
            return None
        stamp = (self.db.key, version)
        with self._lock:
            if self._registry is None or self._registry[0] != stamp:
                from citycarbon.monitoring.ingest import point_table

                self._registry = (stamp, registry, point_table(registry))
            return self._registry[1]

    def _points(self) -> pd.DataFrame | None:
        with self._lock:
            return self._registry[2] if self._registry is not None else None

    def lake(self) -> Any:
        """The lake of the settings (one object: opening it creates the ledger tables)."""
        from citycarbon.monitoring.lake import Lake

        return Lake.for_settings(self.settings)  # one per place and process, opened again if its folder went away

    def data_state(self) -> tuple[Any, ...]:
        """What the pages' content depends on: ``(store, registry version, lake, ledger stamps)`` — one indexed
        query for the registry version, file stamps for the embedded lake ledger."""
        from citycarbon.store.monitoring_registry import registry_version

        lake = Path(self.settings.lake_dir)
        ledger = self.lake().version() if self.settings.lake_ledger_url else \
            (_stamp(lake / "ledger.sqlite"), _stamp(lake / "ledger.sqlite-wal"))  # no query for the embedded default
        return (self.db.key, registry_version(self.db), str(lake), ledger)

    # ---- the city state --------------------------------------------------------------------------

    def city(self) -> City:
        """The cached :class:`City` (see :attr:`min_refresh_seconds`)."""
        state = self.data_state()
        with self._lock:
            cached = self._city
        if cached is not None:
            stamp, built, city = cached
            if stamp == state:
                return city
            if stamp[:2] == state[:2]:  # only the lake changed
                if time.monotonic() - built < self.min_refresh_seconds:
                    return city
                if self.background_refresh and city.has_readings:
                    self._refresh_in_background()
                    return city
        return self._compute()

    def _build(self) -> City:
        from citycarbon.monitoring.lake import Lake

        registry = self.registry()
        lake = self.lake() if registry is not None and Lake.present(self.settings) else None
        city = build_city(registry, lake)
        city.code = self.city_code
        return city

    def _compute(self) -> City:
        state = self.data_state()  # taken before reading: a change committed meanwhile triggers the next refresh
        city = self._build()
        city.stamp = state
        with self._lock:
            self._city = (state, time.monotonic(), city)
        return city

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing is not None and self._refreshing.is_alive():
                return
            self._refreshing = threading.Thread(target=self._refresh, name="monitoring-refresh", daemon=True)
            thread = self._refreshing
        thread.start()

    def _refresh(self) -> None:
        try:
            self._compute()
        except Exception:  # the pages keep the previous state; the next request after the interval tries again
            log.exception("refreshing the monitoring state of %s failed", self.settings.lake_dir)
            with self._lock:
                if self._city is not None:
                    stamp, _built, city = self._city
                    self._city = (stamp, time.monotonic(), city)

    def wait_for_refresh(self, timeout: float | None = None) -> None:
        """Wait for a background refresh (tests, benchmarks)."""
        with self._lock:
            thread = self._refreshing
        if thread is not None:
            thread.join(timeout)

    def clear(self) -> None:
        """Forget every cached state and view (benchmarks of a cold start)."""
        with self._lock:
            self._city, self._registry = None, None
            self._views.clear()

    def view(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """``build()`` once per ``key`` (which holds the data state), kept in a small LRU."""
        with self._lock:
            if key in self._views:
                self._views.move_to_end(key)
                cached: T = self._views[key]
                return cached
        value = build()
        with self._lock:
            self._views[key] = value
            while len(self._views) > self.view_cache_size:
                self._views.popitem(last=False)
        return value

    def recent_readings(self, city: City, enterprise_id: str, days: int) -> pd.DataFrame:
        """The latest ``days`` of one unit's readings up to the city's now (the caller checked its scope)."""
        from citycarbon.monitoring.lake import read_readings

        end = city.as_of
        return read_readings(city.lake, enterprise=enterprise_id, start=end - pd.Timedelta(days=days), end=end,
                             columns=("point_id", "start", "end", "energy", "energy_unit"))

    # ---- scope -----------------------------------------------------------------------------------

    @property
    def city_code(self) -> str:
        """The city whose key units this deployment monitors (the settings' city)."""
        return str(getattr(self.settings, "city", "") or "dalian")

    def require_city(self, principal: Principal) -> None:
        """Refuse (:class:`~citycarbon.errors.Forbidden`) a caller scoped to another city than the monitored one:
        applied by every read and write here, whatever the face."""
        from citycarbon.services.cities import require_city

        require_city(principal, self.city_code)

    def visible_enterprises(self, principal: Principal, registry: Any | None = None) -> pd.DataFrame:
        """The registry's enterprises ``principal`` may read (district users: their regions; enterprises: their
        own); empty without a registry. A caller scoped to another city is refused."""
        self.require_city(principal)
        registry = registry if registry is not None else self.registry()
        if registry is None:
            return pd.DataFrame(columns=["enterprise_id", "region"])
        frame = registry.enterprises
        allowed = [principal.can_read_enterprise(str(e), str(r)) for e, r in zip(frame["enterprise_id"],
                                                                                  frame["region"], strict=True)]
        return frame[allowed]

    def _scope(self, principal: Principal) -> set[str] | None:
        self.require_city(principal)
        return submission_scope(principal, lambda: self.visible_enterprises(principal)["enterprise_id"].astype(str))

    # ---- writes ----------------------------------------------------------------------------------

    def ingest(self, body: bytes | str | dict[str, Any], sender: Sender) -> IngestOutcome:
        """One batch of readings within ``sender``'s scope (see :func:`ingest_payload`); :class:`NotFound` when
        no registry was ever imported; :class:`~citycarbon.monitoring.ingest.BatchRefused` when refused whole;
        :class:`~citycarbon.errors.Forbidden` for a sender scoped to another city."""
        self.require_city(sender.principal)
        registry = self.registry()
        return ingest_payload(self.db, self.lake(), registry, self._points(), body, sender,
                              future_margin=self.settings.monitoring_future_margin)

    def record_refusal(self, sender: Sender, refused: Any) -> int | None:
        return record_refusal(self.db, sender, refused)

    # ---- reads -----------------------------------------------------------------------------------

    def enterprises(self, principal: Principal) -> list[dict[str, Any]]:
        """The key units ``principal`` may see with their count of metering points."""
        self.require_city(principal)
        registry = self.registry()
        if registry is None:
            return []
        frame = self.visible_enterprises(principal, registry)
        points = registry.points.groupby("enterprise_id").size()
        return [{**{k: row[k] for k in ("enterprise_id", "name", "uscc", "industry_code", "region", "tier",
                                        "annual_budget_tce", "budget_year") if k in frame.columns},
                 "points": int(points.get(row["enterprise_id"], 0))} for _, row in frame.iterrows()]

    def readings(self, principal: Principal, *, point_id: str | None, enterprise_id: str | None,
                 start: str | None, end: str | None, offset: int, limit: int) -> ReadingsPage | None:
        """A page of the latest revisions of a point's or an enterprise's readings; None when neither is named
        (an enterprise user's own enterprise is the default); :class:`NotFound` outside the caller's scope."""
        from citycarbon.monitoring.lake import read_readings

        self.require_city(principal)
        registry = self.registry()
        if registry is None:
            return ReadingsPage(pd.DataFrame(), 0)
        if point_id is None and enterprise_id is None and principal.role is Role.enterprise:
            enterprise_id = principal.enterprise_id
        if point_id is None and enterprise_id is None:
            return None
        visible = set(self.visible_enterprises(principal, registry)["enterprise_id"].astype(str))
        points = None
        if point_id is not None:
            owner = registry.points.loc[registry.points["point_id"] == point_id, "enterprise_id"]
            if owner.empty or str(owner.iloc[0]) not in visible:
                raise NotFound("point")
            enterprise_id, points = str(owner.iloc[0]), [point_id]
        elif str(enterprise_id) not in visible:
            raise NotFound("enterprise")
        try:
            frame = read_readings(self.lake(), enterprise=enterprise_id, points=points, start=start, end=end)
        except ValueError as exc:
            raise InputError(Problem(str(exc), field="start/end")) from None
        return ReadingsPage(frame.iloc[offset:offset + limit], len(frame))

    def rollups(self, principal: Principal, *, period: str, by: str, enterprise_id: str | None,
                start: str | None, end: str | None) -> Any | None:
        """The rollup over the enterprises ``principal`` may see (None: nothing to roll up)."""
        from citycarbon.monitoring.registry import Registry
        from citycarbon.monitoring.rollup import rollup

        self.require_city(principal)
        registry = self.registry()
        if registry is None:
            return None
        visible = self.visible_enterprises(principal, registry)
        if enterprise_id is not None:
            if enterprise_id not in set(visible["enterprise_id"].astype(str)):
                raise NotFound("enterprise")
            visible = visible[visible["enterprise_id"].astype(str) == enterprise_id]
        if visible.empty:
            return None
        ids = set(visible["enterprise_id"].astype(str))
        scoped = Registry(visible, registry.points[registry.points["enterprise_id"].astype(str).isin(ids)],
                          registry.products[registry.products["enterprise_id"].astype(str).isin(ids)],
                          timezone=registry.timezone)
        try:
            return rollup(self.lake(), scoped, period=period, by=by, start=start, end=end,  # type: ignore[arg-type]
                          enterprise=enterprise_id, region=None)
        except ValueError as exc:
            raise InputError(Problem(str(exc), field="start/end")) from None

    def submissions(self, principal: Principal, *, enterprise_id: str | None, channel: str | None,
                    status: str | None, offset: int, limit: int) -> SubmissionsPage:
        """Submissions the caller may see (own enterprise, its regions' enterprises, or all), newest first."""
        from citycarbon.store.monitoring_submissions import list_submissions

        with self.db.session() as session:
            rows, total = list_submissions(session, enterprise_ids=self._scope(principal),
                                           enterprise_id=enterprise_id, channel=channel, status=status, limit=limit,
                                           offset=offset, count_limit=SUBMISSIONS_COUNT_LIMIT)
        more = total > SUBMISSIONS_COUNT_LIMIT  # counted up to the limit: "at least" instead of a full count
        shown = offset + len(rows)
        # beyond the limit the pages go on: a full page always links to a next one
        counted = max(SUBMISSIONS_COUNT_LIMIT, shown + (len(rows) == limit)) if more else total
        return SubmissionsPage(rows, counted, more)

    def submission_rejections(self, principal: Principal, submission_id: int, *, offset: int,
                              limit: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A submission the caller may see and a page of its rejected rows; :class:`NotFound` otherwise."""
        from citycarbon.store.monitoring_submissions import get_submission, list_rejections

        with self.db.session() as session:
            submission = get_submission(session, submission_id, enterprise_ids=self._scope(principal))
            if submission is None:
                raise NotFound("submission")
            return submission, list_rejections(session, submission_id, limit=limit, offset=offset)

    def own_tokens(self, principal: Principal) -> list[dict[str, Any]]:
        """The caller's own API tokens (public views: prefix, scope, label, dates; never the secret)."""
        from citycarbon.services import users

        self.require_city(principal)
        return [token.as_dict() for token in users.list_tokens(self.db, principal)]

    def enterprise_submissions(self, enterprise_id: str, *, offset: int, limit: int, first_rejections: int,
                               ledger_ids: list[str],
                               ) -> tuple[list[dict[str, Any]], int, dict[int, list[dict[str, Any]]], set[str]]:
        """An enterprise's submissions page, their first rejected rows, the total, and which of the lake
        batches ``ledger_ids`` have a submission record (for "my submissions")."""
        from citycarbon.store.monitoring_submissions import (
            list_submissions,
            recorded_lake_batches,
            rejections_by_submission,
        )

        with self.db.session() as session:
            rows, total = list_submissions(session, enterprise_ids={enterprise_id}, limit=limit, offset=offset)
            shown = rejections_by_submission(session, [r["id"] for r in rows], first=first_rejections)
            recorded = recorded_lake_batches(session, ledger_ids)
        return rows, total, shown, recorded
