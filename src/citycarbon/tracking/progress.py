"""Progress of a plan target: 序时进度, required annual rate, control path, projection and warning level.

Method
------
Following /work/shared/reference/methods.md §4 (发改办环资〔2021〕629号 and its suggested implementation):

* time-elapsed share (序时进度) e = (t − t₀) / (T − t₀), t the latest actual year, t₀ the base year
  (the target's ``base_year``, else the plan's base year), T the target year; clipped to [0, 1];
* progress share p = (x_t − x₀) / (X − x₀), with X the target value. An intensity-reduction target is
  tracked on the reduction r_t = 1 − I_t / I₀ (cumulative against ``base_year``, GDP at constant prices,
  methods.md §3), so x₀ = 0 and p = r_t / R;
* required share p*: ``linear`` pace p* = e (the target × elapsed fraction, methods.md §4, the default);
  ``compound`` pace p* follows the constant-rate path: reduction (1 − (1 − R)^e) / R, levels
  (x₀ (X/x₀)^e − x₀) / (X − x₀). The control path is x₀ + p* (X − x₀);
* required average annual rate from the latest year: intensity 1 − ((1 − R)/(1 − r_t))^(1/(T − t)) (the
  yearly intensity cut still needed); levels (X / x_t)^(1/(T − t)) − 1;
* warning metrics (larger = worse): ``yoy_worsening`` (intensity or total up on the previous year; for
  higher-is-better indicators the fall), ``pace_gap`` = p* − p, ``path_excess`` (relative excess over the
  control path), ``peak_after_target``; the rule set (:mod:`citycarbon.tracking.warning_rules`) rates them.

Everything here is pure: series in (year → value in the target's unit), a :class:`TargetStatus` out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from citycarbon.plan import Target, indicator_table
from citycarbon.tracking.peak import NEUTRALITY_INDICATORS, neutrality_verdict
from citycarbon.tracking.projection import Projection, project_peak_year, project_trend
from citycarbon.tracking.warning_rules import Rating, RuleSet

#: intensity level tracked for each reduction indicator (the reduction is 1 − I_t / I_base)
INTENSITY_OF_REDUCTION: dict[str, str] = {
    "energy_intensity_reduction": "energy_intensity_tce_per_10k_yuan",
    "co2_intensity_reduction": "co2_intensity_t_per_10k_yuan",
}
#: the series tracked for a peak-year indicator
SERIES_OF_YEAR_INDICATOR: dict[str, str] = {"co2_peak_year": "co2_emissions_t"}


@dataclass(frozen=True)
class TargetInfo:
    """A plan target with what tracking needs of its indicator (codelist ``indicators.csv``)."""

    target: Target
    kind: str
    direction: str
    base_year: int
    series: str  # the indicator whose yearly values are tracked (intensity level for a reduction)
    subject_zh: str
    subject_en: str

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_is_better"


def describe_target(target: Target, default_base_year: int) -> TargetInfo:
    """Join a target with its indicator's kind, direction and the series that tracks it."""
    table = indicator_table()
    row = table.loc[target.indicator]
    series = INTENSITY_OF_REDUCTION.get(target.indicator) or SERIES_OF_YEAR_INDICATOR.get(
        target.indicator, target.indicator)
    subject = table.loc[series] if series in table.index else row
    return TargetInfo(target, str(row["kind"]), str(row["direction"]), target.base_year or default_base_year,
                      series, str(subject["name_zh"]), str(subject["name_en"]))


