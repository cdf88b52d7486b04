"""Early-warning rule sets (预警规则) as data, and rating progress metrics with them.

Method
------
发改办环资〔2021〕629号《2021年上半年各地区能耗双控目标完成情况晴雨表》 rates energy-intensity progress
一级 when intensity rose year on year (不降反升), 二级 when it fell but slower than the pro-rata progress
required (降低率未达到进度要求) and 三级 otherwise, and rates total consumption on the same three levels
(/work/shared/reference/methods.md §4). The thresholds, colours and wording are rows of
``data/tracking/warning_rules.yaml``; a province's variant is another rule set there (``extends`` one and
overrides what differs), so no code changes with the rules.

Contract
--------
* Every metric is oriented so that a larger value is worse. A check fires when all its conditions hold;
  checks are tried from level 1 upwards and must only test ``>``/``>=`` (a worse metric can only make a
  check fire). Hence the rating is monotone: better progress never gives a worse level.
* A condition on a metric that is missing (``None``) does not hold.
* Bad rule files raise :class:`~citycarbon.errors.InputError` naming the file, the rule set and the field.
"""

from __future__ import annotations

import copy
import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from citycarbon.codelists import nearest
from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem

RULES_FILE = "tracking/warning_rules.yaml"
METRICS: tuple[str, ...] = ("yoy_worsening", "pace_gap", "path_excess", "peak_after_target",
                            "neutrality_shortfall")
OPERATORS: tuple[str, ...] = (">", ">=")
PACES: tuple[str, ...] = ("linear", "compound")
LEVELS: tuple[int, ...] = (1, 2, 3)
STATUSES: tuple[str, ...] = ("official", "secondary", "unverified", "estimate")
MISSING_TEXT = "—"


@dataclass(frozen=True)
class Condition:
    """``metric op threshold``, e.g. ``yoy_worsening > 0``."""

    metric: str
    op: str
    threshold: float

    def holds(self, metrics: Mapping[str, float | None]) -> bool:
        value = metrics.get(self.metric)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return value > self.threshold if self.op == ">" else value >= self.threshold


@dataclass(frozen=True)
class Check:
    """A warning level that applies when every condition holds, with its reason templates."""

    level: int
    when: tuple[Condition, ...]
    reason_zh: str
    reason_en: str

    def fires(self, metrics: Mapping[str, float | None]) -> bool:
        return all(c.holds(metrics) for c in self.when)


@dataclass(frozen=True)
class Family:
    """Rules for a group of indicators (intensity, total, peak, progress)."""

    name: str
    indicators: tuple[str, ...]
    kinds: tuple[str, ...]
    checks: tuple[Check, ...]
    default: Check
    status: str


@dataclass(frozen=True)
class LevelStyle:
    level: int
    name_zh: str
    name_en: str
    colour: str
    meaning_zh: str
    meaning_en: str


@dataclass(frozen=True)
class Rating:
    """The outcome of rating one target: level (None = not rated), colour and the reasons."""

    level: int | None
    colour: str | None
    reason_zh: str
    reason_en: str
    family: str | None
    rule_status: str | None


@dataclass(frozen=True)
class RuleSet:
    """A complete, validated rule set."""

    name: str
    title_zh: str
    title_en: str
    document: str
    source: str
    status: str
    pace: str
    window_years: int
    interval: float
    levels: dict[int, LevelStyle]
    families: tuple[Family, ...]
    texts: dict[str, dict[str, str]]  # unset / no_data → {reason_zh, reason_en}

    def family_for(self, indicator: str, kind: str) -> Family:
        """The family rating ``indicator``: by indicator id first, then by indicator kind."""
        for family in self.families:
            if indicator in family.indicators:
                return family
        for family in self.families:
            if kind in family.kinds:
                return family
        raise KeyError(f"rule set {self.name}: no family covers indicator {indicator!r} (kind {kind!r})")

    def rate(self, indicator: str, kind: str, metrics: Mapping[str, Any], *, is_set: bool,
             has_data: bool) -> Rating:
        """Rate a target from its metrics (see :mod:`citycarbon.tracking.progress` for the metrics).

        Checks fire in order of level; an unset target can still be rated by a check whose metrics exist
        (intensity 一级 needs only the year-on-year change); otherwise it is reported as unset, level None.
        """
        family = self.family_for(indicator, kind)
        if not has_data:
            return self._text_rating("no_data", metrics, family)
        for check in family.checks:
            if check.fires(metrics):
                return self._rating(check, metrics, family)
        if not is_set:
            return self._text_rating("unset", metrics, family)
        if any(metrics.get(c.metric) is None for check in family.checks for c in check.when
               if c.metric != "yoy_worsening"):
            return self._text_rating("no_data", metrics, family)
        return self._rating(family.default, metrics, family)

    def _rating(self, check: Check, metrics: Mapping[str, Any], family: Family) -> Rating:
        style = self.levels[check.level]
        return Rating(check.level, style.colour, render(check.reason_zh, metrics), render(check.reason_en, metrics),
                      family.name, family.status)

    def _text_rating(self, key: str, metrics: Mapping[str, Any], family: Family) -> Rating:
        text = self.texts[key]
        return Rating(None, None, render(text["reason_zh"], metrics), render(text["reason_en"], metrics),
                      family.name, family.status)


