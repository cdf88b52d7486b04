"""Assessment (考核, issue 16): schemes as data and the scoring of one unit from its facts. Pure domain.

* :mod:`.scheme`  — an assessment scheme (YAML under ``data/assessment/schemes/``, versioned): indicators with
  points and a scoring function (``linear`` between two thresholds, ``threshold`` pass/fail, ``veto`` 一票否决,
  ``bonus``, ``penalty``, ``qualitative`` items the office sets with a reason) and the grades
  (优秀/良好/合格/不合格).
* :mod:`.scoring` — a unit's score from its facts (:class:`~.scoring.Fact`: value, unit, evidence, estimate
  flag): every point with the fact and evidence behind it, Decimal arithmetic (two decimals, half up), the grade,
  the veto, and whether the score rests on estimates.

The plan: 三(四) 将碳达峰、碳中和相关指标纳入经济社会发展综合评价体系，增加考核权重; task 7 严格责任落实和评价考核.
Methods: NDRC 《单位GDP二氧化碳排放降低目标责任考核评估办法》 (2014: annual target + cumulative target, missing a
target = 不合格, 优秀 ≥ 90 / 良好 80–89 / 合格 60–79 / 不合格 < 60), see ``/work/shared/reference/governance.md`` §6.
"""

from citycarbon.assessment.scheme import Grade, Indicator, Scheme, Scoring, load_scheme, parse_scheme, shipped_schemes
from citycarbon.assessment.scoring import Fact, ItemScore, UnitScore, score_unit

__all__ = ["Fact", "Grade", "Indicator", "ItemScore", "Scheme", "Scoring", "UnitScore", "load_scheme",
           "parse_scheme", "score_unit", "shipped_schemes"]
