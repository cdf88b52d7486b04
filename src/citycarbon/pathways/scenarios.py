"""Scenarios as YAML files: lever settings, a parent (``inherits``) and ``packages`` of other scenarios.

Format (docs/pathways.md)::

    name: Plan
    name_zh: 工作方案情景
    description: ...
    inherits: BAU                 # optional: a shipped name or a path relative to this file
    packages: [Transport]         # optional: scenarios whose lever settings are applied after the parent
    levers: {lever_id: value}     # applied last
    parameters: {param_id: value} # optional: central values of uncertain parameters

Resolution: lever defaults (BAU) ← parent (resolved) ← each package's settings that differ from the
defaults, in order ← own ``levers``. The canonical ``code`` is the first 10 characters of the base32
SHA-256 of the canonical JSON of the full resolved settings (every lever and parameter), so the same
settings give the same code whatever the file or name, and it serves as a cache key and in URLs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from citycarbon.codelists import nearest
from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem
from citycarbon.pathways.parameters import load_levers, load_uncertain

ALLOWED_KEYS = ("name", "name_zh", "name_en", "description", "inherits", "packages", "levers", "parameters")
CODE_LENGTH = 10
#: libyaml's safe loader when available (a scenario loads in ~1 ms instead of ~5 ms)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: every lever set by its chain (others stay at the defaults)."""

    name: str
    code: str
    levers: dict[str, float]
    parent: str | None = None
    packages: tuple[str, ...] = ()
    parameters: dict[str, float] = field(default_factory=dict)
    name_zh: str | None = None
    description: str | None = None
    source: str = "<scenario>"

    def to_dict(self) -> dict:
        return {"name": self.name, "code": self.code, "name_zh": self.name_zh, "description": self.description,
                "parent": self.parent, "packages": list(self.packages), "levers": dict(self.levers),
                "parameters": dict(self.parameters), "source": self.source}


def scenario_dir() -> Path:
    return data_path("pathways/scenarios")


def shipped_scenarios() -> list[str]:
    """Names of the shipped scenario files (BAU, Plan, Enhanced …)."""
    order = {"BAU": 0, "Plan": 1, "Enhanced": 2, "Transport": 3}
    names = [p.stem for p in scenario_dir().glob("*.yaml")]
    return sorted(names, key=lambda n: (order.get(n, 9), n))


def _resolve_path(reference: str, relative_to: Path | None = None) -> Path:
    candidate = Path(reference)
    if relative_to is not None and not candidate.is_absolute():
        local = relative_to / candidate
        for option in (local, local.with_suffix(".yaml")):
            if option.is_file():
                return option
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        if candidate.is_file():
            return candidate
        raise InputError(Problem(f"scenario file not found: {reference}", file=reference, field="scenario"))
    shipped = {p.stem.lower(): p for p in scenario_dir().glob("*.yaml")}
    if reference.lower() in shipped:
        return shipped[reference.lower()]
    raise InputError(Problem(f"unknown scenario '{reference}'", field="scenario", value=reference,
                             suggestion=nearest(reference, shipped_scenarios())))


def _read(path: Path) -> dict:
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(Problem(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=str(path),
                                 row=mark.line + 1 if mark else None)) from None
    if not isinstance(loaded, dict):
        raise InputError(Problem("a scenario file is a mapping (name, inherits, packages, levers)", file=str(path)))
    problems = [Problem(f"unknown key '{key}'", file=str(path), field=str(key),
                        suggestion=nearest(key, ALLOWED_KEYS)) for key in loaded if key not in ALLOWED_KEYS]
    for key in ("levers", "parameters"):
        if loaded.get(key) is not None and not isinstance(loaded[key], dict):
            problems.append(Problem(f"'{key}' must be a mapping of id: value", file=str(path), field=key))
    if loaded.get("packages") is not None and not isinstance(loaded["packages"], list):
        problems.append(Problem("'packages' must be a list of scenario names or files", file=str(path),
                                field="packages"))
    if problems:
        raise InputError(problems)
    return loaded


def _check_values(raw: dict, path: Path, section: str) -> dict[str, float]:
    """Values of ``levers`` / ``parameters``: known ids, numbers within [min, max] (problems name file+field)."""
    ranges = _ranges(section)
    problems: list[Problem] = []
    out: dict[str, float] = {}
    for name, value in (raw or {}).items():
        where = f"{section}.{name}"
        if name not in ranges:
            problems.append(Problem(f"unknown {section[:-1]} '{name}'", file=str(path), field=where,
                                    suggestion=nearest(name, list(ranges))))
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(Problem(f"'{value}' is not a number", file=str(path), field=where, value=value))
            continue
        low, high, unit = ranges[name]
        if not math.isfinite(number) or not low <= number <= high:
            problems.append(Problem(f"{number} is outside the range [{low}, {high}] {unit}", file=str(path),
                                    field=where, value=value))
            continue
        out[str(name)] = number
    if problems:
        raise InputError(problems)
    return out


