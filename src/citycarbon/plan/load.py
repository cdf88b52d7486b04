"""Load and validate a city's plan file (YAML) into a :class:`~citycarbon.plan.models.Plan`.

Contract
--------
* ``load_plan(None)`` → the shipped Dalian plan; ``load_plan("dalian")`` (a bare name) →
  ``data/plans/<name>.yaml``; anything else is a path.
* Every problem raises :class:`~citycarbon.errors.InputError` whose problems name the file, the YAML
  line (``Problem.row`` is the 1-based line number in the file), the field path
  (``targets[3].indicator``) and, where one exists, the nearest valid name. All problems of a file are
  reported together, in line order: YAML syntax errors, duplicate keys, missing or unknown fields,
  unknown enum values (comparison, rule kind), unknown indicators, units that do not fit the
  indicator, duplicate target ids, task numbers or rule ids, references to unknown tasks or groups.
* ``plan_json_schema()`` is generated from the pydantic models; the shipped
  ``data/plans/plan.schema.json`` must equal it (a test checks). Regenerate it with
  ``citycarbon plan schema --write`` (or :func:`write_plan_schema`).

YAML line numbers come from PyYAML's node marks (``yaml.compose``), so the loader reads the file once,
keeps the node tree for locations and constructs plain data from the same tree.
"""

from __future__ import annotations

import json
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from citycarbon.codelists import nearest
from citycarbon.data import data_path
from citycarbon.errors import InputError, Problem
from citycarbon.plan.models import Plan, _dotted

__all__ = [
    "DEFAULT_PLAN",
    "field_line",
    "load_plan",
    "plan_json_schema",
    "plan_schema_text",
    "resolve_plan_path",
    "shipped_plans",
    "validate_plan_file",
    "validate_plan_text",
    "write_plan_schema",
]

#: the plan ``load_plan(None)`` returns
DEFAULT_PLAN = "dalian"
_SCHEMA_FILE = "plans/plan.schema.json"
_JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Path_ = tuple[str | int, ...]


def shipped_plans() -> list[str]:
    """Names of the plans shipped in ``data/plans`` (``dalian`` …)."""
    return sorted(p.stem for p in data_path("plans").glob("*.yaml"))


def resolve_plan_path(source: str | Path | None = None) -> Path:
    """Where ``source`` points: ``None`` → shipped default, bare name → shipped plan, else a path."""
    if source is None:
        return data_path(f"plans/{DEFAULT_PLAN}.yaml")
    if isinstance(source, Path):
        return source
    text = str(source)
    is_name = not any(sep in text for sep in ("/", "\\")) and not text.endswith((".yaml", ".yml"))
    if is_name and not Path(text).exists():
        path = data_path(f"plans/{text}.yaml")
        if not path.exists():
            names = shipped_plans()
            raise InputError(Problem(f"no shipped plan named {text!r} (shipped: {', '.join(names)})",
                                     file=text, value=text, suggestion=nearest(text, names)))
        return path
    return Path(text)


def load_plan(source: str | Path | None = None) -> Plan:
    """Load a plan: ``None`` → Dalian, a bare name → ``data/plans/<name>.yaml``, else a file path.

    Raises :class:`InputError` (file, line, field, suggestion) for any problem in the file.
    """
    return validate_plan_file(resolve_plan_path(source))


def validate_plan_file(path: str | Path) -> Plan:
    """Read, validate and return the plan in ``path``; :class:`InputError` lists every problem."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem("plan file not found", file=name)) from None
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"plan file is not UTF-8 text ({exc.reason})", file=name)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read plan file: {exc.strerror}", file=name)) from None
    return validate_plan_text(text, name)


def validate_plan_text(text: str, name: str = "plan.yaml") -> Plan:
    """Validate the YAML ``text`` of a plan file (named ``name`` in the problems) and return the plan; an
    uploaded file or a registered sub-plan goes through the same checks as a file on disk."""
    data, lines, problems = _parse_yaml(text, name)
    if problems:
        raise InputError(problems)
    if not isinstance(data, dict):
        raise InputError(Problem("a plan file must be a YAML mapping with keys "
                                 + ", ".join(Plan.model_fields), file=name, row=1))
    try:
        plan = Plan.model_validate(data, context={"defer_checks": True})
    except ValidationError as exc:
        found = _merge_misspelt([_problem_from_pydantic(err, name, lines) for err in exc.errors()])
        raise InputError(sorted(found, key=_order)) from None
    issues = plan.issues()
    if issues:
        found = [Problem(issue.message, file=name, row=_line(lines, issue.path), field=_dotted(issue.path),
                         value=issue.value, suggestion=issue.suggestion) for issue in issues]
        raise InputError(sorted(found, key=_order))
    return plan


def field_line(text: str, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the field at ``path`` (e.g. ``("meta", "parent")``) in the YAML ``text``, or of its
    nearest ancestor; ``None`` when the text does not parse. For problems found after validation (a parent that
    is not registered) that must still name their line."""
    _, lines, problems = _parse_yaml(text, "")
    if problems or not lines:
        return None
    return _line(lines, path)


