"""The project gate's use cases (issue 15): the project registry and its checks (``registry``, ``evaluate``),
the budget check and pipeline (``budget``), the replacement ledgers (``ledgers``), the review workflow and the
审查意见 (``workflow``), and the energy-project registry (``energy_projects``). Faces reach the store only
through these modules."""
