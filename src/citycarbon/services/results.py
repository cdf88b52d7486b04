"""Results computed from the ledger, cached per ledger version: the service the API and the web pages share
(the app owns one, ``app.state.results``).

The ledger version (``citycarbon.store.ledger.version``) changes on every ledger write, e.g. when an import
is approved, so a cached result is never stale: a request reads the current version and asks for
``(version, key)``. The version itself is read from the database at most every :data:`VERSION_TTL` seconds
(one query saved per request under load); a write through this process (:meth:`Results.refresh`, called
after an approval) re-reads it at once, and another process's write is seen within ``VERSION_TTL``.
Computation is single-flight: 50 clients asking for the same missing result
wait for one computation instead of starting 50. Entries of older versions are dropped when a newer version
is seen. Rendered envelopes (bytes) are cached the same way, so a warm answer costs a dictionary lookup.

The energy-project registry (issue 15) changes the wind + solar figure without a ledger write: its version
(:func:`citycarbon.services.projects.energy_projects.registry_version`) is read with the ledger version and is
part of every memo slot, so a registry write invalidates the cached results as a ledger write does (the version
the API reports stays the ledger's).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from citycarbon.datasets import ReferenceDataset
from citycarbon.services.cities import city_rows
from citycarbon.store import ledger

if TYPE_CHECKING:
    from citycarbon.accounting import AccountingResult
    from citycarbon.services.tracking import CityData
    from citycarbon.store.db import Database

__all__ = ["VERSION_TTL", "Results"]

T = TypeVar("T")

#: seconds a ledger version read from the database is trusted before it is read again
VERSION_TTL = 1.0


class Results:
    """Per-ledger-version memo of datasets and computed results for one database and one city."""

    def __init__(self, db: Database, city: str = "dalian"):
        self.db = db
        self.city = city
        self._entries: dict[tuple[int, int, Hashable], Any] = {}
        self._locks: dict[tuple[int, int, Hashable], threading.Lock] = {}
        self._guard = threading.Lock()
        self._latest = (-1, -1)
        self._version: tuple[float, int] | None = None  # (monotonic time read, version)
        self._registry = 0  # the energy-project registry's version, read with the ledger version

    # -- versions -----------------------------------------------------------------------------------
    def version(self) -> int:
        """The current ledger version (a query at most every :data:`VERSION_TTL` seconds)."""
        cached = self._version
        now = time.monotonic()
        if cached is not None and now - cached[0] < VERSION_TTL:
            return cached[1]
        from citycarbon.services.projects.energy_projects import registry_version

        with self.db.session() as session:
            version = int(ledger.version(session))
            try:
                registry = registry_version(session)
            except SQLAlchemyError:  # a database without the registry's table (older schema)
                session.rollback()
                registry = 0
        self._registry = registry
        self._version = (now, version)
        return version

    def known_version(self) -> int | None:
        """The remembered version while it is fresh (no query), else None."""
        cached = self._version
        if cached is not None and time.monotonic() - cached[0] < VERSION_TTL:
            return cached[1]
        return None

    def peek(self, version: int, key: Hashable) -> Any:
        """A cached value or None (never computes, never blocks on a computation)."""
        return self._entries.get((version, self._registry, key))

    def refresh(self) -> int:
        """Forget the remembered version (after a ledger write through this process) and read it again."""
        self._version = None
        return self.version()

    def clear(self) -> None:
        self._version = None
        with self._guard:
            self._entries.clear()
            self._locks.clear()

    def _see(self, stamp: tuple[int, int]) -> None:
        if stamp > self._latest:
            self._latest = stamp
            stale = [key for key in self._entries if (key[0], key[1]) < stamp]
            for key in stale:
                self._entries.pop(key, None)
                self._locks.pop(key, None)

    def memo(self, version: int, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per ``(version, registry version, key)``; concurrent callers wait for the first."""
        stamp = (version, self._registry)
        slot = (*stamp, key)
        with self._guard:
            self._see(stamp)
            if slot in self._entries:
                return cast(T, self._entries[slot])
            lock = self._locks.setdefault(slot, threading.Lock())
        with lock:
            with self._guard:
                if slot in self._entries:
                    return cast(T, self._entries[slot])
            value = compute()
            with self._guard:
                if stamp >= self._latest:
                    self._entries[slot] = value
            return value

    # -- the city's data ------------------------------------------------------------------------------
    def dataset(self, version: int) -> ReferenceDataset:
        """The city's reference dataset as the ledger holds it now."""

        def load() -> ReferenceDataset:
            with self.db.session() as session:
                dataset: ReferenceDataset = ledger.reference_dataset(session, self.city)
            return dataset

        return self.memo(version, "dataset", load)

    def current_dataset(self) -> tuple[tuple[str, int], ReferenceDataset]:
        """``(("ledger", version), dataset)`` of the current version: the loader of the app's pathway service
        (:class:`citycarbon.services.pathways.PathwayService`), so its model follows the ledger."""
        version = self.version()
        return ("ledger", version), self.dataset(version)

    def frame(self, version: int, name: str) -> pd.DataFrame | None:
        """A further ledger table (``monthly``, ``districts``) as a DataFrame, or None when empty."""
        def load() -> pd.DataFrame | None:
            with self.db.session() as session:
                frame = ledger.current_frame(session, name)
                frame = city_rows(frame, name, ledger.city_region(session, self.city))  # never another city's
            return None if frame is None or frame.empty else frame

        return self.memo(version, ("frame", name), load)

    def city_data(self, version: int) -> CityData:
        """Tracking's :class:`~citycarbon.services.tracking.CityData` built from the ledger."""
        from citycarbon.services.tracking import build_city_data

        return self.memo(version, "city_data", lambda: build_city_data(
            self.city, self.dataset(version), self.frame(version, "monthly"), self.frame(version, "districts"),
            platform=True, db=self.db))

    def accounting(self, version: int) -> dict[int, AccountingResult]:
        """Every year's :class:`~citycarbon.accounting.AccountingResult` from the ledger."""
        from citycarbon.services.accounting import account_city_years

        return self.memo(version, "accounting",
                         lambda: account_city_years(None, city=self.city, dataset=self.dataset(version)))

    def warm(self) -> int:
        """Compute the everyday results of the current version (after start-up and after approvals)."""
        version = self.refresh()
        self.accounting(version)
        self.city_data(version)
        return version
