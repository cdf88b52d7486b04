"""LMDI-I index decomposition analysis, additive and multiplicative, vectorised with numpy.

Method
------
Ang, B.W. (2004) "Decomposition analysis for policymaking in energy: which is the preferred method?",
Energy Policy 32:1131–1139, recommends the logarithmic mean Divisia index method I (LMDI-I); Ang, B.W.
(2005) "The LMDI approach to decomposition analysis: a practical guide", Energy Policy 33:867–871, gives
the general formulae (its eqs. 1–5 and Table 1) implemented here. With an aggregate
``V = Σ_i V_i = Σ_i Π_k x_{k,i}`` over categories ``i`` and factors ``k``, from year 0 to year T:

* additive (eq. 5):      ``ΔV_k = Σ_i L(V_i^T, V_i^0) · ln(x_{k,i}^T / x_{k,i}^0)``, ``Σ_k ΔV_k = V^T − V^0``;
* multiplicative (eq. 4): ``D_k = exp(Σ_i L(V_i^T, V_i^0) / L(V^T, V^0) · ln(x_{k,i}^T / x_{k,i}^0))``,
  ``Π_k D_k = V^T / V^0``; equivalently ``ln D_k = ΔV_k / L(V^T, V^0)`` (Ang 2005, Table 1),

where ``L(a, b) = (a − b) / (ln a − ln b)`` and ``L(a, a) = a``. Both forms are exact (no residual).

Zero values
-----------
Ang, B.W. & Liu, N. (2007) "Handling zero values in the logarithmic mean Divisia index decomposition
approach", Energy Policy 35:238–246, replace the small-number strategy by the analytical limits, which
are used here (no value is ever replaced by a small number):

* ``L(x, 0) = L(0, x) = 0`` and ``L(0, 0) = 0``;
* a category whose value is zero in both years contributes nothing;
* a category that *appears* (``V_i^0 = 0 < V_i^T``; some ``x_{k,i}^0 = 0``): as ``x_{k,i}^0 → 0`` the term
  ``L(V_i^T, V_i^0) · ln(x_{k,i}^T / x_{k,i}^0)`` tends to ``V_i^T`` for the factor that is zero and to 0 for
  the others, so the factor that becomes non-zero receives the category's whole value;
* a category that *disappears* (``V_i^0 > 0 = V_i^T``) gives ``−V_i^0`` to the factor(s) that become zero.

When several factors of one category are zero in the same year the limit depends on how fast each
goes to zero; citycarbon takes them to zero at the same rate, which splits the category's value equally
among them. Either way the additive effects still close exactly. The multiplicative form needs a positive
aggregate in both years (``V^T / V^0``); when an aggregate is zero its indices and ratio are ``NaN``
(``None`` in :meth:`LmdiPeriod.to_dict`).

Input contract
--------------
``data`` is long: one row per ``year, category, factor, value`` (other columns are ignored). Every
category needs every factor in every year used; values are finite and ``≥ 0``. Duplicate rows,
missing combinations, negative or non-numeric values, unknown years raise :class:`InputError` naming
the row (1-based data row, header excluded), the field and the value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem, Problems
from citycarbon.provenance import Provenance, hash_frame

__all__ = [
    "INPUT_COLUMNS",
    "METHOD",
    "LmdiPeriod",
    "LmdiResult",
    "decompose_lmdi",
    "decompose_lmdi_chain",
    "log_mean",
]

#: columns the long input must have
INPUT_COLUMNS: tuple[str, ...] = ("year", "category", "factor", "value")
#: method name recorded in provenance
METHOD = "LMDI-I (additive and multiplicative)"
METHOD_VERSION = "1"
STANDARDS: tuple[str, ...] = (
    "Ang, B.W. (2004) Energy Policy 32:1131-1139",
    "Ang, B.W. (2005) Energy Policy 33:867-871, Table 1 (LMDI-I)",
    "Ang, B.W. & Liu, N. (2007) Energy Policy 35:238-246 (zero values: analytical limits)",
)


# --------------------------------------------------------------------------------------------------
# numerics
# --------------------------------------------------------------------------------------------------

def log_mean(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Logarithmic mean ``L(a, b) = (a − b) / (ln a − ln b)``, ``L(a, a) = a``, ``L(x, 0) = 0`` (Ang 2005).

    Symmetric to the last bit (computed from the larger and smaller argument) and accurate for nearly
    equal arguments: ``(hi − lo) / log1p((hi − lo) / lo)``. Arguments must be ``≥ 0``.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    hi = np.maximum(a, b)
    lo = np.minimum(a, b)
    diff = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        value = diff / np.log1p(diff / lo)
    value = np.where(diff == 0, hi, value)
    return np.where(lo == 0, 0.0, value)


def _additive_effects(x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category × factor effects for stacked periods.

    ``x0``, ``x1``: arrays ``[period, category, factor]`` of the start and end years. Returns
    ``(effects [period, category, factor], v0 [period, category], v1 [period, category])``.
    """
    v0 = x0.prod(axis=-1)
    v1 = x1.prod(axis=-1)
    weight = log_mean(v1, v0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(x1 / x0)
    zero = (v0 == 0) | (v1 == 0)
    if not zero.any():
        return weight[..., None] * log_ratio, v0, v1
    # Ang & Liu (2007): L(x, 0) = 0 removes every finite term; the limits of the infinite ones follow.
    log_ratio = np.where(zero[..., None], 0.0, log_ratio)
    effects = weight[..., None] * log_ratio
    appear = (v0 == 0) & (v1 > 0)
    if appear.any():
        became = (x0 == 0) & appear[..., None]
        share = v1 / np.maximum(became.sum(axis=-1), 1)
        effects = np.where(became, share[..., None], effects)
    vanish = (v0 > 0) & (v1 == 0)
    if vanish.any():
        became = (x1 == 0) & vanish[..., None]
        share = -v0 / np.maximum(became.sum(axis=-1), 1)
        effects = np.where(became, share[..., None], effects)
    return effects, v0, v1


def _log_indices(effects_by_factor: np.ndarray, total0: np.ndarray, total1: np.ndarray) -> np.ndarray:
    """``ln D_k = ΔV_k / L(V^T, V^0)`` (Ang 2005, Table 1, LMDI-I); NaN when an aggregate is zero."""
    weight = log_mean(total1, total0)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = effects_by_factor / weight[..., None]
    return np.where((weight > 0)[..., None], result, np.nan)


# --------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------

def _number(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


@dataclass(frozen=True, eq=False)
class LmdiPeriod:
    """Decomposition of the change of ``V`` from ``start`` to ``end`` (one period).

    ``effects`` is the ``[category, factor]`` array of additive effects (unit of ``V``);
    ``log_indices`` the ``[factor]`` array of ``ln D_k``.
    """

    start: int
    end: int
    factors: tuple[str, ...]
    categories: tuple[str, ...]
    v_start: float
    v_end: float
    effects: np.ndarray = field(repr=False)
    log_indices: np.ndarray = field(repr=False)

    @property
    def total_change(self) -> float:
        return float(self.v_end - self.v_start)

    @property
    def ratio(self) -> float:
        """``V^T / V^0``; NaN when ``V^0`` is zero."""
        if self.v_start == 0:
            return math.nan
        return float(self.v_end / self.v_start)

    @property
    def additive(self) -> dict[str, float]:
        """Additive effect per factor (unit of ``V``); they sum to :attr:`total_change`."""
        sums = self.effects.sum(axis=0)
        return {name: float(v) for name, v in zip(self.factors, sums, strict=True)}

    @property
    def multiplicative(self) -> dict[str, float]:
        """Multiplicative index per factor (dimensionless); they multiply to :attr:`ratio`."""
        return {name: float(np.exp(v)) for name, v in zip(self.factors, self.log_indices, strict=True)}

    @property
    def by_category(self) -> dict[str, dict[str, float]]:
        """Additive effect per category and factor."""
        return {
            category: {name: float(v) for name, v in zip(self.factors, row, strict=True)}
            for category, row in zip(self.categories, self.effects, strict=True)
        }

    @property
    def closure_error(self) -> float:
        """``|Σ_k ΔV_k − (V^T − V^0)| / max(V^0, V^T)`` (0 when both are zero)."""
        scale = max(abs(self.v_start), abs(self.v_end))
        if scale == 0:
            return float(abs(self.effects.sum()))
        return float(abs(self.effects.sum() - (self.v_end - self.v_start)) / scale)

    def to_dict(self) -> dict[str, Any]:
        """``{"from", "to", "total_change", "ratio", "additive", "multiplicative", "by_category"}``.

        Plain Python floats; an undefined ratio or index (zero aggregate) is ``None``.
        """
        return {
            "from": int(self.start),
            "to": int(self.end),
            "total_change": _number(self.total_change),
            "ratio": _number(self.ratio),
            "additive": {k: _number(v) for k, v in self.additive.items()},
            "multiplicative": {k: _number(v) for k, v in self.multiplicative.items()},
            "by_category": {c: {k: _number(v) for k, v in row.items()}
                            for c, row in self.by_category.items()},
        }

    def rows(self) -> list[dict[str, Any]]:
        """Long rows ``from, to, factor, additive_effect, multiplicative_index`` (one per factor)."""
        additive = self.additive
        multiplicative = self.multiplicative
        return [
            {"from": int(self.start), "to": int(self.end), "factor": name,
             "additive_effect": additive[name], "multiplicative_index": multiplicative[name]}
            for name in self.factors
        ]


@dataclass(frozen=True, eq=False)
class LmdiResult(LmdiPeriod):
    """A decomposition over ``start → end`` with the periods it was computed from.

    For :func:`decompose_lmdi` there is one period (the direct decomposition). For
    :func:`decompose_lmdi_chain` the periods are consecutive and this object holds the chained totals:
    additive effects summed over the periods, multiplicative indices multiplied.
    """

    periods: tuple[LmdiPeriod, ...] = ()
    _input: pd.DataFrame | None = field(default=None, repr=False)
    _parameters: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def provenance(self) -> Provenance:
        """What the result was computed from (input content hash, method, parameters)."""
        inputs = {"data": hash_frame(self._input)} if self._input is not None else {}
        return Provenance(method=METHOD, method_version=METHOD_VERSION, standards=list(STANDARDS),
                          inputs=inputs, parameters=dict(self._parameters))

    @property
    def max_closure_error(self) -> float:
        """Largest closure error over the result and each of its periods."""
        return max([self.closure_error, *(p.closure_error for p in self.periods)])

    def period_rows(self) -> list[dict[str, Any]]:
        """:meth:`LmdiPeriod.rows` of every period, in order."""
        return [row for period in self.periods for row in period.rows()]


# --------------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Cube:
    years: np.ndarray  # int64, sorted
    categories: tuple[str, ...]
    factors: tuple[str, ...]
    values: np.ndarray  # [year, category, factor]
    frame: pd.DataFrame

    def index_of(self, year: int) -> int:
        return int(np.searchsorted(self.years, year))


def _labels(series: pd.Series) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Codes into stripped string labels, the labels, and a mask of missing/empty entries.

    Works on the distinct values only (fast), whatever the column dtype (pandas 3 ``str`` included).
    """
    codes, uniques = pd.factorize(series, sort=False)
    stripped = np.array([str(u).strip() for u in uniques], dtype=object)
    label_codes, labels = pd.factorize(stripped, sort=False)
    mapped = np.where(codes >= 0, label_codes[np.maximum(codes, 0)] if len(label_codes) else -1, -1)
    names = [str(label) for label in labels]
    empty = [i for i, name in enumerate(names) if name == ""]
    bad = (mapped < 0) | np.isin(mapped, empty)
    return mapped, names, bad


def _check_years(requested: Sequence[object], available: np.ndarray, source: str | None) -> list[int]:
    problems = Problems()
    years: list[int] = []
    known = {int(y) for y in available}
    for year in requested:
        try:
            as_int = int(year)  # type: ignore[call-overload]
            valid = float(year) == as_int  # type: ignore[arg-type]
        except (TypeError, ValueError):
            valid = False
            as_int = 0
        if not valid:
            problems.add("year must be an integer", file=source, field="year", value=year)
            continue
        if as_int not in known:
            suggestion = str(min(sorted(known), key=lambda y: abs(y - as_int))) if known else None
            problems.add(f"year {as_int} is not in the data (years: "
                         f"{', '.join(str(y) for y in sorted(known)) or 'none'})",
                         file=source, field="year", value=as_int, suggestion=suggestion)
            continue
        years.append(as_int)
    problems.raise_if_any()
    return years


def _build_cube(data: pd.DataFrame, wanted: Sequence[object] | None,
                source: str | None) -> tuple[_Cube, list[int]]:
    """Validate the long frame and pivot it to ``[year, category, factor]`` (rows of ``wanted`` years)."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(Problem(f"LMDI input must be a pandas DataFrame, got {type(data).__name__}",
                                 file=source))
    missing_columns = [c for c in INPUT_COLUMNS if c not in data.columns]
    if missing_columns:
        present = [str(c) for c in data.columns]
        raise InputError([Problem(f"missing column '{c}' (need {', '.join(INPUT_COLUMNS)})", file=source,
                                  field=c, suggestion=nearest(c, present) if present else None)
                          for c in missing_columns])
    if data.empty:
        raise InputError(Problem("no rows", file=source))

    problems = Problems()
    year_raw = data["year"]
    year_num = pd.to_numeric(year_raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad_year = ~np.isfinite(year_num) | (np.round(year_num) != year_num)
    for pos in np.flatnonzero(bad_year):
        problems.add("year must be an integer", file=source, row=int(pos) + 1, field="year",
                     value=year_raw.iloc[pos])
    category_all, category_labels, bad_category = _labels(data["category"])
    for pos in np.flatnonzero(bad_category):
        problems.add("category is empty", file=source, row=int(pos) + 1, field="category")
    factor_all, factor_labels, bad_factor = _labels(data["factor"])
    for pos in np.flatnonzero(bad_factor):
        problems.add("factor is empty", file=source, row=int(pos) + 1, field="factor")
    value_raw = data["value"]
    value = pd.to_numeric(value_raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    not_number = ~np.isfinite(value)
    for pos in np.flatnonzero(not_number):
        problems.add("value is missing or not a finite number", file=source, row=int(pos) + 1,
                     field="value", value=value_raw.iloc[pos])
    negative = value < 0
    for pos in np.flatnonzero(negative):
        where = (f"year {year_raw.iloc[pos]}, category '{category_labels[category_all[pos]]}', "
                 f"factor '{factor_labels[factor_all[pos]]}'")
        problems.add(f"negative value {float(value[pos])!r} ({where}); LMDI needs values >= 0", file=source,
                     row=int(pos) + 1, field="value", value=float(value[pos]))
    problems.raise_if_any()

    years_int = year_num.astype(np.int64)
    available = np.unique(years_int)
    chosen = [int(y) for y in available] if wanted is None else _check_years(list(wanted), available, source)
    keep = np.isin(years_int, np.asarray(chosen, dtype=np.int64))
    rows = np.flatnonzero(keep)
    years_sorted, year_code = np.unique(years_int[rows], return_inverse=True)
    category_code, category_used = pd.factorize(category_all[rows], sort=False)
    factor_code, factor_used = pd.factorize(factor_all[rows], sort=False)
    category_names = [category_labels[c] for c in category_used]
    factor_names = [factor_labels[f] for f in factor_used]
    n_years, n_categories, n_factors = len(years_sorted), len(category_names), len(factor_names)

    flat = (year_code * n_categories + category_code) * n_factors + factor_code
    duplicated = pd.Series(flat).duplicated(keep=False).to_numpy()
    if duplicated.any():
        first_row: dict[int, int] = {}
        for pos in np.flatnonzero(duplicated):
            key = int(flat[pos])
            row = int(rows[pos]) + 1
            if key in first_row:
                name = factor_names[factor_code[pos]]
                problems.add(f"duplicate row for year {years_int[rows[pos]]}, category "
                             f"'{category_names[category_code[pos]]}', factor '{name}' (first given in row "
                             f"{first_row[key]})", file=source, row=row, field="factor", value=name)
            else:
                first_row[key] = row
        problems.raise_if_any()

    cube: np.ndarray = np.full(n_years * n_categories * n_factors, np.nan)
    cube[flat] = value[rows]
    cube = cube.reshape(n_years, n_categories, n_factors)
    holes = np.argwhere(np.isnan(cube))
    for y, c, f in holes:
        problems.add(f"missing value for year {years_sorted[y]}, category '{category_names[c]}', factor "
                     f"'{factor_names[f]}': every category needs every factor in every year",
                     file=source, field="value")
    problems.raise_if_any()
    result = _Cube(years=years_sorted, categories=tuple(category_names), factors=tuple(factor_names),
                   values=cube, frame=data)
    return result, chosen


def _periods(cube: _Cube, starts: Sequence[int], ends: Sequence[int]) -> list[LmdiPeriod]:
    i0 = np.array([cube.index_of(y) for y in starts])
    i1 = np.array([cube.index_of(y) for y in ends])
    x0 = cube.values[i0]
    x1 = cube.values[i1]
    effects, v0, v1 = _additive_effects(x0, x1)
    total0 = v0.sum(axis=1)
    total1 = v1.sum(axis=1)
    log_indices = _log_indices(effects.sum(axis=1), total0, total1)
    return [
        LmdiPeriod(start=int(s), end=int(e), factors=cube.factors, categories=cube.categories,
                   v_start=float(total0[p]), v_end=float(total1[p]), effects=effects[p],
                   log_indices=log_indices[p])
        for p, (s, e) in enumerate(zip(starts, ends, strict=True))
    ]


# --------------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------------

def decompose_lmdi(data: pd.DataFrame, *, start: int, end: int, source: str | None = None) -> LmdiResult:
    """LMDI-I decomposition of the change of ``V = Σ_category Π_factor value`` from ``start`` to ``end``.

    Ang (2005) Table 1 (LMDI-I, additive and multiplicative); zero values by the analytical limits of
    Ang & Liu (2007). ``start`` may be later than ``end`` (time reversal gives negated additive effects
    and reciprocal indices). Only the rows of the two years are used; every category needs every factor
    in both. ``source`` (a file name) is put into error messages.

    Raises :class:`InputError` for missing columns, duplicate rows, missing (category, factor)
    combinations, negative/non-numeric values, unknown years, or ``start == end``.
    """
    if start == end:
        raise InputError(Problem(f"start and end are the same year ({start}); nothing to decompose",
                                 file=source, field="year", value=start))
    cube, (y0, y1) = _build_cube(data, [start, end], source)
    (period,) = _periods(cube, [y0], [y1])
    return LmdiResult(start=period.start, end=period.end, factors=period.factors,
                      categories=period.categories, v_start=period.v_start, v_end=period.v_end,
                      effects=period.effects, log_indices=period.log_indices, periods=(period,),
                      _input=data, _parameters={"start": y0, "end": y1})


def decompose_lmdi_chain(data: pd.DataFrame, years: Sequence[int] | None = None, *,
                         source: str | None = None) -> LmdiResult:
    """Chained LMDI-I over consecutive years (all years of ``data`` in ascending order when ``None``).

    Each period ``years[j] → years[j+1]`` is decomposed as in :func:`decompose_lmdi`; the result holds
    the periods and the chained totals over ``years[0] → years[-1]``: additive effects summed (they add
    up to ``V(years[-1]) − V(years[0])``) and multiplicative indices multiplied (their product is
    ``V(years[-1]) / V(years[0])``) (chaining; Ang (2015) Energy Policy 86:233–238).

    Raises :class:`InputError` as :func:`decompose_lmdi`, and when fewer than two distinct years are
    given or a year repeats.
    """
    if years is not None:
        listed = list(years)
        if len(listed) < 2:
            raise InputError(Problem("a chain needs at least two years", file=source, field="year",
                                     value=listed))
        if len(set(listed)) != len(listed):
            raise InputError(Problem(f"years repeat in the chain: {listed}", file=source, field="year",
                                     value=listed))
    cube, chosen = _build_cube(data, years, source)
    if len(chosen) < 2:
        raise InputError(Problem(f"a chain needs at least two years; the data has {chosen}", file=source,
                                 field="year", value=chosen))
    periods = _periods(cube, chosen[:-1], chosen[1:])
    effects = np.sum([p.effects for p in periods], axis=0)
    log_indices = np.sum([p.log_indices for p in periods], axis=0)
    return LmdiResult(start=chosen[0], end=chosen[-1], factors=cube.factors, categories=cube.categories,
                      v_start=periods[0].v_start, v_end=periods[-1].v_end, effects=effects,
                      log_indices=log_indices, periods=tuple(periods), _input=data,
                      _parameters={"years": chosen})
