"""Carbon sinks as a service: a city's forest and wetland tables (ledger or shipped files) → the sink summary
of :func:`citycarbon.sinks.summary.sink_summary` (forest stock change, blue carbon, projections)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from citycarbon.datasets import ReferenceDataset
from citycarbon.services.sources import Source, city_inputs
from citycarbon.sinks.summary import sink_summary

__all__ = ["city_sinks"]


def _input_files(dataset: ReferenceDataset) -> dict[str, str]:
    """The forest/wetland files that exist (the ledger's tables have none; their frames are hashed anyway)."""
    return {str(k): str(v) for k, v in (dataset.files or {}).items()
            if str(k) in ("forest", "wetland") and Path(v).is_file()}


def city_sinks(year: int, city: str = "dalian", *, source: str | Source | None = None,
               dataset: ReferenceDataset | None = None) -> dict[str, Any]:
    """Sinks of ``city`` in ``year`` from ``dataset``, else ``source`` (the ledger when a database exists,
    the shipped files otherwise). Raises :class:`~citycarbon.errors.InputError` for a year without data."""
    if dataset is None:
        dataset = city_inputs(city, source).dataset
    return sink_summary(dataset.forest, dataset.wetland, year, input_files=_input_files(dataset))
