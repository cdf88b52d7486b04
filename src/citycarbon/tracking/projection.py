"""Projecting an indicator to its target year from the recent trend, with an interval.

Method
------
Ordinary least squares on the latest ``window`` actual years: logit-linear for a *share* (``bounded=True``
and every value strictly between 0 and 1 — the logistic diffusion curve, so a share projected decades ahead
stays below 100 %), log-linear (a constant growth rate) for other strictly positive series, linear otherwise.
The interval is the OLS prediction interval ŷ ± t·s·√(1 + 1/n + (x₀ − x̄)²/Sxx) with s² = SSR/(n − 2) and t the
Student-t quantile at n − 2 degrees of freedom of the central probability (the rule set's
``projection.interval``), computed on the transformed scale and transformed back. A pathway engine may
supply its own :class:`Projection` (``source`` names the scenario); tracking then uses it unchanged.

The peak-year projection (:func:`project_peak_year`) fits a quadratic to the same window: a concave fit
peaks at its vertex; a falling linear trend means the peak is the highest year observed so far.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from citycarbon.errors import InputError, Problem

MIN_POINTS = 3


@dataclass(frozen=True)
class Projection:
    """A projected value for ``year`` with an interval [low, high]; ``source`` is 'trend' or a scenario."""

    year: int
    value: float
    low: float
    high: float
    source: str = "trend"
    method: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "value": self.value, "low": self.low, "high": self.high,
                "source": self.source, "method": self.method}


def _window(history: Mapping[int, float], window: int, upto: int | None) -> tuple[np.ndarray, np.ndarray]:
    points = sorted((int(y), float(v)) for y, v in history.items()
                    if v is not None and not math.isnan(float(v)) and (upto is None or int(y) <= upto))
    points = points[-window:]
    years = np.array([p[0] for p in points], dtype=float)
    values = np.array([p[1] for p in points], dtype=float)
    return years, values


def project_trend(history: Mapping[int, float], year: int, *, window: int = 5, interval: float = 0.8,
                  upto: int | None = None, bounded: bool = False) -> Projection | None:
    """Project ``history`` (year → value) to ``year`` from the latest ``window`` points up to ``upto``.

    Returns None with fewer than 2 points. Raises :class:`InputError` for a window below 2 or an interval
    outside (0, 1).
    """
    if window < 2:
        raise InputError(Problem("the trend window needs at least 2 years", field="window", value=window))
    if not 0 < interval < 1:
        raise InputError(Problem("interval must be a probability in (0, 1)", field="interval", value=interval))
    years, values = _window(history, window, upto)
    if len(years) < 2:
        return None
    logit = bounded and bool(np.all((values > 0) & (values < 1)))
    log = not logit and bool(np.all(values > 0))
    y = np.log(values / (1 - values)) if logit else np.log(values) if log else values
    x_mean = years.mean()
    sxx = float(((years - x_mean) ** 2).sum())
    slope = float(((years - x_mean) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * x_mean)
    centre = intercept + slope * year
    half = 0.0
    if len(years) >= MIN_POINTS:
        residuals = y - (intercept + slope * years)
        s = math.sqrt(float((residuals ** 2).sum()) / (len(years) - 2))
        t = float(student_t.ppf(0.5 + interval / 2, len(years) - 2))
        half = t * s * math.sqrt(1 + 1 / len(years) + (year - x_mean) ** 2 / sxx)
    low, high = centre - half, centre + half
    if logit:
        centre, low, high = (1 / (1 + math.exp(-v)) for v in (centre, low, high))
    elif log:
        centre, low, high = math.exp(centre), math.exp(low), math.exp(high)
    shape = "logit-linear" if logit else "log-linear" if log else "linear"
    method = (f"{shape} OLS trend {int(years[0])}–{int(years[-1])}, "
              f"{interval:.0%} prediction interval")
    return Projection(int(year), centre, low, high, "trend", method)


@dataclass(frozen=True)
class PeakProjection:
    """Highest year so far and the projected peak year (None when no peak is in sight on the trend)."""

    peak_year_so_far: int
    projected_peak_year: int | None
    rising: bool
    method: str


def project_peak_year(history: Mapping[int, float], *, window: int = 5, upto: int | None = None,
                      horizon: int = 2060) -> PeakProjection | None:
    """Year of the highest value so far and, from the recent trend, the year the series peaks.

    Linear trend falling over the window: the peak is the highest year so far. Rising: a concave quadratic
    fit peaks at its vertex (rounded up, not before the latest year, at most ``horizon``); otherwise no peak
    is in sight (``projected_peak_year`` None).
    """
    years, values = _window(history, window, upto)
    if len(years) == 0:
        return None
    full_years, full_values = _window(history, 10_000, upto)
    peak_so_far = int(full_years[int(np.argmax(full_values))])
    if len(years) < MIN_POINTS:
        rising = len(years) == 2 and values[-1] > values[0]
        return PeakProjection(peak_so_far, None if rising else peak_so_far, rising, "too few years for a trend")
    x = years - years.mean()
    slope = float(np.polyfit(x, values, 1)[0])
    if slope <= 0:
        return PeakProjection(peak_so_far, peak_so_far, False, "linear trend falling: peak already passed")
    a, b, _ = (float(c) for c in np.polyfit(x, values, 2))
    if a < 0:
        vertex = math.ceil(-b / (2 * a) + years.mean())
        projected = max(vertex, int(years[-1]))
        if projected <= horizon:
            return PeakProjection(peak_so_far, projected, True, "rising but concave: quadratic vertex")
    return PeakProjection(peak_so_far, None, True, "rising without curvature: no peak in sight")
