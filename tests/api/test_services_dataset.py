"""The services run on any ReferenceDataset (``dataset=``), e.g. one built from the store's ledger, and give
the same results as on the shipped files; input hashes fall back to frame hashes when no file exists."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from citycarbon.data import data_path, read_csv_file
from citycarbon.datasets import load_reference, read_reference
from citycarbon.provenance import hash_frame
from citycarbon.services.accounting import account_city, account_city_years
from citycarbon.services.decomposition import decompose_city
from citycarbon.services.tracking import build_city_data, status_report


@pytest.fixture(scope="module")
def ledger_like():
    """The Dalian dataset read again (not the cached object) with placeholder file paths, as the store gives."""
    dataset = read_reference(data_path("dalian"), "dalian")
    return replace(dataset, files={name: Path(f"db:{name}") for name in dataset.files})


def test_accounting_on_a_dataset_equals_accounting_on_the_files(ledger_like):
    from_files = account_city(2022)
    from_dataset = account_city(2022, dataset=ledger_like)
    assert from_dataset.indicators == pytest.approx(from_files.indicators, nan_ok=True)
    assert from_dataset.provenance.inputs["balance"] == hash_frame(ledger_like.balance)
    assert from_files.provenance.inputs["balance"].startswith("sha256:")
    assert from_dataset.provenance.inputs["balance"] != from_files.provenance.inputs["balance"]


def test_accounting_sees_a_changed_dataset(ledger_like):
    stats = ledger_like.statistics.copy()
    gdp = (stats["variable"] == "gdp") & (stats["year"] == 2022) & stats["price_base_year"].notna()
    assert gdp.any()
    stats.loc[gdp, "value"] = stats.loc[gdp, "value"] * 2
    changed = replace(ledger_like, statistics=stats)
    base = account_city_years([2022], dataset=ledger_like)[2022].indicators["energy_intensity_tce_per_10k_yuan"]
    doubled = account_city_years([2022], dataset=changed)[2022].indicators["energy_intensity_tce_per_10k_yuan"]
    assert doubled == pytest.approx(base / 2, rel=1e-9)


def test_tracking_and_decomposition_on_a_dataset(ledger_like):
    folder = data_path("dalian")
    data = build_city_data("dalian", ledger_like, read_csv_file(folder / "monthly.csv"),
                           read_csv_file(folder / "districts.csv", dtype={"region": str, "target_id": str}))
    assert status_report(2023, data=data)["targets"] == status_report(2023)["targets"]
    result, _ = decompose_city("dalian", "energy", 2015, 2024, dataset=ledger_like)
    expected, _ = decompose_city("dalian", "energy", 2015, 2024)
    assert result.periods[0].total_change == pytest.approx(expected.periods[0].total_change)
    assert load_reference("dalian") is not ledger_like