@dataclass
class TargetStatus:
    """The tracking result of one target in one year (the JSON row of ``citycarbon status``)."""

    id: str
    indicator: str
    title_zh: str
    title_en: str
    unit: str
    comparison: str
    target_year: int
    target_value: float | None
    is_set: bool
    base_year: int
    base_value: float | None
    year: int
    actual_year: int | None
    actual: float | None
    previous: float | None
    required_annual_rate: float | None
    required_annual_change: float | None
    time_elapsed_share: float | None
    required_share: float | None
    progress_share: float | None
    on_pace: bool | None
    path_value: float | None
    projection: Projection | None
    projected_met: bool | None
    met: bool | None
    level: int | None
    level_name_zh: str | None
    level_name_en: str | None
    colour: str | None
    reason: str
    reason_en: str
    rule_set: str
    rule_family: str | None
    rule_status: str | None
    metrics: dict[str, float | None]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        projection = self.projection
        return {
            "id": self.id, "indicator": self.indicator, "title_zh": self.title_zh, "title_en": self.title_en,
            "unit": self.unit, "comparison": self.comparison, "target_year": self.target_year,
            "target_value": self.target_value, "is_set": self.is_set, "base_year": self.base_year,
            "base_value": self.base_value, "actual_year": self.actual_year, "actual": self.actual,
            "previous": self.previous, "required_annual_rate": self.required_annual_rate,
            "required_annual_change": self.required_annual_change,
            "time_elapsed_share": self.time_elapsed_share, "required_share": self.required_share,
            "progress_share": self.progress_share, "on_pace": self.on_pace, "path_value": self.path_value,
            "projection": {
                "year": projection.year if projection else self.target_year,
                "value": projection.value if projection else None,
                "low": projection.low if projection else None,
                "high": projection.high if projection else None,
                "source": projection.source if projection else None,
                "method": projection.method if projection else None,
            },
            "projected_met": self.projected_met, "met": self.met, "level": self.level,
            "level_name_zh": self.level_name_zh, "level_name_en": self.level_name_en, "colour": self.colour,
            "reason": self.reason, "reason_en": self.reason_en, "rule_set": self.rule_set,
            "rule_family": self.rule_family, "rule_status": self.rule_status, "metrics": dict(self.metrics),
            **self.extra,
        }


def _finite(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) or math.isinf(number) else number


def format_value(value: float | None, unit: str, kind: str) -> str | None:
    """A value as people read it in a reason: shares and reductions in %, years as years."""
    if value is None:
        return None
    if kind == "year" or unit == "year":
        return str(int(value))
    if unit == "dimensionless":
        return f"{value:.2%}"
    if abs(value) >= 1000:
        return f"{value:,.0f} {unit.replace('**3', '³')}"
    return f"{value:.4g} {unit}"


def _required_share(pace: str, kind: str, base: float, target: float, elapsed: float) -> float:
    if pace == "compound":
        if kind == "reduction" and target < 1:
            share: float = (1 - (1 - target) ** elapsed) / target if target != 0 else elapsed
            return share
        if base > 0 and target > 0 and target != base:
            share = (base * (target / base) ** elapsed - base) / (target - base)
            return share
    return elapsed


def _oriented_change(current: float, previous: float | None, higher_is_better: bool) -> float | None:
    if previous is None or previous <= 0:
        return None
    change = current / previous - 1
    return -change if higher_is_better else change


