"""Generate the cost, learning and potential tables of docs/pathways.md from the data files (issue 17).

    .venv/bin/python tools/pathway_tables.py                # print the three tables (Markdown)
    .venv/bin/python tools/pathway_tables.py --write docs/pathways.md   # replace them between their markers

The tables sit between ``<!-- pathway_tables:<name> -->`` and ``<!-- /pathway_tables:<name> -->`` (name: costs,
learning, potentials). Every row of ``data/pathways/costs.csv``, ``learning.csv`` and ``potentials.csv`` is shown
with its source, so the documentation lists every cost figure and potential (tests/pathways/test_pathway_docs.py).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from citycarbon.pathways.parameters import load_costs, load_learning, load_potentials

NAMES = ("costs", "learning", "potentials")


def _cell(value: object) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def costs_table() -> str:
    frame = load_costs()
    return _table(["id", "名称", "unit", "default", "low", "high", "price year", "status", "source"],
                  [[f"`{r.id}`", r.name_zh, r.unit, float(r.default), float(r.low), float(r.high), r.price_year,
                    r.status, r.source] for r in frame.itertuples()])


def learning_table() -> str:
    frame = load_learning()
    return _table(["technology", "year", "doublings since 2024", "status", "source"],
                  [[f"`{r.technology}`", int(r.year), float(r.doublings), r.status, r.source]
                   for r in frame.itertuples()])


def potentials_table() -> str:
    frame = load_potentials()
    return _table(["id", "名称", "technology", "lever", "value", "unit", "year", "status", "source"],
                  [[f"`{r.id}`", r.name_zh, r.technology, f"`{r.lever}`" if r.lever else "", float(r.value), r.unit,
                    int(r.year), r.status, r.source] for r in frame.itertuples()])


TABLES = {"costs": costs_table, "learning": learning_table, "potentials": potentials_table}


def replace_tables(text: str) -> str:
    """``text`` with every marked table regenerated; a missing marker pair is an error."""
    for name in NAMES:
        pattern = re.compile(rf"(<!-- pathway_tables:{name} -->\n)(?:.*?\n)?(<!-- /pathway_tables:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"markers of the {name} table not found")
        table = TABLES[name]()
        text = pattern.sub(lambda m, table=table: m.group(1) + table + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="the Markdown file whose marked tables are replaced")
    args = parser.parse_args(argv)
    if args.write is None:
        for name in NAMES:
            sys.stdout.write(f"<!-- pathway_tables:{name} -->\n{TABLES[name]()}\n<!-- /pathway_tables:{name} -->\n\n")
        return 0
    text = args.write.read_text(encoding="utf-8")
    updated = replace_tables(text)
    if updated != text:
        args.write.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
