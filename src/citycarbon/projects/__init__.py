"""The project gate (issue 15): fixed-asset investment projects checked against the plan's hard rules, the
efficiency benchmarks, the 两高 lists, capacity replacement and the 节能审查 levels. Pure domain: no store,
services or faces. Every number is data under ``data/projects/`` with its document and verification status."""