def track_target(info: TargetInfo, history: Mapping[int, float], year: int, rules: RuleSet, *,
                 projection: Projection | None = None) -> TargetStatus:
    """Track ``info.target`` in ``year`` from ``history`` (year → value of ``info.series``, target unit).

    ``projection`` (in the target's unit) replaces the trend projection, e.g. a pathway scenario's.
    Years after ``year`` in ``history`` are ignored.
    """
    target = info.target
    series = {int(y): float(v) for y, v in history.items()
              if int(y) <= year and v is not None and not math.isnan(float(v))}
    if info.kind == "year":
        return _track_peak(info, series, year, rules, projection)
    actual_year = max(series) if series else None
    base_level = series.get(info.base_year)
    level_now = series.get(actual_year) if actual_year is not None else None
    level_prev = series.get(actual_year - 1) if actual_year is not None else None
    reduction = info.kind == "reduction"
    if reduction:
        actual = 1 - level_now / base_level if level_now is not None and base_level else None
        previous = 1 - level_prev / base_level if level_prev is not None and base_level else None
        base_value: float | None = 0.0 if base_level else None
        yoy = _oriented_change(level_now, level_prev, False) if level_now is not None else None
    else:
        actual, previous, base_value = level_now, level_prev, base_level
        yoy = _oriented_change(level_now, level_prev, info.higher_is_better) if level_now is not None else None
    value = target.value
    span = target.year - info.base_year
    elapsed = None
    if actual_year is not None and span > 0:
        elapsed = min(1.0, max(0.0, (actual_year - info.base_year) / span))

    progress = required = path_value = path_excess = rate = change = None
    on_pace = None
    if value is not None and actual is not None and base_value is not None and elapsed is not None:
        distance = value - base_value
        towards_good = distance > 0 if info.higher_is_better else distance < 0
        cap = not towards_good and not info.higher_is_better and distance > 0
        if towards_good:
            progress = (actual - base_value) / distance
            required = _required_share(rules.pace, info.kind, base_value, value, elapsed)
            path_value = base_value + required * distance
        elif cap:  # a cap above the base (总量控制 allowing growth): the control path spends the allowance pro rata
            required = _required_share(rules.pace, info.kind, base_value, value, elapsed)
            path_value = base_value + required * distance
            # progress = share of the pro-rata allowance left unspent, mapped so that p ≥ p* means on the path
            progress = required + (path_value - actual) / distance
        else:  # the base already meets the target (e.g. "不低于" a level reached): holding it is full progress
            holding = actual >= value if info.higher_is_better else actual <= value
            progress = 1.0 if holding else 0.0
            required = elapsed
            path_value = value
        on_pace = progress >= required - 1e-12
        if path_value != 0:
            ratio = actual / path_value - 1 if path_value > 0 else (actual - path_value) / abs(path_value)
            path_excess = -ratio if info.higher_is_better else ratio
    if value is not None and actual is not None and actual_year is not None and target.year > actual_year:
        years_left = target.year - actual_year
        change = (value - actual) / years_left
        if reduction and actual < 1 and value < 1:
            rate = 1 - ((1 - value) / (1 - actual)) ** (1 / years_left)
        elif not reduction and actual > 0 and value > 0:
            rate = (value / actual) ** (1 / years_left) - 1

    if projection is None and actual_year is not None and target.year > actual_year:
        share = not reduction and str(target.unit) in ("dimensionless", "1")  # a fraction, e.g. non-fossil share
        projection = project_trend(series, target.year, window=rules.window_years, interval=rules.interval,
                                   bounded=share)
        if projection is not None and reduction and base_level:
            projection = Projection(projection.year, 1 - projection.value / base_level,
                                    1 - projection.high / base_level, 1 - projection.low / base_level,
                                    projection.source, projection.method + " of the intensity level")
    projected_met = target.evaluate(projection.value) if projection is not None and value is not None else None
    met = target.evaluate(actual) if actual is not None and value is not None else None

    neutral = None
    if target.indicator in NEUTRALITY_INDICATORS and value is not None:
        neutral = neutrality_verdict(projection.value if projection is not None else None, target.year,
                                     target_value=value, source=projection.source if projection else None)
    metrics = {"yoy_worsening": _finite(yoy), "pace_gap": _finite(required - progress)
               if required is not None and progress is not None else None,
               "path_excess": _finite(path_excess), "peak_after_target": None,
               "neutrality_shortfall": _finite(neutral.shortfall) if neutral is not None else None}
    texts = _texts(info, year, actual_year, actual, previous, path_value, progress, required, elapsed)
    texts["projection_text"] = format_value(projection.value if projection is not None else None, target.unit,
                                            info.kind)
    rating = rules.rate(target.indicator, info.kind, {**texts, **metrics}, is_set=value is not None,
                        has_data=actual is not None)
    extra: dict[str, Any] = {}
    if neutral is not None:
        rating = _neutrality_guard(rating, neutral.reached, rules, texts)
        extra["neutrality"] = neutral.to_dict()
    return _status(info, year, rules, rating, actual_year=actual_year, actual=actual, previous=previous,
                   base_value=base_value, rate=rate, change=change, elapsed=elapsed, required=required,
                   progress=progress, on_pace=on_pace, path_value=path_value, projection=projection,
                   projected_met=projected_met, met=met, metrics=metrics, extra=extra)


def _neutrality_guard(rating: Rating, reached: bool | None, rules: RuleSet, texts: dict[str, Any]) -> Rating:
    """Carbon neutrality is never 三级 unless the projection reaches it: a rule set that would rate it 三级
    (a variant without the neutrality checks) is held at 二级, with the reason saying why."""
    if rating.level != 3 or reached:
        return rating
    style = rules.levels[2]
    projected = texts.get("projection_text") or "—"
    return Rating(2, style.colour,
                  f"按{texts['target_year']}年预测净排放{projected}，未实现碳中和（二级预警）。",
                  f"The {texts['target_year']} projection of {projected} does not reach carbon neutrality (level 2).",
                  rating.family, rating.rule_status)


def _texts(info: TargetInfo, year: int, actual_year: int | None, actual: float | None, previous: float | None,
           path_value: float | None, progress: float | None, required: float | None,
           elapsed: float | None) -> dict[str, Any]:
    target = info.target
    unit = target.unit
    return {
        "title_zh": target.title_zh, "title_en": target.title_en, "subject_zh": info.subject_zh,
        "subject_en": info.subject_en, "year": actual_year if actual_year is not None else year,
        "base_year": info.base_year, "target_year": target.year,
        "actual_text": format_value(actual, unit, info.kind),
        "target_text": format_value(target.value, unit, info.kind),
        "path_text": format_value(path_value, unit, info.kind),
        "previous_text": format_value(previous, unit, info.kind),
        "progress_share": progress, "required_share": required, "time_elapsed_share": elapsed,
    }


