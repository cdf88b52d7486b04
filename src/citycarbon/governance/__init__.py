"""Running the plan (issue 14): organisations, the responsibility matrix, "1+N" plans, progress rounds (调度),
supervision (督办) and the round summary.

A pure domain package: plain values in, results out; no database, no HTTP, no CLI. The store keeps its
records (``store/governance_models.py``), ``services/governance`` holds the use cases every face calls.
The plan it implements: 三(二) 定期开展调度，督促目标任务落实落细; 三(三) 明确目标、扛起责任、抓好落实;
三(四) 每年向市委、市政府报告贯彻落实情况; task 1 (规划间衔接协调) and task 4 (行业和领域碳达峰实施方案).
"""

from citycarbon.governance.model import (
    FILING_STATUSES,
    FilingState,
    Indicator,
    Measure,
    MeasureStatus,
    Organisation,
    OrgKind,
    RoundPeriod,
    SupervisionLevel,
    split_task_text,
)

__all__ = [
    "FILING_STATUSES",
    "FilingState",
    "Indicator",
    "Measure",
    "MeasureStatus",
    "OrgKind",
    "Organisation",
    "RoundPeriod",
    "SupervisionLevel",
    "split_task_text",
]
