"""Where the cockpit's figures come from: the service functions, cached per data version.

The pages never compute anything themselves: they call :mod:`citycarbon.services` (tracking, accounting,
decomposition) and :mod:`citycarbon.sinks` in-process and keep the results per *data version*.

* Inside the platform (``create_app``), the data are the store's ledger and the cache is the API's
  :class:`citycarbon.services.results.Results` (``app.state.results``): one memo per ledger version shared by the
  API and the pages, so an approved import changes both at once.
* Without a store (a bare ``FastAPI()`` + ``mount``, tools), the shipped reference files of the city are used
  and the version is 0 (they do not change at run time).

A request takes one :class:`Snapshot` (one version query) and reads everything through it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from citycarbon.errors import InputError, Problem


class DataSource:
    """The city's data as the services see it, and a version that changes whenever the data change."""

    def __init__(self, city: str = "dalian", results: Any = None):
        self.city = city
        self.results = results
        self._memo: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def version(self) -> int:
        return int(self.results.version()) if self.results is not None else 0

    def snapshot(self) -> Snapshot:
        return Snapshot(self, self.version())

    def memo(self, version: int, key: Hashable, compute: Callable[[], Any]) -> Any:
        if self.results is not None:
            return self.results.memo(version, ("web", *key) if isinstance(key, tuple) else ("web", key), compute)
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = compute()
        with self._lock:
            self._memo[key] = value
        return value


class Snapshot:
    """The data of one version: what a page reads during one request."""

    def __init__(self, source: DataSource, version: int):
        self.source = source
        self.version = version
        self.city = source.city

    # -- inputs ---------------------------------------------------------------------------------------
    def dataset(self):
        """The city's :class:`~citycarbon.datasets.ReferenceDataset` (ledger or shipped files)."""
        if self.source.results is not None:
            return self.source.results.dataset(self.version)
        from citycarbon.datasets import load_reference

        return self.source.memo(self.version, ("dataset",), lambda: load_reference(self.city))


    def city_data(self):
        if self.source.results is not None:
            return self.source.results.city_data(self.version)
        from citycarbon.services import tracking

        return tracking.city_data(self.city)

    def years(self) -> tuple[int, ...]:
        return tuple(self.city_data().years)

    def latest_year(self) -> int:
        return max(self.years())

    # -- results ----------------------------------------------------------------------------------------
    def status(self, year: int, region: str | None = None) -> dict:
        from citycarbon.services.tracking import status_report

        return self.source.memo(self.version, ("status", year, region), lambda: status_report(
            year, region=region, city=self.city, data=self.city_data()))

    def accounts(self, year: int):
        if year not in self.years():
            raise no_data_for(year, self.years())
        if self.source.results is not None:
            return self.source.results.accounting(self.version)[year]
        from citycarbon.services.accounting import account_city

        return self.source.memo(self.version, ("accounts", year), lambda: account_city(year, city=self.city,
                                                                                    source="files"))

    def accounts_with(self, year: int, choices: tuple[tuple[str, str], ...] = ()):
        """One year's accounts on the method ``choices`` of the page's selector (the city's profile when
        empty): :func:`citycarbon.services.accounting.account_ledger_year` on the ledger, else the files."""
        if not choices:
            return self.accounts(year)
        if year not in self.years():
            raise no_data_for(year, self.years())
        from citycarbon.services.accounting import account_city, account_ledger_year, city_options

        if self.source.results is not None:
            return account_ledger_year(self.source.results, self.version, year, dict(choices))
        options = city_options(self.city, **dict(choices))
        return self.source.memo(self.version, ("accounts", year, choices), lambda: account_city(
            year, city=self.city, source="files", options=options))

    def energy_flow(self, year: int, choices: tuple[tuple[str, str], ...] = ()):
        """The year's energy flow, shares and the accounts they come from, on the selector's method ``choices``
        (the city's profile when empty) (:func:`citycarbon.services.energy_flow.energy_flow`)."""
        from citycarbon.services.energy_flow import energy_flow

        accounts = self.accounts_with(year, choices)

        def compute():
            if self.source.results is not None:
                return energy_flow(year, city=self.city, dataset=self.dataset(), accounts=accounts)
            return energy_flow(year, city=self.city, source="files", accounts=accounts)

        return self.source.memo(self.version, ("energy_flow", year, choices), compute)

    def decomposition(self, measure: str):
        from citycarbon.services.decomposition import decompose_city

        return self.source.memo(self.version, ("lmdi", measure),
                                lambda: decompose_city(self.city, measure, dataset=self.dataset()))

    def sinks(self, year: int) -> dict:
        from citycarbon.sinks.summary import sink_summary

        if year not in self.years():
            raise no_data_for(year, self.years())

        def compute() -> dict:
            dataset = self.dataset()
            return sink_summary(dataset.forest, dataset.wetland, year)

        return self.source.memo(self.version, ("sinks", year), compute)


def no_data_for(year: int, years: tuple[int, ...]) -> InputError:
    return InputError(Problem(f"no data for {year}: the dataset covers {min(years)}–{max(years)}",
                              field="year", value=year, suggestion=str(max(years))))