def _status(info: TargetInfo, year: int, rules: RuleSet, rating: Rating, **values: Any) -> TargetStatus:
    target = info.target
    style = rules.levels.get(rating.level) if rating.level is not None else None
    return TargetStatus(
        id=target.id, indicator=target.indicator, title_zh=target.title_zh, title_en=target.title_en,
        unit=target.unit, comparison=target.comparison.value, target_year=target.year,
        target_value=target.value, is_set=target.is_set, base_year=info.base_year,
        base_value=values["base_value"], year=year, actual_year=values["actual_year"], actual=values["actual"],
        previous=values["previous"], required_annual_rate=values["rate"], required_annual_change=values["change"],
        time_elapsed_share=values["elapsed"], required_share=values["required"],
        progress_share=values["progress"], on_pace=values["on_pace"], path_value=values["path_value"],
        projection=values["projection"], projected_met=values["projected_met"], met=values["met"],
        level=rating.level, level_name_zh=style.name_zh if style else None,
        level_name_en=style.name_en if style else None, colour=rating.colour, reason=rating.reason_zh,
        reason_en=rating.reason_en, rule_set=rules.name, rule_family=rating.family,
        rule_status=rating.rule_status, metrics=values["metrics"], extra=values.get("extra", {}))


def _track_peak(info: TargetInfo, series: dict[int, float], year: int, rules: RuleSet,
                projection: Projection | None) -> TargetStatus:
    """co2_peak_year: the highest year so far, and whether the trend peaks by the target year."""
    target = info.target
    peak = project_peak_year(series, window=rules.window_years)
    actual_year = max(series) if series else None
    span = target.year - info.base_year
    elapsed = (min(1.0, max(0.0, (actual_year - info.base_year) / span))
               if actual_year is not None and span > 0 else None)
    projected = projection.value if projection is not None else (
        peak.projected_peak_year if peak is not None else None)
    late = None
    if peak is not None and target.value is not None:
        late = 1.0 if projected is None or projected > target.value else 0.0
    current = series.get(actual_year) if actual_year is not None else None
    yoy = (_oriented_change(current, series.get(actual_year - 1), False)
           if actual_year is not None and current is not None else None)
    metrics = {"yoy_worsening": _finite(yoy), "pace_gap": None, "path_excess": None, "peak_after_target": late,
               "neutrality_shortfall": None}
    texts = _texts(info, year, actual_year, peak.peak_year_so_far if peak else None, None, None, None, None,
                   elapsed)
    texts["peak_year"] = peak.peak_year_so_far if peak else None
    texts["projected_peak_zh"] = f"{int(projected)}年" if projected is not None else "尚无达峰迹象"
    texts["projected_peak_en"] = str(int(projected)) if projected is not None else "not in sight"
    rating = rules.rate(target.indicator, info.kind, {**texts, **metrics}, is_set=target.value is not None,
                        has_data=peak is not None)
    if projection is None and projected is not None:
        projection = Projection(target.year, float(projected), float(projected), float(projected), "trend",
                                peak.method if peak else "")
    projected_met = target.evaluate(projected) if projected is not None and target.value is not None else (
        False if target.value is not None and peak is not None else None)
    # a peak is only confirmed in hindsight: 'met' is judged once the target year is in the data
    met = (target.evaluate(peak.peak_year_so_far) if peak is not None and actual_year is not None
           and target.value is not None and actual_year >= target.year else None)
    extra = {"peak_year_so_far": peak.peak_year_so_far if peak else None,
             "projected_peak_year": projected, "peak_likely_by_target": projected_met,
             "series_rising": peak.rising if peak else None}
    return _status(info, year, rules, rating, actual_year=actual_year,
                   actual=float(peak.peak_year_so_far) if peak else None, previous=None, base_value=None, rate=None,
                   change=None, elapsed=elapsed, required=None, progress=None, on_pace=None, path_value=None,
                   projection=projection, projected_met=projected_met, met=met, metrics=metrics, extra=extra)


__all__ = [
    "INTENSITY_OF_REDUCTION",
    "SERIES_OF_YEAR_INDICATOR",
    "TargetInfo",
    "TargetStatus",
    "describe_target",
    "format_value",
    "track_target",
]