@cache
def _ranges(section: str) -> dict[str, tuple[float, float, str]]:
    """(min, max, unit) of every lever or uncertain parameter, from the shipped files."""
    if section == "levers":
        return {lv.id: (lv.min, lv.max, lv.unit) for lv in load_levers()}
    frame = load_uncertain()
    return {str(i): (float(lo), float(hi), str(u)) for i, lo, hi, u in
            zip(frame["id"], frame["low"], frame["high"], frame["unit"], strict=True)}


@cache
def _defaults() -> tuple[dict[str, float], dict[str, float]]:
    frame = load_uncertain()
    return ({lv.id: lv.default for lv in load_levers()},
            {str(i): float(v) for i, v in zip(frame["id"], frame["default"], strict=True)})


def scenario_code(levers: dict[str, float], parameters: dict[str, float]) -> str:
    """Short canonical code of fully resolved settings (defaults filled in)."""
    lever_defaults, parameter_defaults = _defaults()
    full = {**lever_defaults, **levers}
    params = {**parameter_defaults, **parameters}
    canonical = json.dumps({"levers": {k: float(full[k]) for k in sorted(full)},
                            "parameters": {k: float(params[k]) for k in sorted(params)}},
                           sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:CODE_LENGTH]


def load_scenario(reference: str | Path, *, _chain: tuple[str, ...] = ()) -> Scenario:
    """Load and resolve a scenario by shipped name (``BAU``, ``Plan``, ``Enhanced``) or file path."""
    path = _resolve_path(str(reference))
    key = str(path.resolve())
    if key in _chain:
        raise InputError(Problem("scenario inheritance loops: " + " -> ".join(Path(c).stem for c in (*_chain, key)),
                                 file=str(path), field="inherits"))
    raw = _read(path)
    defaults = _defaults()[0]
    levers: dict[str, float] = {}
    parameters: dict[str, float] = {}
    parent_name = raw.get("inherits")
    if parent_name:
        parent = load_scenario(_resolve_path(str(parent_name), path.parent), _chain=(*_chain, key))
        levers.update(parent.levers)
        parameters.update(parent.parameters)
    packages = [str(p) for p in raw.get("packages") or []]
    for package in packages:
        resolved = load_scenario(_resolve_path(package, path.parent), _chain=(*_chain, key))
        levers.update({k: v for k, v in resolved.levers.items() if v != defaults.get(k)})
        parameters.update(resolved.parameters)
    levers.update(_check_values(raw.get("levers") or {}, path, "levers"))
    parameters.update(_check_values(raw.get("parameters") or {}, path, "parameters"))
    name = str(raw.get("name") or path.stem)
    return Scenario(name=name, code=scenario_code(levers, parameters), levers=levers,
                    parent=str(parent_name) if parent_name else None, packages=tuple(packages),
                    parameters=parameters, name_zh=raw.get("name_zh"), description=raw.get("description"),
                    source=str(path))


def scenario_from_levers(name: str, levers: dict[str, float], parameters: dict[str, float] | None = None,
                         *, source: str = "<levers>") -> Scenario:
    """A scenario from settings given in code or by the API (checked like a file)."""
    path = Path(source)
    checked = _check_values(levers, path, "levers")
    checked_params = _check_values(parameters or {}, path, "parameters")
    return Scenario(name=name, code=scenario_code(checked, checked_params), levers=checked,
                    parameters=checked_params, source=source)


def with_settings(scenario: Scenario, settings: dict[str, float], *, source: str = "--set") -> Scenario:
    """``scenario`` with some levers or uncertain parameters changed (checked like a file; new code).

    Used for command-line what-ifs (``--set lever=value``) and by slider front ends.
    """
    path = Path(source)
    lever_ids = set(_ranges("levers"))
    levers = _check_values({k: v for k, v in settings.items() if k in lever_ids or k not in _ranges("parameters")},
                           path, "levers")
    parameters = _check_values({k: v for k, v in settings.items() if k in _ranges("parameters")}, path, "parameters")
    merged_levers = {**scenario.levers, **levers}
    merged_parameters = {**scenario.parameters, **parameters}
    changed = ", ".join(f"{k}={v:g}" for k, v in {**levers, **parameters}.items())
    return Scenario(name=f"{scenario.name} ({changed})" if changed else scenario.name,
                    code=scenario_code(merged_levers, merged_parameters), levers=merged_levers,
                    parent=scenario.name, packages=scenario.packages, parameters=merged_parameters,
                    name_zh=scenario.name_zh, description=scenario.description, source=scenario.source)


def parse_settings(items: list[str], source: str = "--set") -> dict[str, float]:
    """``["lever=value", …]`` → ``{lever: value}``; malformed items raise InputError naming the item."""
    out: dict[str, float] = {}
    problems: list[Problem] = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            problems.append(Problem("expected NAME=VALUE", file=source, field=item, value=item))
            continue
        try:
            out[name.strip()] = float(value)
        except ValueError:
            problems.append(Problem(f"'{value}' is not a number", file=source, field=name.strip(), value=value))
    if problems:
        raise InputError(problems)
    return out
