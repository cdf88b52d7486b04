"""Shared pieces of the analytic toy models the analysis tests run on (the PathwayModel protocol)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    """A parameter table with the columns ``model.parameters`` exposes (``distribution`` is optional)."""

    names: list[str]
    default: list[float]
    low: list[float]
    high: list[float]
    group: list[str]
    kind: list[str]
    direction: list[float]
    unit: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    distribution: list[str] | None = None
