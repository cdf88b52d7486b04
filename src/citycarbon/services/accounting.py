"""Accounting as a service: a reference dataset (the store's ledger or the shipped files) or imported files →
AccountingResult.

``dataset=`` takes a :class:`~citycarbon.datasets.ReferenceDataset` built elsewhere (e.g. the API's cache of
the ledger); without it ``source=`` decides (:func:`citycarbon.services.sources.resolve_source`: the ledger when
a database exists, the shipped files otherwise), the same rule for the CLI and the Python library.
Input hashes are the files' SHA-256 where the dataset's files exist, else a content hash of the frame.

The method choices come from ONE place, :func:`city_options` (the city's accounting profile, then a face's
overrides). A user's own data never mixes with the city's: with ``balance_file`` the city's process activity is
not added (only ``process_file``), and without ``statistics_file`` the intensities are "not computed" (the
result's ``not_computed``), never the city's GDP.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from citycarbon.accounting import AccountingOptions, AccountingResult, account_years
from citycarbon.accounting.inputs import AccountingInputs, dataset_inputs
from citycarbon.data import data_path, read_csv_file
from citycarbon.datasets import ReferenceDataset, load_reference, validate_table
from citycarbon.errors import InputError, NotFound, Problem
from citycarbon.factors import FactorNotFound
from citycarbon.importers import read_table
from citycarbon.provenance import hash_file
from citycarbon.services.sources import Source, city_inputs, resolve_source

if TYPE_CHECKING:
    from citycarbon.services.results import Results

__all__ = ["METHOD_CHOICES", "AccountingInputs", "account_city", "account_city_years", "account_ledger_year",
           "city_options", "dataset_inputs",
           "load_inputs", "reference_inputs", "source_dataset"]

#: the method choices a face may override (CLI flags, API query parameters, the web selector)
METHOD_CHOICES = ("method", "coal_rate", "co2_factors", "grid_factor", "electricity_co2_basis",
                  "nonfossil_attribution")


def city_options(city: str = "dalian", **overrides: object) -> AccountingOptions:
    """The accounting profile of ``city`` with ``overrides`` (None values ignored): the ONE place options are
    resolved for every face. The profile is ``data/<city>/accounting.yaml`` for a shipped city, else the profile
    stored when the city was created in the platform (``citycarbon city init --accounting``;
    :func:`citycarbon.services.cities.accounting_profile`), else the documented defaults; hyphenated values are
    accepted (``net-inflow``). :class:`InputError` naming the option if invalid."""
    if not data_path(f"{city}/accounting.yaml").exists():
        from citycarbon.services.cities import accounting_profile

        stored = accounting_profile(city)
        if stored is not None:
            values = dict(stored.get("options", stored))
            if "combustion_transformations" in values:
                values["combustion_transformations"] = tuple(values["combustion_transformations"])
            return AccountingOptions.from_values(values, overrides, f"accounting profile of {city}")
    return AccountingOptions.for_city(city, **overrides)


def _read_process(process_file: str | Path) -> pd.DataFrame:
    path = Path(process_file)
    if not path.is_file():
        raise InputError(Problem("file not found", file=str(path)))
    try:
        frame = read_csv_file(path, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"not a readable UTF-8 CSV file ({exc.__class__.__name__}: {exc})",
                                 file=path.name)) from exc
    return validate_table("process_activity", frame, path.name)


@cache
def reference_inputs(city: str = "dalian") -> AccountingInputs:
    """The shipped reference dataset of ``city``, validated like an import (cached per process)."""
    return dataset_inputs(load_reference(city))


#: the accounting inputs (content hashes, estimate shares) of the last few ledger datasets, by identity: a
#: dataset object is immutable and held by the entry, so its id is not reused while cached (bounded)
_INPUTS: OrderedDict[int, tuple[ReferenceDataset, AccountingInputs]] = OrderedDict()
_INPUTS_SIZE = 4
_INPUTS_LOCK = threading.Lock()


def _dataset_inputs(dataset: ReferenceDataset) -> AccountingInputs:
    """:func:`dataset_inputs` once per dataset object (hashing a ledger's frames costs more than accounting)."""
    with _INPUTS_LOCK:
        hit = _INPUTS.get(id(dataset))
        if hit is not None and hit[0] is dataset:
            _INPUTS.move_to_end(id(dataset))
            return hit[1]
    inputs = dataset_inputs(dataset)
    with _INPUTS_LOCK:
        _INPUTS[id(dataset)] = (dataset, inputs)
        while len(_INPUTS) > _INPUTS_SIZE:
            _INPUTS.popitem(last=False)
    return inputs


def source_dataset(city: str, source: str | Source | None = None) -> ReferenceDataset | None:
    """The dataset of ``city`` from ``source`` (:func:`citycarbon.services.sources.resolve_source`): the
    ledger's when it is the store, None for the shipped files (the cached path of :func:`reference_inputs`)."""
    if resolve_source(source) is Source.files:
        return None
    return city_inputs(city, Source.store).dataset


def _estimates_in(frame: pd.DataFrame, name: str) -> tuple[str, ...]:
    if "status" not in frame.columns or frame.empty:
        return ()
    share = float((frame["status"] == "estimate").mean())
    return (f"{name}: {share:.0%} of rows are estimates",) if share > 0 else ()


def load_inputs(city: str = "dalian", balance_file: str | Path | None = None,
                statistics_file: str | Path | None = None, *,
                dataset: ReferenceDataset | None = None,
                source: str | Source | None = None,
                process_file: str | Path | None = None) -> AccountingInputs:
    """Inputs of ``city`` (``dataset``, else the ``source``'s: the ledger when a database exists, the shipped
    files otherwise), with the balance, statistics and/or process activity replaced by files.

    With a user's own ``balance_file`` nothing of the city's data is kept: no process activity unless
    ``process_file`` is given, and no statistics (GDP) unless ``statistics_file`` is given."""
    if balance_file is not None:
        return _own_inputs(city, balance_file, statistics_file, process_file)
    if dataset is None:
        dataset = source_dataset(city, source)
    inputs = reference_inputs(city) if dataset is None else _dataset_inputs(dataset)
    if statistics_file is None and process_file is None:
        return inputs
    balance, statistics = inputs.balance, inputs.statistics
    process_activity = inputs.process_activity
    hashes = dict(inputs.hashes)
    estimates = list(inputs.estimates)
    balance_source, statistics_source = inputs.balance_source, inputs.statistics_source
    if balance_file is not None:
        _, balance = read_table(balance_file, "energy_balance")
        hashes["balance"] = hash_file(balance_file)
        balance_source = Path(balance_file).name
        estimates = [e for e in estimates if not e.startswith("balance")] + list(_estimates_in(balance, "balance"))
    if statistics_file is not None:
        _, statistics = read_table(statistics_file, "statistics")
        hashes["statistics"] = hash_file(statistics_file)
        statistics_source = Path(statistics_file).name
        estimates = [e for e in estimates if not e.startswith("statistics")] + list(
            _estimates_in(statistics, "statistics"))
    if process_file is not None:
        process_activity = _read_process(process_file)
        hashes["process_activity"] = hash_file(process_file)
        estimates = [e for e in estimates if not e.startswith("process_activity")] + list(
            _estimates_in(process_activity, "process_activity"))
    return AccountingInputs(city, balance, statistics, process_activity, hashes, tuple(estimates),
                            balance_source, statistics_source)


def _own_inputs(city: str, balance_file: str | Path, statistics_file: str | Path | None,
                process_file: str | Path | None) -> AccountingInputs:
    """A user's own inputs only: the balance file, and statistics and process activity only from files."""
    _, balance = read_table(balance_file, "energy_balance")
    hashes = {"balance": hash_file(balance_file)}
    estimates = list(_estimates_in(balance, "balance"))
    statistics: pd.DataFrame | None = None
    statistics_source = "<no statistics>"
    if statistics_file is not None:
        _, statistics = read_table(statistics_file, "statistics")
        hashes["statistics"] = hash_file(statistics_file)
        statistics_source = Path(statistics_file).name
        estimates += list(_estimates_in(statistics, "statistics"))
    process_activity: pd.DataFrame | None = None
    if process_file is not None:
        process_activity = _read_process(process_file)
        hashes["process_activity"] = hash_file(process_file)
        estimates += list(_estimates_in(process_activity, "process_activity"))
    return AccountingInputs(city, balance, statistics, process_activity, hashes, tuple(estimates),
                            Path(balance_file).name, statistics_source)


def account_city(year: int, *, city: str = "dalian", balance_file: str | Path | None = None,
                 statistics_file: str | Path | None = None, method: str | None = None,
                 dataset: ReferenceDataset | None = None,
                 source: str | Source | None = None, process_file: str | Path | None = None,
                 options: AccountingOptions | None = None, **choices: str | None) -> AccountingResult:
    """Account ``year`` for ``city`` (with reductions vs the previous year and the period base year).

    ``choices``: overrides of the profile's method choices (:data:`METHOD_CHOICES`), as :func:`city_options`."""
    return account_city_years([year], city=city, balance_file=balance_file, statistics_file=statistics_file,
                              method=method, dataset=dataset, source=source, process_file=process_file,
                              options=options, **choices)[year]


def account_city_years(years: list[int] | None = None, *, city: str = "dalian",
                       balance_file: str | Path | None = None, statistics_file: str | Path | None = None,
                       method: str | None = None,
                       dataset: ReferenceDataset | None = None,
                       source: str | Source | None = None, process_file: str | Path | None = None,
                       options: AccountingOptions | None = None,
                       **choices: str | None) -> dict[int, AccountingResult]:
    """Account ``years`` (all years of the balance when None) for ``city``.

    The data: ``dataset`` when given, else ``source`` (``store`` | ``files``; default: the ledger when a
    database exists, the shipped files otherwise); a user's ``balance_file`` replaces all of it (see
    :func:`load_inputs`). The options: ``options`` when given, else :func:`city_options` with ``method`` and
    ``choices`` (:data:`METHOD_CHOICES`) as overrides."""
    unknown = sorted(set(choices) - set(METHOD_CHOICES))
    if unknown:
        raise InputError(Problem(f"unknown method choice '{unknown[0]}' (one of {', '.join(METHOD_CHOICES)})",
                                 field=unknown[0]))
    inputs = load_inputs(city, balance_file, statistics_file, dataset=dataset, source=source,
                         process_file=process_file)
    if options is None:
        options = city_options(city, method=method, **choices)
    return account_years(
        inputs.balance, years, statistics=inputs.statistics, process_activity=inputs.process_activity,
        options=options, inputs=inputs.hashes, estimates=list(inputs.estimates),
        source=inputs.balance_source, statistics_source=inputs.statistics_source)


def account_ledger_year(results: Results, version: int, year: int,
                        choices: dict[str, str | None] | None = None) -> AccountingResult:
    """One year's accounts of the ledger ``version``: the app's cached default (the city's profile), or, with
    method ``choices`` (:data:`METHOD_CHOICES`, None values ignored), the same computed once per version and
    choice set. :class:`~citycarbon.errors.NotFound` when the ledger has no balance for ``year``."""
    accounts = results.accounting(version)
    if year not in accounts:
        span = f": the ledger covers {min(accounts)}–{max(accounts)}" if accounts else ""
        raise NotFound(f"no accounting for {year}{span}")
    chosen = {k: v for k, v in (choices or {}).items() if v is not None}
    if not chosen:
        return accounts[year]
    options = city_options(results.city, **chosen)  # invalid choices fail here, before anything is computed
    key = ("accounting", year, tuple(sorted(chosen.items())))

    def compute() -> AccountingResult:
        try:
            return account_city(year, city=results.city, dataset=results.dataset(version), options=options)
        except FactorNotFound as exc:  # a choice without factor rows for this year: bad input, not a crash
            raise InputError(Problem(str(exc), field=exc.kind or "factor", value=exc.key)) from exc

    return results.memo(version, key, compute)
