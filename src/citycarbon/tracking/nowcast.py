"""Monthly nowcast of the full-year indicators, and its back-test on past years.

Method
------
Bridge equations, the usual way statistics offices nowcast annual totals from monthly indicators (monthly
规上工业综合能源消费量, electricity consumption and industrial output; /work/shared/reference/methods.md §8.0a
and §5). For an annual indicator a (energy consumption, CO2, GDP, electricity) and each monthly variable v
available for the current year up to month M:

    g_a(y) = a_y / a_{y−1} − 1                          annual growth
    x_v(y) = Σ_{m≤M} v_{y,m} / Σ_{m≤M} v_{y−1,m} − 1    year-to-date growth
    g_a(y) = α_v + β_v x_v(y) + ε                       OLS over the training years (before the nowcast year)

Each v gives a forecast ĝ_v with the OLS *prediction* standard error (Montgomery & Runger, Applied
Statistics, §11-6: s_pred = s·√(1 + 1/n + (x₀ − x̄)²/Sxx), s the residual standard error with n − 2 degrees of
freedom), so the uncertainty of the fitted line itself counts, not only the scatter around it. The forecasts
are combined with weights 1/s_pred² and the combined variance is the weighted mean of s_pred² (no
independence assumed between the monthly series). The full-year value is a_{y−1}(1 + ĝ), the interval
± t·s_pred·a_{y−1} with t the Student-t quantile of ``interval`` at the smallest n − 2 among the equations used
(a handful of training years makes t much larger than the normal z). Intensities are ratios of the nowcast
numerator and GDP, their relative half-widths added in quadrature. Without a usable monthly variable the mean
growth of the last years is used (``method`` says so). The back-test (:func:`backtest_nowcast`) repeats this
for each past year, training only on the years before it, and reports the percentage errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem

MONTHLY_VARIABLES: tuple[str, ...] = ("key_unit_energy_tce", "electricity_consumption_kwh",
                                      "industrial_output_index")
#: annual indicators nowcast directly; intensities follow as ratios
NOWCAST_INDICATORS: tuple[str, ...] = ("energy_consumption_tce", "co2_emissions_t", "co2_energy_t",
                                       "gdp_10k_yuan", "electricity_consumption_kwh")
RATIOS: dict[str, tuple[str, str]] = {
    "energy_intensity_tce_per_10k_yuan": ("energy_consumption_tce", "gdp_10k_yuan"),
    "co2_intensity_t_per_10k_yuan": ("co2_energy_t", "gdp_10k_yuan"),
}
MIN_TRAINING_YEARS = 3
MONTHLY_COLUMNS: tuple[str, ...] = ("year", "month", "variable", "value")


@dataclass(frozen=True)
class NowcastValue:
    """A nowcast full-year value with its interval and how it was made."""

    indicator: str
    year: int
    value: float
    low: float
    high: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "low": self.low, "high": self.high, "method": self.method}


def check_monthly(monthly: pd.DataFrame, file: str = "monthly data") -> pd.DataFrame:
    """Validate a monthly frame (``year, month, variable, value``); InputError naming row and field."""
    problems: list[Problem] = []
    missing = [c for c in MONTHLY_COLUMNS if c not in monthly.columns]
    if missing:
        raise InputError(Problem(f"missing columns {missing}", file=file, field=missing[0]))
    from citycarbon.importers.schemas import row_numbers

    for i, row in zip((int(n) for n in row_numbers(monthly)), monthly.itertuples(index=False), strict=True):
        variable = str(row.variable)
        if variable not in MONTHLY_VARIABLES:
            problems.append(Problem(f"unknown monthly variable {variable!r}", file=file, row=i, field="variable",
                                    value=variable, suggestion=nearest(variable, MONTHLY_VARIABLES)))
        if not 1 <= int(row.month) <= 12:
            problems.append(Problem("month must be 1 to 12", file=file, row=i, field="month", value=row.month))
        value = float(row.value)
        if not math.isfinite(value) or value < 0:  # inf/1e400 too (issue 13: quantities must be finite)
            problems.append(Problem("value must be a non-negative number", file=file, row=i, field="value",
                                    value=row.value))
        if len(problems) >= 50:
            break
    if problems:
        raise InputError(problems)
    return monthly


def ytd_table(monthly: pd.DataFrame, month: int) -> pd.DataFrame:
    """Year-to-date sums (year × variable) through ``month``; a year lacking any month up to it is left out."""
    rows = monthly[monthly["month"].astype(int) <= month]
    grouped = rows.groupby(["year", "variable"])["value"]
    sums = grouped.sum().unstack("variable")
    counts = grouped.count().unstack("variable")
    sums = sums.where(counts == month)
    sums.index = sums.index.astype(int)
    return sums


def _growth(series: Mapping[int, float]) -> dict[int, float]:
    return {y: series[y] / series[y - 1] - 1 for y in series if y - 1 in series and series[y - 1] > 0}


def _fit(x: np.ndarray, y: np.ndarray, x0: float) -> tuple[float, float]:
    """OLS y = a + b x, predicted at ``x0``: (ŷ₀, prediction standard error s·√(1 + 1/n + (x₀−x̄)²/Sxx))."""
    b, a = np.polyfit(x, y, 1)
    residuals = y - (a + b * x)
    n = len(x)
    s = math.sqrt(float((residuals ** 2).sum()) / max(1, n - 2))
    sxx = float(((x - x.mean()) ** 2).sum())
    leverage = (x0 - float(x.mean())) ** 2 / sxx if sxx > 0 else 0.0
    return float(a + b * x0), s * math.sqrt(1 + 1 / n + leverage)


def _nowcast_growth(growth: dict[int, float], ytd_growth: pd.DataFrame, year: int,
                    training: Sequence[int]) -> tuple[float, float, int, str] | None:
    """(growth, prediction standard error, degrees of freedom, method) or None without enough history."""
    forecasts = []
    for variable in ytd_growth.columns:
        column = ytd_growth[variable]
        if year not in column.index or pd.isna(column.get(year)):
            continue
        years = [y for y in training if y in growth and y in column.index and not pd.isna(column.get(y))]
        if len(years) < MIN_TRAINING_YEARS:
            continue
        predicted, s = _fit(np.array([column[y] for y in years]), np.array([growth[y] for y in years]),
                            float(column[year]))
        forecasts.append((predicted, max(s, 1e-6), str(variable), len(years)))
    if forecasts:
        weights = np.array([1 / f[1] ** 2 for f in forecasts])
        weights /= weights.sum()
        g = float(sum(w * f[0] for w, f in zip(weights, forecasts, strict=True)))
        s = math.sqrt(float(sum(w * f[1] ** 2 for w, f in zip(weights, forecasts, strict=True))))
        used = ", ".join(f"{f[2]} ({f[3]} yr)" for f in forecasts)
        dof = max(1, min(f[3] for f in forecasts) - 2)
        return g, s, dof, f"bridge equations on year-to-date growth of {used}"
    past = [growth[y] for y in training if y in growth][-MIN_TRAINING_YEARS:]
    if len(past) < 2:
        return None
    # prediction of a new year's growth from a sample mean: s·√(1 + 1/n), n − 1 degrees of freedom
    spread = float(np.std(past, ddof=1)) * math.sqrt(1 + 1 / len(past))
    return float(np.mean(past)), spread, len(past) - 1, f"mean growth of {len(past)} past years (no monthly data)"


def nowcast_year(annual: Mapping[str, Mapping[int, float]], monthly: pd.DataFrame, year: int, month: int, *,
                 interval: float = 0.8) -> dict[str, NowcastValue]:
    """Full-year nowcast of ``year`` from monthly data through ``month`` and past annual values.

    ``annual``: indicator → year → value (only years before ``year`` are used). ``monthly``: long frame
    ``year, month, variable, value`` with any subset of :data:`MONTHLY_VARIABLES`. Returns indicator →
    :class:`NowcastValue` for the indicators that have the previous year's value. Raises
    :class:`InputError` for a month outside 1–12 or bad monthly rows.
    """
    if not 1 <= month <= 12:
        raise InputError(Problem("month must be 1 to 12", field="month", value=month))
    check_monthly(monthly)
    ytd = ytd_table(monthly, month)
    ytd_growth = ytd
    if not ytd.empty:
        previous = ytd.reindex(ytd.index - 1)
        previous.index = ytd.index
        ytd_growth = ytd / previous - 1
    result: dict[str, NowcastValue] = {}
    for indicator in NOWCAST_INDICATORS:
        series = {int(y): float(v) for y, v in (annual.get(indicator) or {}).items()
                  if v is not None and int(y) < year and not math.isnan(float(v))}
        if year - 1 not in series:
            continue
        growth = _growth(series)
        training = sorted(y for y in growth if y < year)
        fitted = _nowcast_growth(growth, ytd_growth, year, training)
        if fitted is None:
            continue
        g, s, dof, method = fitted
        t = float(student_t.ppf(0.5 + interval / 2, dof))
        base = series[year - 1]
        result[indicator] = NowcastValue(indicator, year, base * (1 + g), base * (1 + g - t * s),
                                         base * (1 + g + t * s), method)
    for ratio, (numerator, denominator) in RATIOS.items():
        if numerator in result and denominator in result:
            top, bottom = result[numerator], result[denominator]
            value = top.value / bottom.value
            rel = math.hypot((top.high - top.low) / (2 * top.value), (bottom.high - bottom.low) / (2 * bottom.value))
            result[ratio] = NowcastValue(ratio, year, value, value * (1 - rel), value * (1 + rel),
                                         f"{numerator} / {denominator} (nowcast)")
    return result


def backtest_nowcast(annual: Mapping[str, Mapping[int, float]], monthly: pd.DataFrame, month: int, *,
                     years: Sequence[int] | None = None, interval: float = 0.8) -> pd.DataFrame:
    """Nowcast each past year from the years before it; one row per year and indicator.

    Columns: ``year, month, indicator, nowcast, low, high, actual, error`` (error = nowcast / actual − 1)
    and ``covered`` (actual inside the interval).
    """
    all_years = sorted({int(y) for series in annual.values() for y in series})
    monthly_years = {int(y) for y in monthly["year"].unique()}
    candidates = years if years is not None else [y for y in all_years if y in monthly_years]
    rows = []
    for year in candidates:
        estimates = nowcast_year(annual, monthly, year, month, interval=interval)
        for indicator, estimate in estimates.items():
            actual = _actual(annual, indicator, year)
            if actual is None or actual == 0 or "no monthly data" in estimate.method:
                continue
            rows.append({"year": year, "month": month, "indicator": indicator, "nowcast": estimate.value,
                         "low": estimate.low, "high": estimate.high, "actual": actual,
                         "error": estimate.value / actual - 1,
                         "covered": estimate.low <= actual <= estimate.high})
    return pd.DataFrame(rows, columns=["year", "month", "indicator", "nowcast", "low", "high", "actual", "error",
                                       "covered"])


def _actual(annual: Mapping[str, Mapping[int, float]], indicator: str, year: int) -> float | None:
    if indicator in RATIOS:
        numerator, denominator = RATIOS[indicator]
        top = (annual.get(numerator) or {}).get(year)
        bottom = (annual.get(denominator) or {}).get(year)
        return top / bottom if top is not None and bottom else None
    value = (annual.get(indicator) or {}).get(year)
    return float(value) if value is not None else None


def backtest_summary(backtest: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per indicator: mean absolute percentage error, largest absolute error, interval coverage, years."""
    summary: dict[str, dict[str, float]] = {}
    for indicator, group in backtest.groupby("indicator"):
        errors = group["error"].abs()
        summary[str(indicator)] = {"mape": float(errors.mean()), "max_abs_error": float(errors.max()),
                                   "coverage": float(group["covered"].mean()), "years": len(group)}
    return summary
