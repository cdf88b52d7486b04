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

    def to_dict(self) -> dict:
        return asdict(self)
