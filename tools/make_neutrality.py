"""Write ``data/pathways/scenarios/Neutrality.yaml``: the least-cost goal-seek from the Plan (issue 17).

    PYTHONPATH=src .venv/bin/python tools/make_neutrality.py [--probability 0.8] [--runs 100] [--check-runs 200]

One least-cost seek (:func:`citycarbon.pathways.goalseek.seek`, ``objective="least-cost"``, ``keep_scenario=True``:
no lever less ambitious than the Plan, i.e. what it takes beyond the Plan) with ``--probability`` (default 0.8) on
``--runs`` Latin-hypercube runs: every target that can be met in that share of runs is, and every other target that
the central run can reach is met there (``--probability 0``: central run only).

Each lever that moved is then rounded to a round step of its range (a twentieth, to one significant digit) and
the rounding repaired lever by lever until the targets met on the central run and those with P ≥ p on
``--check-runs`` ensemble runs (seed ``--seed``) hold again (a probability claim that rounding cannot keep is
dropped and reported); the scenario is written with a header saying how it was found, when (model version), its
NPV and which targets stay out of reach and why.
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


def scenario(base: Scenario, levers: dict[str, float], name: str = "Neutrality") -> Scenario:
    return Scenario(name=name, code="", levers={**base.levers, **levers}, parameters=dict(base.parameters))


class Check:
    """Central margins of the required targets and ensemble P(met) of the probability targets."""

    def __init__(self, model, base: Scenario, central: list[str], likely: list[str], p: float, runs: int,
                 seed: int):
        self.model, self.base, self.central, self.likely = model, base, central, likely
        self.p, self.runs, self.seed = p, runs, seed

    def deficit(self, levers: dict[str, float]) -> float:
        """0 when every requirement holds; otherwise how far off (scaled shares and margins)."""
        sc = scenario(self.base, levers)
        targets = self.model.evaluate(self.model.vector(sc)[None, :]).targets()
        total = 0.0
        for t in self.central:
            met, margin = targets[t]
            if not bool(met[0]):
                total += 1.0 + min(1.0, abs(float(margin[0])) / 1e-3)
        if self.likely:
            result = ensemble(self.model, sc, self.runs, self.seed, series=[])
            shares = result.p_met()
            k = self.runs - math.ceil(self.p * self.runs - 1e-9)
            for t in self.likely:
                if shares[t] < self.p:  # the share, and the order statistic of the margins (continuous)
                    margin = np.sort(np.asarray(result.margin[t], dtype=float))
                    spread = max(float(np.std(margin)), 1e-12)
                    total += (self.p - shares[t]) * 10.0 + min(1.0, max(0.0, -float(margin[k])) / spread)
        return total


def round_and_repair(model, plan: Scenario, values: dict[str, float], check: Check
                     ) -> tuple[dict[str, float], float]:
    """Round each moved lever to a twentieth of its range (one significant digit), then move single levers a
    step at a time (cheapest repair first: the step that lowers the deficit most) until the checks hold."""
    levers = {lv.id: lv for lv in model.levers}
    steps = {k: 10.0 ** math.floor(math.log10((levers[k].max - levers[k].min) / 20.0)) for k in values}
    chosen = {k: float(min(max(round(round(v / steps[k]) * steps[k], 10), levers[k].min), levers[k].max))
              for k, v in values.items()}
    floor = {k: float(plan.levers.get(k, levers[k].default)) for k in values}

    def allowed(k: str, v: float) -> bool:  # inside the range and not less ambitious than the Plan
        lv = levers[k]
        return lv.min <= v <= lv.max and (v - floor[k]) * lv.direction >= -1e-12

    deficit = check.deficit(chosen)
    for _ in range(60):
        if deficit == 0.0:
            return chosen, 0.0
        trials = []
        for k in chosen:
            for sign in (1.0, -1.0):
                v = round(chosen[k] + sign * steps[k], 10)
                if allowed(k, v):
                    trials.append((k, v))
        scored = [(check.deficit({**chosen, k: v}), k, v) for k, v in trials]
        best = min(scored, key=lambda item: item[0])
        if best[0] >= deficit:
            break
        deficit, chosen = best[0], {**chosen, best[1]: best[2]}
    exact = check.deficit(values)
    return (chosen, deficit) if deficit <= exact else (dict(values), exact)


def uncertain_reasons(model, sc: Scenario, targets: list[str]) -> list[str]:
    """For targets met on the central run but not with P ≥ p: the uncertain parameters (parameters.csv) whose
    low or high end alone loses the target on the central run — what the probability depends on."""
    from citycarbon.pathways.parameters import load_uncertain

    names = {str(r["id"]): (str(r["name_en"]), str(r["name_zh"])) for r in load_uncertain().to_dict("records")}
    params = model.parameters
    unc = [i for i, k in enumerate(params.kind) if k == "uncertain"]
    x = model.vector(sc)
    X = np.tile(x, (2 * len(unc), 1))
    for row, i in enumerate(unc):
        X[row, i], X[len(unc) + row, i] = params.low[i], params.high[i]
    judged = model.evaluate(X).targets()
    out = []
    for t in targets:
        met, margin = (np.asarray(a) for a in judged[t])
        lost = []
        for row, i in enumerate(unc):
            for k, end in ((row, params.low[i]), (len(unc) + row, params.high[i])):
                if not met[k]:
                    lost.append((float(margin[k]), params.names[i], float(end)))
        lost.sort()
        en = "; ".join(f"{names.get(n, (n, n))[0]} = {v:g}" for _, n, v in lost[:4])
        zh = "；".join(f"{names.get(n, (n, n))[1]} = {v:g}" for _, n, v in lost[:4])
        spec = next((sp for sp in model.target_specs if sp["id"] == t), {})
        band_en = band_zh = ""
        if spec.get("comparison") == "about":  # a two-sided target: overshooting it is missing it too
            band_en = (f" (an 'about' target: within {spec['tolerance']:g} of {spec['value']:g}, so a share pushed "
                       "above the band misses it as well)")
            band_zh = f"（“左右”目标：须在 {spec['value']:g}±{spec['tolerance']:g} 之内，高出亦不达）"
        out += [f"{t}: met on the central run, lost when one of these alone is at its end{band_en}: {en}.",
                f"{t}：中值情形可达；下列任一参数取端值即不达{band_zh}：{zh}。"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--probability", type=float, default=0.8)
    parser.add_argument("--buffer", type=float, default=0.05,
                        help="seek with probability + buffer on --runs, so that the claim holds on --check-runs")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--check-runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    model = build_model("dalian")
    plan = load_scenario("Plan")
    p = args.probability
    result = seek(model, plan, seed=args.seed, objective="least-cost", keep_scenario=True,
                  probability=min(p + args.buffer, 1.0) if p > 0 else None, runs=args.runs)
    defaults = {lv.id: lv.default for lv in model.levers}
    values = {k: v for k, v in result.values().items() if abs(v - plan.levers.get(k, defaults[k])) > 1e-9}
    exact = model.evaluate(model.vector(scenario(plan, values))[None, :]).targets()
    reached = [k for k, (met, _) in exact.items() if bool(met[0])]
    likely = [t["id"] for t in result.targets if t["met"] and t["id"] not in result.central_only] if p > 0 else []
    while True:
        check = Check(model, plan, reached, likely, p, args.check_runs, args.seed)
        chosen, deficit = round_and_repair(model, plan, values, check)
        if deficit == 0.0 or not likely:
            break
        shares = ensemble(model, scenario(plan, chosen), args.check_runs, args.seed, series=[]).p_met()
        kept = [t for t in likely if shares[t] >= p]
        if kept == likely:
            break
        likely = kept  # a probability claim the rounding cannot keep is dropped (and reported below)
    final = scenario(plan, chosen)
    out = model.evaluate(np.vstack([model.vector(final), model.vector(plan)]))
    npv = np.asarray(out.npv(), dtype=float)
    met = {k: bool(v[0][0]) for k, v in out.targets().items()}
    missing = [t for t, ok in met.items() if not ok]
    shares = ensemble(model, final, args.check_runs, args.seed, series=[]).p_met() if p > 0 else {}
    version = (result.provenance.parameters.get("model_version") if result.provenance else None) or "?"
    command = (f"PYTHONPATH=src .venv/bin/python tools/make_neutrality.py --probability {p} --buffer {args.buffer} "
               f"--runs {args.runs} --check-runs {args.check_runs} --seed {args.seed}")
    lines = [
        "# Neutrality (达峰 + 中和): the least-cost way beyond the Plan to every plan target the model can reach",
        "# (issue 17). Found by least-cost goal-seek (citycarbon.pathways.goalseek.seek, objective=\"least-cost\",",
        "# keep_scenario=True: the NPV 2021-2060 of the energy-system cost minimised over the policy levers, none",
        *((f"# less ambitious than the Plan) with P >= {min(p + args.buffer, 1.0):g} on {args.runs} Latin-hypercube "
           "runs where possible",
           f"# (so that P >= {p} holds on {args.check_runs} ensemble runs), else on the central run;") if p > 0 else
          ("# less ambitious than the Plan) on the central run;",)),
        "# levers rounded to a round step of their range and the rounding repaired. Regenerate with",
        f"#   {command}",
        f"# Generated {dt.date.today().isoformat()}, pathway model {version}, goal-seek method "
        f"{result.provenance.method_version if result.provenance else '?'}.",
        f"# NPV 2021-2060 (central run): {npv[0] / 1e8:,.0f} x 1e8 CNY (Plan {npv[1] / 1e8:,.0f}, "
        f"change {(npv[0] - npv[1]) / 1e8:+,.0f}).",
    ]
    if p > 0:
        lines.append(f"# P >= {p} ({args.check_runs} runs, seed {args.seed}): " + (", ".join(
            t for t, share in shares.items() if share >= p) or "none") + ".")
        lines.append(f"# P < {p}: " + (", ".join(f"{t} ({share:.2f})" for t, share in shares.items()
                                                   if share < p) or "none") + ".")
        lines += [f"#   {line}" for line in uncertain_reasons(model, final, [t for t, share in shares.items()
                                                                   if share < p and met[t]])]
    lines.append("# Out of reach (central run): " + (", ".join(missing) or "none") + ("." if not missing else
                                                                                      ". Why:"))
    for target in missing:
        why = result.why.get(target)
        if why:
            lines += ["#   " + why["text_en"], "#   " + why["text_zh"]]
    lines += ["name: Neutrality", "name_zh: 达峰中和情景",
              "description: Least-cost lever settings beyond the Plan that meet every plan target the model can "
              "reach (goal-seek).",
              "inherits: Plan", "levers:"]
    names = {lv.id: lv for lv in model.levers}
    for key in sorted(chosen, key=lambda k: model.parameters.names.index(k)):
        lines.append(f"  {key}: {chosen[key]:.10g}  # {names[key].name_zh}")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(chosen)} levers; out of reach (central): {', '.join(missing) or 'none'}; "
          f"P >= {p} sought: {', '.join(likely)}; seek {result.evaluations:,} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
