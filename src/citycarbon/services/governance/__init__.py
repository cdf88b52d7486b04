"""Running the plan (issue 14): the use cases every face calls.

Modules: ``registry`` (organisations and the responsibility matrix), ``plans`` ("1+N"), ``rounds`` (progress
rounds and filings), ``evidence`` (attachments), ``supervision`` (督办 and the working-day calendar),
``notify`` (the in-app inbox and e-mail), ``summary`` (the office's board, the 调度 summary, unit reports).

Rules applied here once for every face: a caller reaches only its city (``Principal.can_access_city``); the
office (administrators) manages; a department or district user reads and files only for its own organisation
(``Principal.acts_for_org`` / ``can_file_for``), and another unit's object answers 404 (existence not leaked).
"""
