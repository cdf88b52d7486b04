"""Accounting inputs of a reference dataset: the validated tables with their content hashes and estimates.

Pure (no store, no files beyond hashing a dataset's own files): services build these from the shipped files
or the ledger, and the pathway model takes them as its base-year data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from citycarbon.datasets import ReferenceDataset
from citycarbon.provenance import hash_file, hash_frame


@dataclass(frozen=True)
class AccountingInputs:
    """Validated inputs for accounting, with their content hashes and which contain estimates."""

    city: str
    balance: pd.DataFrame
    statistics: pd.DataFrame | None  # None: a user's own balance without statistics (intensities not computed)
    process_activity: pd.DataFrame | None
    hashes: dict[str, str]
    estimates: tuple[str, ...]
    balance_source: str
    statistics_source: str


def _hash_table(dataset: ReferenceDataset, name: str) -> str:
    path = dataset.files.get(name)
    if path is not None and Path(path).is_file():
        return hash_file(path)
    return hash_frame(getattr(dataset, name))


def dataset_inputs(dataset: ReferenceDataset) -> AccountingInputs:
    """Accounting inputs from any :class:`ReferenceDataset` (shipped files or the store's ledger; not cached).

    Input hashes are the files' SHA-256 where the dataset's files exist, else a content hash of the frame."""
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
