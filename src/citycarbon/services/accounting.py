"""Accounting as a service: a reference dataset (the store's ledger or the shipped files) or imported files →
AccountingResult.

``dataset=`` takes a :class:`~citycarbon.datasets.ReferenceDataset` built elsewhere (e.g. the API's cache of
the ledger); without it ``source=`` decides (:func:`citycarbon.services.sources.resolve_source`: the ledger when
a database exists, the shipped files otherwise), the same rule for the CLI and the Python library.
Input hashes are the files' SHA-256 where the dataset's files exist, else a content hash of the frame.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from citycarbon.accounting import AccountingOptions, AccountingResult, account_years
from citycarbon.accounting.inputs import AccountingInputs, dataset_inputs
from citycarbon.datasets import ReferenceDataset, load_reference
from citycarbon.importers import read_table
from citycarbon.provenance import hash_file
from citycarbon.services.sources import Source, city_inputs, resolve_source

__all__ = ["AccountingInputs", "account_city", "account_city_years", "dataset_inputs", "load_inputs",
           "reference_inputs", "source_dataset"]


@cache
def reference_inputs(city: str = "dalian") -> AccountingInputs:
    """The shipped reference dataset of ``city``, validated like an import (cached per process)."""
    return dataset_inputs(load_reference(city))


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
                source: str | Source | None = None) -> AccountingInputs:
    """Inputs of ``city`` (``dataset``, else the ``source``'s: the ledger when a database exists, the shipped
    files otherwise), with the balance and/or statistics replaced by files."""
    if dataset is None:
        dataset = source_dataset(city, source)
    inputs = reference_inputs(city) if dataset is None else dataset_inputs(dataset)
    if balance_file is None and statistics_file is None:
        return inputs
    balance, statistics = inputs.balance, inputs.statistics
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
    return AccountingInputs(city, balance, statistics, inputs.process_activity, hashes, tuple(estimates),
                            balance_source, statistics_source)


def account_city(year: int, *, city: str = "dalian", balance_file: str | Path | None = None,
                 statistics_file: str | Path | None = None, method: str | None = None,
                 dataset: ReferenceDataset | None = None,
                 source: str | Source | None = None) -> AccountingResult:
    """Account ``year`` for ``city`` (with reductions vs the previous year and the period base year)."""
    return account_city_years([year], city=city, balance_file=balance_file, statistics_file=statistics_file,
                              method=method, dataset=dataset, source=source)[year]


def account_city_years(years: list[int] | None = None, *, city: str = "dalian",
                       balance_file: str | Path | None = None, statistics_file: str | Path | None = None,
                       method: str | None = None,
                       dataset: ReferenceDataset | None = None,
                       source: str | Source | None = None) -> dict[int, AccountingResult]:
    """Account ``years`` (all years of the balance when None) for ``city``.

    The data: ``dataset`` when given, else ``source`` (``store`` | ``files``; default: the ledger when a
    database exists, the shipped files otherwise). The accounting options come from
    ``data/<city>/accounting.yaml``."""
    inputs = load_inputs(city, balance_file, statistics_file, dataset=dataset, source=source)
    options = AccountingOptions.for_city(city, method=method)
    return account_years(
        inputs.balance, years, statistics=inputs.statistics, process_activity=inputs.process_activity,
        options=options, inputs=inputs.hashes, estimates=list(inputs.estimates),
        source=inputs.balance_source, statistics_source=inputs.statistics_source)
