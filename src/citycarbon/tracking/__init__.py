"""Target tracking and early warning: progress (序时进度), projections, the NDRC barometer (一级/二级/三级),
monthly nowcasts and district roll-ups. Pure: values and DataFrames in, results out.

Methods: /work/shared/reference/methods.md §4 (发改办环资〔2021〕629号); see docs/tracking.md.
"""

from citycarbon.tracking.progress import (
    INTENSITY_OF_REDUCTION,
    SERIES_OF_YEAR_INDICATOR,
    TargetInfo,
    TargetStatus,
    describe_target,
    format_value,
    track_target,
)
from citycarbon.tracking.projection import PeakProjection, Projection, project_peak_year, project_trend
from citycarbon.tracking.warning_rules import Rating, RuleSet, load_rule_set, load_rule_sets

__all__ = [
    "INTENSITY_OF_REDUCTION",
    "SERIES_OF_YEAR_INDICATOR",
    "PeakProjection",
    "Projection",
    "Rating",
    "RuleSet",
    "TargetInfo",
    "TargetStatus",
    "describe_target",
    "format_value",
    "load_rule_set",
    "load_rule_sets",
    "project_peak_year",
    "project_trend",
    "track_target",
]
