"""Accounting as a service: a reference dataset (shipped files or the store's ledger) or imported files →
AccountingResult.

``dataset=`` takes a :class:`~citycarbon.datasets.ReferenceDataset` built elsewhere (e.g. from the ledger by
``citycarbon.store.ledger.reference_dataset``); without it the shipped files of ``city`` are used (the CLI).
Input hashes are the files' SHA-256 where the dataset's files exist, else a content hash of the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from citycarbon.accounting import AccountingOptions, AccountingResult, account_years
from citycarbon.datasets import ReferenceDataset, load_reference
from citycarbon.importers import read_table
from citycarbon.provenance import hash_file, hash_frame


@dataclass(frozen=True)
class AccountingInputs:
    """Validated inputs for accounting, with their content hashes and which contain estimates."""

    city: str
    balance: pd.DataFrame
    statistics: pd.DataFrame
    process_activity: pd.DataFrame | None
    hashes: dict[str, str]
    estimates: tuple[str, ...]
    balance_source: str
    statistics_source: str


@cache
def reference_inputs(city: str = "dalian") -> AccountingInputs:
    """The shipped reference dataset of ``city``, validated like an import (cached per process)."""
    return dataset_inputs(load_reference(city))


def _hash_table(dataset: ReferenceDataset, name: str) -> str:
    path = dataset.files.get(name)
    if path is not None and Path(path).is_file():
        return hash_file(path)
    return hash_frame(getattr(dataset, name))


def dataset_inputs(dataset: ReferenceDataset) -> AccountingInputs:
    """Accounting inputs from any :class:`ReferenceDataset` (shipped files or the store's ledger; not cached)."""
    # the dataset loader already ran the import validators; only restore "no sector" as a missing value
    balance = dataset.balance.assign(sector=dataset.balance["sector"].replace("", None))
    hashes = {name: _hash_table(dataset, name) for name in dataset.files}
    estimates = tuple(
        f"{name}: {share:.0%} of rows are estimates"
        for name in ("balance", "statistics", "process_activity")
        if (share := dataset.estimated_share(name)) > 0
    )
    return AccountingInputs(dataset.name, balance, dataset.statistics, dataset.process_activity, hashes,
                            estimates, Path(dataset.files["balance"]).name, Path(dataset.files["statistics"]).name)


def _estimates_in(frame: pd.DataFrame, name: str) -> tuple[str, ...]:
    if "status" not in frame.columns or frame.empty:
        return ()
    share = float((frame["status"] == "estimate").mean())
    return (f"{name}: {share:.0%} of rows are estimates",) if share > 0 else ()


def load_inputs(city: str = "dalian", balance_file: str | Path | None = None,
                statistics_file: str | Path | None = None, *,
                dataset: ReferenceDataset | None = None) -> AccountingInputs:
    """Reference inputs of ``city`` (or of ``dataset``), with the balance and/or statistics replaced by files."""
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
                 dataset: ReferenceDataset | None = None) -> AccountingResult:
    """Account ``year`` for ``city`` (with reductions vs the previous year and the period base year)."""
    return account_city_years([year], city=city, balance_file=balance_file, statistics_file=statistics_file,
                              method=method, dataset=dataset)[year]


def account_city_years(years: list[int] | None = None, *, city: str = "dalian",
                       balance_file: str | Path | None = None, statistics_file: str | Path | None = None,
                       method: str | None = None,
                       dataset: ReferenceDataset | None = None) -> dict[int, AccountingResult]:
    """Account ``years`` (all years of the balance when None) for ``city``; ``dataset`` replaces the shipped
    files (the accounting options still come from ``data/<city>/accounting.yaml``)."""
    inputs = load_inputs(city, balance_file, statistics_file, dataset=dataset)
    options = AccountingOptions.for_city(city, method=method)
    return account_years(
        inputs.balance, years, statistics=inputs.statistics, process_activity=inputs.process_activity,
        options=options, inputs=inputs.hashes, estimates=list(inputs.estimates),
        source=inputs.balance_source, statistics_source=inputs.statistics_source)
