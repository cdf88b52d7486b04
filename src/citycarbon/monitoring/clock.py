"""The city's "now" for silence and lateness: robust to one meter's (or one enterprise's) wrong clock.

Rule (docs/monitoring.md, "The city's now"): take each unit's latest reading end; the city's now is their
:data:`CITY_CLOCK_QUANTILE` quantile, taken as one of the units' own ends (the ``lower`` order statistic, index
``floor(q × (n − 1))`` of the sorted ends), and never later than the server's clock. With two or more units the
latest unit alone never sets it (``floor(0.9 × (n − 1)) < n − 1``), so one enterprise posting readings dated
2030 moves nothing; the cap at the server's clock holds even when many do. A demo lake of past data keeps its
own "now" (the data's, not today's), so its pages stay meaningful.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["CITY_CLOCK_QUANTILE", "city_now"]

#: which of the units' latest reading ends is the city's now (0.9: the slowest 90 % of units have reported)
CITY_CLOCK_QUANTILE = 0.9


def _utc(value: object) -> pd.Timestamp:
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def city_now(latest_ends: Iterable[object], server_now: object, *,
             quantile: float = CITY_CLOCK_QUANTILE) -> pd.Timestamp | None:
    """The city's now from each unit's latest reading end (one value per unit, UTC or naive UTC texts or
    timestamps; missing values ignored), capped at ``server_now``; None when no unit has a reading.

    >>> city_now(["2025-01-10T00:00Z", "2025-01-10T00:15Z", "2030-01-01T00:00Z"], "2026-12-07T00:00Z")
    Timestamp('2025-01-10 00:15:00+0000', tz='UTC')
    """
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must lie in [0, 1], got {quantile}")
    ends = sorted(_utc(v) for v in latest_ends if v is not None and not pd.isna(v))  # type: ignore[arg-type]
    if not ends:
        return None
    chosen = ends[int(np.floor(quantile * (len(ends) - 1)))]
    return min(chosen, _utc(server_now))
