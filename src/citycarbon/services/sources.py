"""Where every face reads a city's data: the ledger when a database exists, the shipped files otherwise.

One rule, applied here and nowhere else (the CLI's ``--source``, the Python library's ``source=`` argument
and the default of both go through :func:`resolve_source`):

* ``store``: the store's ledger (``CITYCARBON_DATABASE_URL``, or the SQLite file under ``CITYCARBON_HOME``),
  as the API and the cockpit read it, so an approved import changes every face at once;
* ``files``: the reference files shipped with the package (``data/<city>/``);
* ``None`` (the default): ``store`` when a database exists (:func:`database_exists`), ``files`` otherwise.

:func:`city_inputs` loads the chosen source once per data version: the shipped files once per process, the
ledger once per ledger version (the ledger's own caches are keyed by that version).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import pandas as pd

from citycarbon.datasets import ReferenceDataset
from citycarbon.errors import InputError, Problem
from citycarbon.settings import Settings

__all__ = ["CityInputs", "Source", "city_inputs", "database_exists", "default_source", "resolve_source"]


class Source(StrEnum):
    """Where the services read a city's data."""

    store = "store"
    files = "files"


@dataclass(frozen=True, eq=False)
class CityInputs:
    """A city's data as one source holds it now.

    ``version`` changes whenever the data change (the ledger version; 0 for the shipped files), so results
    may be cached per ``(origin, version)``. ``monthly``/``districts`` are the raw tables (None: not held)."""

    city: str
    source: Source
    origin: str  # the redacted database URL, or the shipped folder
    version: int
    dataset: ReferenceDataset
    monthly: pd.DataFrame | None
    districts: pd.DataFrame | None
    #: issue 16 (track): the ``district_statistics`` rows with their batch (None: none imported)
    district_statistics: pd.DataFrame | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        """A cache key of these data: (origin, city, version)."""
        return (self.origin, self.city, self.version)


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else Settings.from_env()


def database_exists(settings: Settings | None = None) -> bool:
    """True when a database is configured: ``CITYCARBON_DATABASE_URL`` names a server, or the SQLite file
    (``CITYCARBON_HOME/citycarbon.db`` or the URL's file) exists. Creates nothing."""
    settings = _settings(settings)
    if not settings.is_sqlite:
        return True
    from sqlalchemy.engine import make_url

    database = make_url(settings.database_url).database
    return database is not None and database not in ("", ":memory:") and Path(database).is_file()


def default_source(settings: Settings | None = None) -> Source:
    """``store`` when a database exists, ``files`` otherwise."""
    return Source.store if database_exists(settings) else Source.files


def resolve_source(source: str | Source | None = None, settings: Settings | None = None) -> Source:
    """The source to read: ``source`` when given (``store``/``files``), else :func:`default_source`.

    Raises :class:`InputError` (field ``source``) for any other value."""
    if source is None or (isinstance(source, str) and source.strip().lower() in ("", "auto")):
        return default_source(settings)
    try:
        return Source(str(source).strip().lower())
    except ValueError:
        raise InputError(Problem(f"unknown data source '{source}' (store or files)", field="source",
                                 value=str(source), suggestion="store" if str(source)[:1] in "sd" else "files"
                                 )) from None


def city_inputs(city: str | None = None, source: str | Source | None = None, *,
                settings: Settings | None = None) -> CityInputs:
    """``city``'s data from ``source`` (resolved by :func:`resolve_source`; ``city`` defaults to the
    settings' city). Raises :class:`InputError` when the store is chosen but holds no data for the city."""
    settings = _settings(settings)
    city = city or settings.city
    if resolve_source(source, settings) is Source.files:
        return shipped_inputs(city)
    return _store_inputs(city, settings)


@cache
def shipped_inputs(city: str = "dalian") -> CityInputs:
    """The shipped files of ``city`` (read and validated once per process; they do not change at run time)."""
    from citycarbon.data import data_path, read_csv_file
    from citycarbon.datasets import load_reference

    folder = data_path(city)
    dataset = load_reference(city)
    monthly = read_csv_file(folder / "monthly.csv") if (folder / "monthly.csv").exists() else None
    districts = (read_csv_file(folder / "districts.csv", dtype={"region": str, "target_id": str})
                 if (folder / "districts.csv").exists() else None)
    return CityInputs(city, Source.files, f"files:{folder}", 0, dataset, monthly, districts)


def _store_inputs(city: str, settings: Settings) -> CityInputs:
    from sqlalchemy.exc import SQLAlchemyError

    from citycarbon.store import ledger
    from citycarbon.store.db import Database

    hint = "load it with `citycarbon db seed`, or read the shipped files (--source files / source='files')"
    where = settings.redacted_url()
    if not database_exists(settings):  # never create an empty SQLite file by reading
        raise InputError(Problem(f"no database at {where}: {hint}", field="source", value="store",
                                 suggestion="files"))
    database = Database(settings)
    try:
        with database.session() as session:
            version = int(ledger.version(session))
            from citycarbon.services.cities import require_data

            require_data(session, city)  # a city without its own data: name what is missing, borrow nothing
            if version == 0:
                raise InputError(Problem(f"the database {where} holds no data yet: {hint}", field="source",
                                         value="store", suggestion="files"))
            dataset = ledger.reference_dataset(session, city)
            from citycarbon.services.cities import city_rows

            monthly = city_rows(ledger.current_frame(session, "monthly"), "monthly", dataset.region)
            districts = city_rows(ledger.current_frame(session, "districts"), "districts", dataset.region)
            district_statistics = city_rows(ledger.provenance_frame(session, "district_statistics"), "districts",
                                            dataset.region)
    except SQLAlchemyError as error:
        raise InputError(Problem(f"cannot read the ledger of {where} ({type(error).__name__}): {hint}",
                                 field="source", value="store", suggestion="files")) from error
    finally:
        database.dispose()
    return CityInputs(city, Source.store, where, version, dataset,
                      None if monthly is None or monthly.empty else monthly,
                      None if districts is None or districts.empty else districts,
                      None if district_statistics is None or district_statistics.empty else district_statistics)