def _order(problem: Problem) -> tuple[int, str]:
    return (problem.row or 0, problem.field or "")


# -- YAML with line numbers ----------------------------------------------------------------------
def _parse_yaml(text: str, name: str) -> tuple[Any, dict[Path_, int], list[Problem]]:
    """Construct the data and a map from field path to 1-based line; syntax errors become problems."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, [Problem("plan file is empty", file=name)]
        lines: dict[Path_, int] = {}
        problems: list[Problem] = []
        _walk(node, (), lines, problems, name)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        row = mark.line + 1 if mark is not None else None
        message = f"YAML syntax error: {exc.problem or exc}"
        if exc.context:
            message += f" ({exc.context}"
            if exc.context_mark is not None and exc.context_mark.line + 1 != row:
                message += f" that starts on line {exc.context_mark.line + 1}"
            message += ")"
        return None, {}, [Problem(message, file=name, row=row)]
    except yaml.YAMLError as exc:
        return None, {}, [Problem(f"YAML error: {exc}", file=name)]
    finally:
        loader.dispose()
    return data, lines, problems


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], problems: list[Problem],
          name: str) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(f"duplicate key {key!r} (first on line {seen[key]})", file=name,
                                        row=line, field=_dotted((*path, key))))
                continue
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems, name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, problems, name)


def _line(lines: dict[Path_, int], path: Path_) -> int | None:
    """Line of ``path``, or of its nearest ancestor present in the file (for a missing field)."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get(())


# -- pydantic errors → problems ------------------------------------------------------------------
def _problem_from_pydantic(err: dict, name: str, lines: dict[Path_, int]) -> Problem:
    loc: Path_ = tuple(part for part in err["loc"] if isinstance(part, str | int))
    kind = err["type"]
    field = _dotted(loc) or None
    row = _line(lines, loc)
    if kind == "missing":
        return Problem(f"required field '{loc[-1]}' is missing", file=name, row=row, field=field)
    if kind == "extra_forbidden":
        model = _annotation_at(loc[:-1])
        allowed = list(model.model_fields) if _is_model(model) else []
        return Problem(f"unknown field '{loc[-1]}'" + (f" (allowed: {', '.join(allowed)})" if allowed else ""),
                       file=name, row=row, field=field, value=loc[-1],
                       suggestion=nearest(loc[-1], allowed))
    value = err.get("input")
    suggestion = None
    enum = _enum_in(_annotation_at(loc))
    if enum is not None:
        choices = [member.value for member in enum]
        suggestion = nearest(value, choices)
        message = f"{value!r} is not one of {', '.join(choices)}"
    else:
        message = err["msg"]
    return Problem(message, file=name, row=row, field=field, value=value, suggestion=suggestion)


def _merge_misspelt(problems: list[Problem]) -> list[Problem]:
    """Drop "required field X is missing" when a misspelt sibling field already suggests X."""
    suggested = {(p.field.rpartition(".")[0], p.suggestion) for p in problems
                 if p.field and p.suggestion and p.message.startswith("unknown field")}
    kept = []
    for problem in problems:
        parent, _, leaf = (problem.field or "").rpartition(".")
        if problem.message.startswith("required field") and (parent, leaf) in suggested:
            continue
        kept.append(problem)
    return kept


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _annotation_at(loc: Path_) -> Any:
    """The annotation of the field at ``loc`` inside :class:`Plan` (``None`` when it cannot tell)."""
    current: Any = Plan
    for part in loc:
        current = _unwrap_optional(current)
        if isinstance(part, int):
            if typing.get_origin(current) is not list:
                return None
            current = typing.get_args(current)[0]
        elif _is_model(current) and part in current.model_fields:
            current = current.model_fields[part].annotation
        else:
            return None
    return _unwrap_optional(current)


def _enum_in(annotation: Any) -> type[Enum] | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    return None


# -- JSON Schema ---------------------------------------------------------------------------------
def plan_json_schema() -> dict:
    """JSON Schema (draft 2020-12) of a plan file, generated from :class:`Plan`."""
    schema = Plan.model_json_schema(mode="validation")
    schema["title"] = "citycarbon plan file"
    schema["description"] = ("A city's 碳达峰碳中和工作方案 as data: meta, targets, rules, task groups, tasks, "
                             "implementation; a \"1+N\" sector or district implementation plan names its parent "
                             "(meta.parent) and the city measures it carries. Generated from "
                             "citycarbon.plan.models; do not edit by hand.")
    return {"$schema": _JSON_SCHEMA_DIALECT, **schema}


def plan_schema_text() -> str:
    """The schema as the text of ``plan.schema.json`` (UTF-8 JSON, 2-space indent, newline at end)."""
    return json.dumps(plan_json_schema(), ensure_ascii=False, indent=2) + "\n"


def write_plan_schema(path: str | Path | None = None) -> Path:
    """Write the generated schema to ``path`` (default: the shipped ``plans/plan.schema.json``)."""
    target = Path(path) if path is not None else data_path(_SCHEMA_FILE)
    target.write_text(plan_schema_text(), encoding="utf-8")
    return target
