"""Target tracking and early warning: progress (序时进度), projections, the NDRC barometer (一级/二级/三级),
monthly nowcasts and district roll-ups, the peak judgement on both CO2
bases and the neutrality verdict. Pure: values and DataFrames in, results out.

Methods: /work/shared/reference/methods.md §4 (发改办环资〔2021〕629号); see docs/tracking.md.
"""

from citycarbon.tracking.peak import (
    BASES,
    BasisPeak,
    NeutralityVerdict,
    PeakRule,
    judge_peak,
    load_peak_rule,
    neutrality_verdict,
    worse_basis,
)
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
    "BASES",
    "INTENSITY_OF_REDUCTION",
    "SERIES_OF_YEAR_INDICATOR",
    "BasisPeak",
    "NeutralityVerdict",
    "PeakProjection",
    "PeakRule",
    "Projection",
    "Rating",
    "RuleSet",
    "TargetInfo",
    "TargetStatus",
    "describe_target",
    "format_value",
    "judge_peak",
    "load_peak_rule",
    "load_rule_set",
    "load_rule_sets",
    "neutrality_verdict",
    "project_peak_year",
    "project_trend",
    "track_target",
    "worse_basis",
]