class _Formatter(string.Formatter):
    """``str.format`` that prints a missing or non-numeric value under a numeric spec as ``—``."""

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str):
            return kwargs.get(key)
        return super().get_value(key, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return MISSING_TEXT
        if format_spec and not isinstance(value, int | float):
            return str(value)
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill a reason template; missing values print as ``—``."""
    return _FORMATTER.vformat(template, (), dict(values))


# -- loading -----------------------------------------------------------------------------------------------

def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if key == "extends":
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _resolve(name: str, raw_sets: dict[str, Any], file: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    if name not in raw_sets:
        raise InputError(Problem(f"unknown rule set {name!r}", file=file, field="rule_sets", value=name,
                                 suggestion=nearest(name, list(raw_sets))))
    if name in seen:
        raise InputError(Problem(f"rule set {name!r} extends itself through {' → '.join(seen)}", file=file,
                                 field=f"rule_sets.{name}.extends"))
    raw = raw_sets[name]
    if not isinstance(raw, dict):
        raise InputError(Problem("a rule set must be a mapping", file=file, field=f"rule_sets.{name}"))
    parent = raw.get("extends")
    if parent is None:
        return raw
    return _merge(_resolve(str(parent), raw_sets, file, (*seen, name)), raw)


def _need(mapping: dict[str, Any], key: str, where: str, problems: list[Problem], file: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        problems.append(Problem(f"missing '{key}'", file=file, field=f"{where}.{key}"))
        return None
    return mapping[key]


def _condition(raw: Any, where: str, problems: list[Problem], file: str) -> Condition | None:
    if not isinstance(raw, dict):
        problems.append(Problem("a condition must be {metric, op, threshold}", file=file, field=where))
        return None
    metric = _need(raw, "metric", where, problems, file)
    op = _need(raw, "op", where, problems, file)
    threshold = _need(raw, "threshold", where, problems, file)
    ok = True
    if metric is not None and metric not in METRICS:
        problems.append(Problem(f"unknown metric {metric!r}", file=file, field=f"{where}.metric", value=metric,
                                suggestion=nearest(metric, METRICS)))
        ok = False
    if op is not None and op not in OPERATORS:
        problems.append(Problem(f"operator {op!r} is not allowed: metrics grow worse upwards, so only "
                                f"{', '.join(OPERATORS)} keep the rating monotone", file=file,
                                field=f"{where}.op", value=op, suggestion=">"))
        ok = False
    if threshold is not None and not isinstance(threshold, int | float):
        problems.append(Problem("threshold must be a number", file=file, field=f"{where}.threshold",
                                value=threshold))
        ok = False
    if not ok or metric is None or op is None or threshold is None:
        return None
    return Condition(str(metric), str(op), float(threshold))


def _check(raw: Any, where: str, problems: list[Problem], file: str, *, default: bool = False) -> Check | None:
    if not isinstance(raw, dict):
        problems.append(Problem("a check must be a mapping", file=file, field=where))
        return None
    level = _need(raw, "level", where, problems, file)
    texts = [_need(raw, k, where, problems, file) for k in ("reason_zh", "reason_en")]
    if level is not None and level not in LEVELS:
        problems.append(Problem(f"level must be one of {LEVELS}", file=file, field=f"{where}.level", value=level))
        return None
    conditions: list[Condition] = []
    if not default:
        when = _need(raw, "when", where, problems, file)
        if when is not None and (not isinstance(when, list) or not when):
            problems.append(Problem("'when' must be a non-empty list of conditions", file=file,
                                    field=f"{where}.when"))
        elif when:
            for i, item in enumerate(when):
                condition = _condition(item, f"{where}.when[{i}]", problems, file)
                if condition is not None:
                    conditions.append(condition)
    if level is None or None in texts:
        return None
    return Check(int(level), tuple(conditions), str(texts[0]), str(texts[1]))


def _family(name: str, raw: Any, where: str, problems: list[Problem], file: str) -> Family | None:
    if not isinstance(raw, dict):
        problems.append(Problem("a family must be a mapping", file=file, field=where))
        return None
    checks = []
    for i, item in enumerate(raw.get("checks") or []):
        check = _check(item, f"{where}.checks[{i}]", problems, file)
        if check is not None:
            checks.append(check)
    levels = [c.level for c in checks]
    if levels != sorted(levels):
        problems.append(Problem(f"checks must be ordered by level (1 before 2), got {levels}", file=file,
                                field=f"{where}.checks"))
    default = _check(_need(raw, "default", where, problems, file), f"{where}.default", problems, file, default=True)
    if default is not None and levels and default.level < max(levels):
        problems.append(Problem("the default level must not be worse than the checks' levels", file=file,
                                field=f"{where}.default.level", value=default.level))
    status = raw.get("status", "estimate")
    if status not in STATUSES:
        problems.append(Problem(f"unknown status {status!r}", file=file, field=f"{where}.status", value=status,
                                suggestion=nearest(status, STATUSES)))
    if default is None:
        return None
    return Family(name, tuple(raw.get("indicators") or ()), tuple(raw.get("kinds") or ()), tuple(checks),
                  default, str(status))


def _build(name: str, raw: dict[str, Any], file: str) -> RuleSet:
    problems: list[Problem] = []
    where = f"rule_sets.{name}"
    fields = {k: _need(raw, k, where, problems, file) for k in
              ("title_zh", "title_en", "document", "source", "status", "pace", "levels", "families")}
    if fields["pace"] is not None and fields["pace"] not in PACES:
        problems.append(Problem(f"unknown pace {fields['pace']!r}", file=file, field=f"{where}.pace",
                                value=fields["pace"], suggestion=nearest(fields["pace"], PACES)))
    if fields["status"] is not None and fields["status"] not in STATUSES:
        problems.append(Problem(f"unknown status {fields['status']!r}", file=file, field=f"{where}.status",
                                value=fields["status"], suggestion=nearest(fields["status"], STATUSES)))
    projection = raw.get("projection") or {}
    window = projection.get("window_years", 5)
    interval = projection.get("interval", 0.8)
    if not isinstance(window, int) or window < 3:
        problems.append(Problem("window_years must be an integer of at least 3", file=file,
                                field=f"{where}.projection.window_years", value=window))
    if not isinstance(interval, int | float) or not 0 < interval < 1:
        problems.append(Problem("interval must be a probability between 0 and 1", file=file,
                                field=f"{where}.projection.interval", value=interval))
    levels: dict[int, LevelStyle] = {}
    for i, item in enumerate(fields["levels"] or []):
        keys = ("level", "name_zh", "name_en", "colour", "meaning_zh", "meaning_en")
        values = [_need(item, k, f"{where}.levels[{i}]", problems, file) for k in keys]
        if None not in values:
            levels[int(values[0])] = LevelStyle(int(values[0]), *[str(v) for v in values[1:]])
    if fields["levels"] is not None and sorted(levels) != list(LEVELS):
        problems.append(Problem(f"levels must define exactly {LEVELS}", file=file, field=f"{where}.levels",
                                value=sorted(levels)))
    families = []
    for family_name, item in (fields["families"] or {}).items():
        family = _family(str(family_name), item, f"{where}.families.{family_name}", problems, file)
        if family is not None:
            families.append(family)
    texts: dict[str, dict[str, str]] = {}
    for key in ("unset", "no_data"):
        item = _need(raw, key, where, problems, file)
        if item is not None:
            zh = _need(item, "reason_zh", f"{where}.{key}", problems, file)
            en = _need(item, "reason_en", f"{where}.{key}", problems, file)
            texts[key] = {"reason_zh": str(zh), "reason_en": str(en)}
    if problems:
        raise InputError(problems)
    return RuleSet(name, str(fields["title_zh"]), str(fields["title_en"]), str(fields["document"]),
                   str(fields["source"]), str(fields["status"]), str(fields["pace"]), int(window),
                   float(interval), levels, tuple(families), texts)


def load_rule_sets(path: str | Path | None = None) -> tuple[dict[str, RuleSet], str]:
    """All rule sets of a rules file (default: the shipped one) and the name of its default set."""
    return _load(str(Path(path) if path is not None else data_path(RULES_FILE)))


@cache
def _load(path: str) -> tuple[dict[str, RuleSet], str]:
    file = Path(path).name
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise InputError(Problem("rules file not found", file=path)) from error
    except yaml.YAMLError as error:
        raise InputError(Problem(f"not valid YAML: {error}", file=file)) from error
    if not isinstance(raw, dict) or not isinstance(raw.get("rule_sets"), dict):
        raise InputError(Problem("a rules file needs a 'rule_sets' mapping", file=file, field="rule_sets"))
    sets = raw["rule_sets"]
    built = {name: _build(name, _resolve(name, sets, file), file) for name in sets}
    default = raw.get("default_rule_set", next(iter(sets)))
    if default not in built:
        raise InputError(Problem(f"default_rule_set {default!r} is not defined", file=file,
                                 field="default_rule_set", value=default, suggestion=nearest(default, list(built))))
    return built, str(default)


def load_rule_set(name: str | None = None, path: str | Path | None = None) -> RuleSet:
    """One rule set by name (default: the file's ``default_rule_set``, i.e. ``ndrc_629``)."""
    sets, default = load_rule_sets(path)
    name = name or default
    if name not in sets:
        raise InputError(Problem(f"unknown rule set {name!r}", file=Path(path).name if path else RULES_FILE,
                                 field="rule_sets", value=name, suggestion=nearest(name, list(sets))))
    return sets[name]
