"""A city's 碳达峰碳中和工作方案 as data: models, loading and validation of plan files.

``load_plan()`` returns the shipped Dalian plan; ``load_plan("path/to/city.yaml")`` any other city's.
See ``docs/plan.md`` for the file format.
"""

from citycarbon.plan.load import (
    DEFAULT_PLAN,
    load_plan,
    plan_json_schema,
    plan_schema_text,
    resolve_plan_path,
    shipped_plans,
    validate_plan_file,
    validate_plan_text,
    write_plan_schema,
)
from citycarbon.plan.models import (
    AboutTolerance,
    CarriedMeasure,
    Comparison,
    GoalParagraph,
    ImplementationItem,
    Plan,
    PlanIssue,
    PlanKind,
    PlanMeta,
    ProjectAction,
    Rule,
    RuleKind,
    SourceStatus,
    Target,
    Task,
    TaskGroup,
    indicator_table,
)

__all__ = [
    "DEFAULT_PLAN",
    "AboutTolerance",
    "CarriedMeasure",
    "Comparison",
    "GoalParagraph",
    "ImplementationItem",
    "Plan",
    "PlanIssue",
    "PlanKind",
    "PlanMeta",
    "ProjectAction",
    "Rule",
    "RuleKind",
    "SourceStatus",
    "Target",
    "Task",
    "TaskGroup",
    "indicator_table",
    "load_plan",
    "plan_json_schema",
    "plan_schema_text",
    "resolve_plan_path",
    "shipped_plans",
    "validate_plan_file",
    "validate_plan_text",
    "write_plan_schema",
]
