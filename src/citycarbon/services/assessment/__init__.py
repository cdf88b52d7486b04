"""Assessment (考核) of districts, pilot zones and departments (issue 16): the use cases every face calls.

Modules:

* :mod:`.facts`            the fact collectors' contract (:class:`~.facts.Unit`, :class:`~.facts.FactContext`,
                           :func:`~.facts.collect_facts`) and the registry of collectors;
* :mod:`.facts_tracking`   facts from district accounting and tracking: intensity falls against the allocated
                           annual and cumulative targets, total energy, the intensity veto, wind + solar added,
                           the targets a department leads;
* :mod:`.facts_governance` facts from supervision (filings on time, measures on track, indicator milestones,
                           督办), monitoring (key units online, data quality) and the project gate (violations);
* :mod:`.runs`             schemes (versions), runs (draft → published, frozen with the ledger version),
                           the board, a unit's breakdown, adjustments of qualitative items (audited, with a
                           reason), objections and answers, publication, reproduction on a ledger version.

Who may do what (applied here, once, for every face; ``auth.principal``):

* run, adjust, answer objections, publish, register a scheme: ``can_manage_assessment`` (the office);
* every unit's draft and breakdown: ``can_read_assessment_detail`` (the office, analysts);
* a unit's own draft, and objecting to it within the period: the unit's department or district users
  (``acts_for_org`` / ``can_object_assessment``); another unit's draft answers 404;
* published results: ``can_read_published_assessment`` (every role but enterprise users).
"""
