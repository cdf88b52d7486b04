"""Provenance attached to every computed result: which inputs, which factor rows, which method."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from citycarbon import __version__


def hash_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as ``sha256:<hex>``."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"sha256:{digest}"


def hash_frame(frame: pd.DataFrame) -> str:
    """Content hash of a DataFrame, independent of row order and of column order."""
    ordered = frame.reindex(sorted(frame.columns), axis=1)
    ordered = ordered.astype(str).sort_values(list(ordered.columns)).reset_index(drop=True)
    digest = hashlib.sha256(ordered.to_csv(index=False).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"


@dataclass
class Provenance:
    """What a result was computed from. Serialises to plain JSON via :meth:`to_dict`."""

    method: str
    method_version: str
    standards: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)  # name -> content hash
    factors: list[dict] = field(default_factory=list)  # factor rows used (id, value, unit, source, status)
    parameters: dict[str, object] = field(default_factory=dict)
    software_version: str = __version__
    computed_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    estimates: list[str] = field(default_factory=list)  # which inputs contain values marked 'estimate'
    #: SHA-256 of the factor tables: ``all`` (every row loaded, office files included) and ``used`` (the rows
    #: in ``factors``), see :meth:`citycarbon.factors.FactorTable.content_hash`
    factor_tables: dict[str, str] = field(default_factory=dict)
    #: lookups that did not find the exact year (and first region): {kind, key, year, factor_id, text_zh, text_en}
    fallbacks: list[dict] = field(default_factory=list)
    #: the accounting profile's method choices: option, value, documented default, document (accounting results)
    profile: list[dict] = field(default_factory=list)
    #: per figure (indicator name): why it is an estimate (estimated inputs or factor rows), in words
    estimated_figures: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)
