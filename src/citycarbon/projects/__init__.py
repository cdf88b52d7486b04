"""The project gate (issue 15): fixed-asset investment projects checked against the plan's hard rules, the
efficiency benchmarks, the 两高 lists, capacity replacement and the 节能审查 levels (``rules``, ``tables``,
``model``); a project's annual energy in tce both ways, coal and CO2 with the city's accounting profile
(``energy``); replacement ledgers that never double-spend (``ledger``). Pure domain: no store, services or faces.
Every number is data under ``data/projects/`` or the factor tables, with its document and verification status."""
