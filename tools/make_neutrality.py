"""Write ``data/pathways/scenarios/Neutrality.yaml``: the least-cost goal-seek from the Plan (issue 17).

    PYTHONPATH=src .venv/bin/python tools/make_neutrality.py [--probability 0.8 --runs 100] [--seed 0] [--out PATH]

Runs :func:`citycarbon.pathways.goalseek.seek` with ``objective="least-cost"`` and ``keep_scenario=True`` (no lever
less ambitious than the Plan: what it takes beyond the Plan) on every plan target, rounds each lever that moved to a
step of its range in the ambitious direction (so the rounded values stay feasible; checked, with a finer step
where rounding loses a target), and writes the scenario with a header saying how, when (model version), its NPV
and which targets stay out of reach and why.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from pathlib import Path

import numpy as np

from citycarbon.pathways import load_scenario
from citycarbon.pathways.goalseek import seek
from citycarbon.pathways.model import build_model
from citycarbon.pathways.scenarios import Scenario, scenario_dir
from citycarbon.pathways.uncertainty import ensemble

OUT = scenario_dir() / "Neutrality.yaml"


def rounded(value: float, lo: float, hi: float, direction: float, step: float) -> float:
    """``value`` rounded to ``step`` towards the ambitious end of [lo, hi]."""
    n = value / step
    n = math.ceil(n - 1e-9) if direction > 0 else math.floor(n + 1e-9)
    return float(min(max(round(n * step, 10), lo), hi))


def met_on(model, levers: dict[str, float], base: Scenario, probability: float | None, runs: int,
           seed: int) -> dict[str, bool]:
    scenario = Scenario(name="Neutrality", code="", levers={**base.levers, **levers}, parameters=dict(base.parameters))
    if probability is None:
        return {k: bool(v[0][0]) for k, v in model.evaluate(model.vector(scenario)[None, :]).targets().items()}
    result = ensemble(model, scenario, runs, seed)
    return {k: v >= probability for k, v in result.p_met().items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probability", type=float, default=None)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    model = build_model("dalian")
    plan = load_scenario("Plan")
    result = seek(model, plan, seed=args.seed, objective="least-cost", keep_scenario=True,
                  probability=args.probability, runs=args.runs)
    reachable = {t["id"] for t in result.targets if t["met"]}
    directions = dict(zip(model.parameters.names, model.parameters.direction, strict=True))
    names = {lv.id: lv for lv in model.levers}
    chosen: dict[str, float] = {}
    for divisor in (20.0, 200.0, None):
        chosen = {}
        for row in result.levers:
            span = row["max"] - row["min"]
            if abs(row["change"]) <= 1e-9 * max(span, 1.0):
                continue
            lever = names[row["name"]]
            if divisor is None:
                chosen[row["name"]] = float(row["value"])
                continue
            full = lever.max - lever.min
            step = 10.0 ** math.floor(math.log10(full / divisor))
            value = rounded(row["value"], lever.min, lever.max, directions[row["name"]], step)
            if value != plan.levers.get(row["name"], lever.default):
                chosen[row["name"]] = value
        met = met_on(model, chosen, plan, args.probability, args.runs, args.seed)
        if all(met.get(t, False) for t in reachable):
            break
    central = met_on(model, chosen, plan, None, args.runs, args.seed)
    check = Scenario(name="Neutrality", code="", levers={**plan.levers, **chosen}, parameters=dict(plan.parameters))
    out = model.evaluate(np.vstack([model.vector(check), model.vector(plan)]))
    npv = np.asarray(out.npv(), dtype=float)
    version = (result.provenance.parameters.get("model_version") if result.provenance else None) or "?"
    mode = (f"with probability {args.probability} on {args.runs} Latin-hypercube runs (seed {args.seed})"
            if args.probability is not None else "on the central run")
    command = ("PYTHONPATH=src .venv/bin/python tools/make_neutrality.py"
               + (f" --probability {args.probability} --runs {args.runs}" if args.probability is not None else "")
               + f" --seed {args.seed}")
    lines = [
        "# Neutrality (达峰 + 中和): the least-cost way from the Plan to every plan target the model can reach (issue 17).",
        f"# Found by least-cost goal-seek {mode}: citycarbon.pathways.goalseek.seek(model, Plan, objective=\"least-cost\",",
        "# keep_scenario=True) minimises the NPV 2021-2060 of the energy-system cost over the policy levers, none less",
        "# ambitious than the Plan, subject to the targets; values rounded towards ambition and checked. Regenerate with",
        f"#   {command}",
        f"# Generated {dt.date.today().isoformat()} with pathway model version {version} (goal-seek method "
        f"{result.provenance.method_version if result.provenance else '?'}).",
        f"# NPV 2021-2060 (central run): {npv[0] / 1e8:,.0f} x 1e8 CNY; Plan {npv[1] / 1e8:,.0f} x 1e8 CNY; "
        f"change {(npv[0] - npv[1]) / 1e8:+,.0f} x 1e8 CNY.",
    ]
    missing = sorted(t for t, ok in central.items() if not ok)
    if missing:
        lines.append("# Out of reach (central run): " + ", ".join(missing) + ". Why:")
        for target in missing:
            why = result.why.get(target)
            if why:
                lines += ["#   " + why["text_en"], "#   " + why["text_zh"]]
    else:
        lines.append("# Every plan target is met on the central run.")
    lines += ["name: Neutrality", "name_zh: 达峰中和情景",
              "description: Least-cost lever settings beyond the Plan that meet every plan target the model can "
              "reach (goal-seek).",
              "inherits: Plan", "levers:"]
    for key in sorted(chosen, key=lambda k: model.parameters.names.index(k)):
        lines.append(f"  {key}: {chosen[key]:g}  # {names[key].name_zh}")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(chosen)} levers, out of reach: {', '.join(missing) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
