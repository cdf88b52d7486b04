"""Pathways as a service: the city's model on the data of the one source rule, scenarios resolved and
remembered by code, runs, ensembles, Shapley attributions and the IAMC export.

Every face (API ``/pathways``, the cockpit's pathways page, ``citycarbon pathway …``, the Python library) goes
through a :class:`PathwayService`:

* the model is built on the city's data from :func:`citycarbon.services.sources.city_inputs` (the ledger when
  a database exists, the shipped files otherwise), or from a ``loader`` the owner passes (the API's ledger
  cache), and rebuilt when the data version changes (at most :attr:`PathwayService.model_memory` kept);
* scenario codes computed by this service are remembered (code → scenario name and settings, at most
  :data:`CODE_MEMORY`, least recently used dropped; the shipped scenarios' codes are always known), so a what-if
  can be fetched by its code;
* runs are cached by (data version, scenario code), at most :data:`RUN_MEMORY`.

The caches are explicit and bounded, and belong to the service object: the web app owns one
(``app.state.pathways``), a CLI command makes its own. Results are the domain's typed results
(:class:`~citycarbon.pathways.results.PathwayResult`, :class:`~citycarbon.pathways.uncertainty.EnsembleResult`,
:class:`~citycarbon.pathways.attribution.ShapleyResult`, :class:`LeverRow`); ``run_document`` keeps the run's
JSON document cached for the faces that render it on every redraw.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem
from citycarbon.services.sources import Source, city_inputs

if TYPE_CHECKING:  # the model's modules load numpy work on first use, not when a face starts
    import pandas as pd

    from citycarbon.auth.principal import Principal
    from citycarbon.datasets import ReferenceDataset
    from citycarbon.pathways.attribution import ShapleyResult
    from citycarbon.pathways.goalseek import SeekResult  # issue 17 (seek)
    from citycarbon.pathways.model import PathwayModel
    from citycarbon.pathways.results import PathwayResult
    from citycarbon.pathways.scenarios import Scenario
    from citycarbon.pathways.uncertainty import EnsembleResult

__all__ = ["CODE_MEMORY", "COMPARISON", "MAX_EXPORT", "RUN_MEMORY", "LeverRow", "PathwayService",
           "parse_set", "service_for"]

#: codes remembered by a service (code → scenario name and settings)
CODE_MEMORY = 4096
#: run results kept per service (one entry is about 40 kB)
RUN_MEMORY = 256
#: the shipped scenarios every comparison shows
COMPARISON = ("BAU", "Plan", "Enhanced")
#: scenarios per IAMC export
MAX_EXPORT = 8

#: a loader returns (data key, dataset); dataset None = the shipped files of the city (the cached model)
Loader = Callable[[], "tuple[Hashable, ReferenceDataset | None]"]


@dataclass(frozen=True)
class LeverRow:
    """A lever as the faces list it: the lever's fields and its plan task group's zh/en title."""

    id: str
    name_zh: str
    name_en: str
    tasks: list[str]
    group: str
    group_title_zh: str | None
    group_title_en: str | None
    unit: str
    default: float
    plan: float
    min: float
    max: float
    start_year: int
    full_year: int
    shape: str
    direction: str
    source: str
    status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_set(items: list[str]) -> dict[str, float]:
    """``["lever:value", …]`` (``=`` accepted too) → ``{lever: value}``; malformed items name themselves."""
    out: dict[str, float] = {}
    problems = []
    for item in items:
        separator = ":" if ":" in item else "="
        name, sep, value = item.partition(separator)
        if not sep or not name.strip():
            problems.append(Problem("expected LEVER:VALUE", field="set", value=item))
            continue
        try:
            out[name.strip()] = float(value)
        except ValueError:
            problems.append(Problem(f"'{value}' is not a number", field=f"levers.{name.strip()}", value=value))
    if problems:
        raise InputError(problems)
    return out


def source_loader(city: str, source: str | Source | None = None) -> Loader:
    """A loader reading ``city`` from ``source`` (:func:`citycarbon.services.sources.city_inputs`)."""

    def load() -> tuple[Hashable, ReferenceDataset | None]:
        inputs = city_inputs(city, source)
        return inputs.key, None if inputs.source is Source.files else inputs.dataset

    return load


class PathwayService:
    """One city's pathways with explicit, bounded caches (models, scenario codes, runs). Thread-safe."""

    def __init__(self, city: str = "dalian", *, source: str | Source | None = None, loader: Loader | None = None,
                 code_memory: int = CODE_MEMORY, run_memory: int = RUN_MEMORY, model_memory: int = 2,
                 targets: list[Any] | None = None):
        self.city = city
        self.targets = targets  # judge these targets instead of the plan's (``with_targets``)
        self.loader = loader if loader is not None else source_loader(city, source)
        self.code_memory, self.run_memory, self.model_memory = code_memory, run_memory, model_memory
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._models: OrderedDict[Hashable, PathwayModel] = OrderedDict()
        self._codes: OrderedDict[str, tuple[str, dict[str, float]]] = OrderedDict()
        self._runs: OrderedDict[tuple[Hashable, str], tuple[PathwayResult, dict[str, Any]]] = OrderedDict()
        self._shipped: dict[str, Scenario] = {}
        self._registry: OrderedDict[Hashable, dict[str, Any]] = OrderedDict()  # issue 17 (registry), by model key

    # -- the model -------------------------------------------------------------------------------------
    def _current(self) -> tuple[Hashable, PathwayModel]:
        key, dataset = self.loader()
        key, registry = _registry_for(self, key, dataset)  # issue 17 (registry): the registry's version joins the key
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
                return key, model
        with self._build_lock:  # one build at a time (a build takes seconds; concurrent callers wait for it)
            with self._lock:
                model = self._models.get(key)
            if model is None:
                from citycarbon.pathways.model import build_model, model_from_dataset

                model = build_model(self.city) if dataset is None else model_from_dataset(dataset, self.city,
                                                                                          registry=registry)
                if self.targets is not None:
                    model = model.with_targets(self.targets)
                with self._lock:
                    self._models[key] = model
                    while len(self._models) > self.model_memory:
                        self._models.popitem(last=False)
        return key, model

    def model(self) -> PathwayModel:
        """The model of the city's current data."""
        return self._current()[1]

    def with_targets(self, targets: list[Any]) -> PathwayService:
        """A service on the same data whose model judges ``targets`` (e.g. with ``--targets`` overrides)."""
        return PathwayService(self.city, loader=self.loader, code_memory=self.code_memory,
                              run_memory=self.run_memory, model_memory=self.model_memory, targets=targets)

    # -- scenarios -------------------------------------------------------------------------------------
    def shipped_names(self) -> list[str]:
        from citycarbon.pathways import shipped_scenarios

        return shipped_scenarios()

    def base_scenario(self, name: str | None) -> Scenario:
        """A shipped scenario by name (case-insensitive). Only shipped names: a path would read server files."""
        name = (name or "Plan").strip()
        names = self.shipped_names()
        lookup = {n.lower(): n for n in names}
        if name.lower() not in lookup:
            raise InputError(Problem(f"unknown scenario '{name}'", field="scenario", value=name,
                                     suggestion=nearest(name, names)))
        chosen = lookup[name.lower()]
        with self._lock:
            hit = self._shipped.get(chosen)
        if hit is None:
            from citycarbon.pathways import load_scenario

            hit = load_scenario(chosen)
            with self._lock:
                self._shipped[chosen] = hit
        return hit

    def load(self, reference: str) -> Scenario:
        """A scenario by shipped name or YAML file (the CLI; the web and API take shipped names only)."""
        from citycarbon.pathways import load_scenario

        if reference.strip().lower() in {n.lower() for n in self.shipped_names()}:
            return self.base_scenario(reference)
        return load_scenario(reference)

    def scenarios(self) -> list[Scenario]:
        return [self.base_scenario(name) for name in self.shipped_names()]

    def resolve(self, name: str | None, settings: dict[str, float] | None = None) -> Scenario:
        """The shipped scenario ``name`` with ``settings`` applied (checked: unknown ids and out-of-range values
        raise :class:`InputError` naming ``levers.<id>`` and the nearest id); its code is remembered."""
        from citycarbon.pathways.scenarios import with_settings

        base = self.base_scenario(name)
        scenario = with_settings(base, dict(settings), source="request") if settings else base
        self.remember(scenario.code, base.name, {k: float(v) for k, v in (settings or {}).items()})
        return scenario

    def remember(self, code: str, name: str, settings: dict[str, float]) -> None:
        with self._lock:
            self._codes[code] = (name, dict(settings))
            self._codes.move_to_end(code)
            while len(self._codes) > self.code_memory:
                self._codes.popitem(last=False)

    def recall(self, code: str) -> tuple[str, dict[str, float]] | None:
        """Scenario name and settings of a code this service computed (or a shipped scenario's code)."""
        with self._lock:
            hit = self._codes.get(code)
            if hit is not None:
                self._codes.move_to_end(code)
                return hit[0], dict(hit[1])
        for scenario in self.scenarios():
            if scenario.code == code:
                return scenario.name, {}
        return None

    def forget_codes(self) -> None:
        """Drop the remembered codes (as after a restart; the shipped scenarios stay known)."""
        with self._lock:
            self._codes.clear()

    # -- results ---------------------------------------------------------------------------------------
    def _run_entry(self, scenario: Scenario) -> tuple[PathwayResult, dict[str, Any]]:
        key, model = self._current()
        slot = (key, scenario.code)
        with self._lock:
            hit = self._runs.get(slot)
            if hit is not None:
                self._runs.move_to_end(slot)
                return hit
        result = model.run(scenario)
        entry = (result, _with_registry(self, key, result.to_dict()))  # issue 17 (registry)
        with self._lock:
            self._runs[slot] = entry
            while len(self._runs) > self.run_memory:
                self._runs.popitem(last=False)
        return entry

    def run(self, scenario: Scenario) -> PathwayResult:
        """One pathway of ``scenario`` (:class:`~citycarbon.pathways.results.PathwayResult`; cached by code)."""
        return self._run_entry(scenario)[0]

    def run_document(self, scenario: Scenario) -> dict[str, Any]:
        """The ``run`` JSON of ``scenario`` (docs/pathways.md), cached with the run; treat it as read-only."""
        return self._run_entry(scenario)[1]

    def neutrality(self, document: dict[str, Any]) -> dict[str, Any] | None:
        """The headline neutrality verdict of a run (``run_document``): the one domain judgement
        (:func:`citycarbon.tracking.peak.neutrality_verdict`, also used by tracking) on the run's net CO2
        including sinks in the plan's neutrality target year; the model's CO2 is on the net-inflow basis.
        None when the plan has no neutrality target with a value."""
        from citycarbon.tracking.peak import NEUTRALITY_INDICATORS, neutrality_verdict

        targets = getattr(self.model().plan, "targets", [])
        target = next((t for t in targets if t.indicator in NEUTRALITY_INDICATORS and t.value is not None), None)
        if target is None:
            return None
        years = [int(y) for y in document["years"]]
        net = document["series"]["net_co2_emissions_t"]
        value = float(net[years.index(target.year)]) if target.year in years else None
        verdict = neutrality_verdict(value, target.year, target_value=float(target.value), basis="net_inflow",
                                     source=f"scenario {document.get('code')}")
        return {"target_id": target.id, **verdict.to_dict()}

    def levers(self) -> list[LeverRow]:
        """Every lever with its group's zh/en title, in plan group order."""
        from citycarbon.pathways.attribution import group_titles

        model = self.model()
        titles = group_titles(model)
        rows = []
        for lever in model.levers:
            zh, en = titles.get(lever.group, ("", ""))
            rows.append(LeverRow(**lever.to_dict(), group_title_zh=zh or None, group_title_en=en or None))
        return rows

    def _protocol_model(self) -> Any:
        # the analysis functions take any model of the structural protocol in pathways.uncertainty; the built
        # model satisfies it by behaviour (tests/pathways/toys.check_protocol), not by attribute variance
        return self.model()

    def ensemble(self, scenario: Scenario, runs: int, seed: int, **options: Any) -> EnsembleResult:
        """Latin-hypercube ensemble (:class:`~citycarbon.pathways.uncertainty.EnsembleResult`)."""
        from citycarbon.pathways.uncertainty import ensemble

        return ensemble(self._protocol_model(), scenario, runs, seed, **options)

    def attribution(self, base: Scenario, scenario: Scenario, permutations: int = 200, exact: bool = False,
                    **options: Any) -> ShapleyResult:
        """Shapley attribution of the gap to ``base`` (:class:`~citycarbon.pathways.attribution.ShapleyResult`).

        ``lmdi=YEAR`` / ``lmdi_period=YEAR`` attach the LMDI decompositions of
        :func:`~citycarbon.pathways.attribution.attach_lmdi` (issue 17) to the result's JSON."""
        from citycarbon.pathways.attribution import shapley

        # issue 17 (lmdi): the by-sector LMDI of the gap in a year and the period LMDI
        lmdi, lmdi_period = options.pop("lmdi", None), options.pop("lmdi_period", None)
        result = shapley(self._protocol_model(), base, scenario, permutations=permutations, exact=exact, **options)
        if lmdi is not None or lmdi_period is not None:
            from citycarbon.pathways.attribution import attach_lmdi

            attach_lmdi(result, self._protocol_model(), base, scenario, lmdi=lmdi, lmdi_period=lmdi_period)
        return result

    def iamc(self, scenarios: list[Scenario]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The IAMC long table and its meta table of ``scenarios`` (at most :data:`MAX_EXPORT`)."""
        import numpy as np

        from citycarbon.pathways.iamc import iamc_frames

        if len(scenarios) > MAX_EXPORT:
            raise InputError(Problem(f"at most {MAX_EXPORT} scenarios per export", field="scenario",
                                     value=len(scenarios)))
        model = self.model()
        outputs = model.evaluate(np.vstack([model.vector(s) for s in scenarios]))
        region = str(getattr(model.plan.meta, "city_en", None) or model.city.title())
        return iamc_frames(model, scenarios, outputs, region)

    # issue 17 (web) ---------------------------------------------------------------------------------------------
    def bases(self, scenarios: list[Scenario]) -> dict[str, Any]:
        """The CO2 bases of ``scenarios`` side by side (the pathways page's basis switch and non-fossil view).

        ``{"rule": peak rule ("worse" or a basis), "headline": the profile's headline basis, "attribution": the
        profile's non-fossil attribution, "bases": [...], "years": [...], "scenarios": [{"name", "code",
        "deciding": the basis the rule picks, "co2": {basis|"rule": [t/yr]}, "net_co2": {…}, "peak_year": {…},
        "peak_value": {…}, "plateau_years": {…}, "neutrality_year": {…: year or None}, "non_fossil":
        {"grid_average"|"local_mix"|"local_additions": [share]}}]}``; the ``"rule"`` entries are the accounting
        profile's rule (:meth:`citycarbon.pathways.model.Outputs.peak_year` with no basis): per run the deciding
        basis' series. One vectorised evaluation of all ``scenarios``.
        """
        import numpy as np

        from citycarbon.pathways.model import RULE_BASES

        if not scenarios:
            raise InputError(Problem("no scenario given", field="scenario"))
        model = self.model()
        outputs = model.evaluate(np.vstack([model.vector(s) for s in scenarios]))
        bases = list(outputs.bases())
        rule_peak = outputs.peak_year()

        def year(value: float) -> int | None:
            return None if np.isnan(value) else int(value)

        rows = []
        for i, scenario in enumerate(scenarios):
            peaks = {b: int(outputs.peak_year(b)[i]) for b in bases}
            candidates = [b for b in RULE_BASES if b in peaks] if model.peak_rule == "worse" else [model.peak_rule]
            deciding = next((b for b in candidates if peaks.get(b) == int(rule_peak[i])),
                            candidates[0] if candidates and candidates[0] in peaks else model.co2_basis)
            co2 = {b: [float(v) for v in outputs.co2(b)[i]] for b in bases}
            net = {b: [float(v) for v in outputs.net_co2(b)[i]] for b in bases}
            co2["rule"], net["rule"] = co2.get(deciding, co2[bases[0]]), [float(v) for v in outputs.net_co2()[i]]
            rows.append({
                "name": scenario.name, "code": scenario.code, "deciding": deciding, "co2": co2, "net_co2": net,
                "peak_year": {**peaks, "rule": int(rule_peak[i])},
                "peak_value": {**{b: float(outputs.peak_value(b)[i]) for b in bases},
                               "rule": float(outputs.peak_value()[i])},
                "plateau_years": {**{b: int(outputs.plateau_years(b)[i]) for b in bases},
                                  "rule": int(outputs.plateau_years()[i])},
                "neutrality_year": {**{b: year(outputs.neutrality_year(b)[i]) for b in bases},
                                    "rule": year(outputs.neutrality_year()[i])},
                "non_fossil": {k: [float(v) for v in outputs.series[f"non_fossil_share_{k}"][i]]
                               for k in ("grid_average", "local_mix", "local_additions")
                               if f"non_fossil_share_{k}" in outputs.series},
            })
        return {"rule": model.peak_rule, "headline": model.co2_basis, "attribution": model.attribution,
                "bases": bases, "years": [int(y) for y in outputs.years], "scenarios": rows}

    # issue 17 (macc): the marginal abatement cost curve and the cost view -----------------------------------
    def macc_default_scenario(self) -> str:
        """The scenario a MACC is drawn for by default: ``Neutrality`` when shipped, else ``Enhanced``."""
        names = {n.lower(): n for n in self.shipped_names()}
        return names.get("neutrality", names.get("enhanced", "Plan"))

    def macc(self, scenario: Scenario, year: int, *, base: Scenario | str = "BAU", basis: str = "consumption",
             runs: int = 0, seed: int = 0) -> MaccResult:
        """The MACC of ``scenario`` against ``base`` (a scenario or a shipped name) in ``year`` on ``basis``
        (:func:`citycarbon.pathways.macc.macc`; ``runs`` > 0: p5/p50/p95 from an ensemble, at most
        :data:`MAX_MACC_RUNS`)."""
        from citycarbon.pathways.macc import macc

        if isinstance(runs, int) and runs > MAX_MACC_RUNS:
            raise InputError(Problem(f"at most {MAX_MACC_RUNS} runs for a MACC", field="runs", value=runs))
        chosen = self._named_base(base, "base")
        return macc(self._protocol_model(), scenario, year, base=chosen, basis=basis, runs=runs, seed=seed)

    def _named_base(self, base: Scenario | str, field: str) -> Scenario:
        """A shipped base scenario by name; an unknown name is an InputError naming ``field``."""
        if not isinstance(base, str):
            return base
        try:
            return self.base_scenario(base)
        except InputError as error:
            raise InputError([Problem(p.message, field=field, value=p.value, suggestion=p.suggestion)
                              for p in error.problems]) from None

    def costs(self, scenarios: list[Scenario], versus: Scenario | str = "BAU") -> dict[str, Any]:
        """Central costs of ``scenarios`` against ``versus`` (:func:`citycarbon.pathways.macc.compare_costs`):
        ``{"years", "versus", "versus_code", "discount_rate", "base_year", "sectors", "kinds", "units",
        "versus_result": {…}, "scenarios": [{"scenario", "code", "name_zh", "npv_cny", "npv_vs_versus_cny",
        "annual": {cost_total_cny, cost_<sector>_cny, cost_<kind>_cny: [per year]}, "vs_versus": {same keys}}]}``
        (CNY/yr; NPV in CNY at the base year)."""
        from citycarbon.pathways.macc import compare_costs

        if len(scenarios) > MAX_EXPORT:
            raise InputError(Problem(f"at most {MAX_EXPORT} scenarios per comparison", field="scenario",
                                     value=len(scenarios)))
        chosen = self._named_base(versus, "versus")
        return compare_costs(self.model(), scenarios, chosen)

    # issue 17 (seek) ---------------------------------------------------------------------------------
    def seek(self, scenario: Scenario, *, objective: str = "least-cost", targets: list[str] | str = "all",
             probability: float | None = None, runs: int = 200, seed: int = 0, keep_scenario: bool = False,
             progress: Any = None) -> SeekResult:
        """Goal-seek from ``scenario`` on the city's model (:func:`seek_pathway`)."""
        return seek_pathway(self._protocol_model(), scenario, objective=objective, targets=targets,
                            probability=probability, runs=runs, seed=seed, keep_scenario=keep_scenario,
                            progress=progress)

    def what_it_takes(self, base: str = "Plan", target: str = "Neutrality") -> dict[str, Any]:
        """What moving from the shipped scenario ``base`` to ``target`` takes: the levers that change (names
        zh/en, group and its title, unit, values, range, the potential that bounds the lever), the cost (NPV
        and annual cost by sector in 2030 and 2060, target against base and against BAU; central run, CNY) and
        the plan targets each meets. Shape documented in docs/pathways.md ("What it takes")."""
        import numpy as np

        from citycarbon.pathways.costs import SECTORS
        from citycarbon.pathways.goalseek import why_not
        from citycarbon.pathways.parameters import load_potentials
        from citycarbon.pathways.uncertainty import target_info

        model = self.model()
        b, t, bau = self.base_scenario(base), self.base_scenario(target), self.base_scenario("BAU")
        out = model.evaluate(np.vstack([model.vector(t), model.vector(b), model.vector(bau)]))
        years = [int(y) for y in out.years]
        npv = np.asarray(out.npv(), dtype=float)
        potentials = {str(r["lever"]): r for r in load_potentials().to_dict("records") if r.get("lever")}
        levers = []
        for row in self.levers():
            before, after = float(b.levers.get(row.id, row.default)), float(t.levers.get(row.id, row.default))
            if abs(after - before) <= 1e-12 * max(abs(before), 1.0):
                continue
            pot = potentials.get(row.id)
            levers.append({"id": row.id, "name_zh": row.name_zh, "name_en": row.name_en, "group": row.group,
                           "group_title_zh": row.group_title_zh, "group_title_en": row.group_title_en,
                           "unit": row.unit, "base": before, "target": after, "change": after - before,
                           "min": row.min, "max": row.max, "at_max": after >= row.max,
                           "potential": None if pot is None else {
                               "id": str(pot["id"]), "name_zh": str(pot["name_zh"]), "name_en": str(pot["name_en"]),
                               "value": float(pot["value"]), "unit": str(pot["unit"]), "source": str(pot["source"]),
                               "status": str(pot["status"])}})
        annual: dict[str, dict[str, dict[str, float]]] = {}
        for year in (2030, 2060):
            if year in years:
                i = years.index(year)
                cols = {k: out.series[f"cost_{k}_cny"][:, i] for k in (*SECTORS, "total")}
                annual[str(year)] = {
                    "target": {k: float(v[0]) for k, v in cols.items()},
                    "base": {k: float(v[1]) for k, v in cols.items()},
                    "bau": {k: float(v[2]) for k, v in cols.items()},
                    "target_vs_base": {k: float(v[0] - v[1]) for k, v in cols.items()},
                    "target_vs_bau": {k: float(v[0] - v[2]) for k, v in cols.items()},
                    "base_vs_bau": {k: float(v[1] - v[2]) for k, v in cols.items()}}
        info = target_info(model)
        judged = out.targets()
        target_rows = [{"id": key, **info.get(key, {}), "base_met": bool(met[1]), "target_met": bool(met[0]),
                        "base_margin": float(margin[1]), "target_margin": float(margin[0])}
                       for key, (met, margin) in judged.items()]
        return {
            "base": {"name": b.name, "name_zh": getattr(b, "name_zh", None), "code": b.code},
            "target": {"name": t.name, "name_zh": getattr(t, "name_zh", None), "code": t.code,
                       "description": getattr(t, "description", None)},
            "levers": levers,
            "cost": {"unit": "CNY", "sectors": list(SECTORS),
                     "npv": {"target": float(npv[0]), "base": float(npv[1]), "bau": float(npv[2]),
                             "target_vs_base": float(npv[0] - npv[1]), "target_vs_bau": float(npv[0] - npv[2]),
                             "base_vs_bau": float(npv[1] - npv[2])},
                     "annual": annual},
            "targets": target_rows,
            "met": {"base": sum(r["base_met"] for r in target_rows),
                    "target": sum(r["target_met"] for r in target_rows), "total": len(target_rows)},
            # why each target the target scenario misses stays missed (goalseek.why_not: text_zh, text_en, …)
            "why": why_not(self._protocol_model(), t),
        }

    # issue 17 (webunc): the registry's pipeline beside the lever path, per technology (the pathways page) ----------
    def registry_beside(self, scenario: Scenario, principal: Principal) -> dict[str, Any] | None:
        """The run document's ``registry`` block (docs/pathways.md "Registry starting line") as ``principal`` may
        see it (:func:`visible_document`), beside the scenario's capacity path of each registry technology
        (``capacity_<tech>_mw`` of one evaluation, MW): ``{"years", "technologies", "path": {tech: [MW per
        year]}, "registry": {…}, "unit": "MW"}``. None without a registry block (no store, no projects of these
        technologies) or for a caller who may not read the energy-project registry."""
        from citycarbon.services.projects.energy_projects import PATHWAY_TECHNOLOGIES

        registry = visible_document(principal, self.run_document(scenario)).get("registry")
        if not registry:
            return None
        model = self.model()
        outputs = model.evaluate(model.vector(scenario)[None, :])
        techs = [t for t in PATHWAY_TECHNOLOGIES if f"capacity_{t}_mw" in outputs.series]
        return {"years": [int(y) for y in outputs.years], "technologies": techs,
                "path": {t: [float(v) for v in outputs.series[f"capacity_{t}_mw"][0]] for t in techs},
                "registry": registry, "unit": "MW"}
    # issue 17 (api): the goal-seek for the faces (checked before any work, cached by its settings) ----------
    def named_scenario(self, name: str, field: str) -> Scenario:
        """A shipped scenario by name (case-insensitive); an unknown name is an :class:`InputError` naming
        ``field`` (``versus``, ``base``, ``target``) with the nearest shipped name."""
        return self._named_base(name, field)

    def check_seek(self, scenario: Scenario, *, objective: str = "least-cost", targets: list[str] | str = "all",
                   probability: float | None = None, runs: int = 200) -> list[str] | str:
        """Check a goal-seek's settings before any work (an API job is only queued for a seek that can run):
        ``objective`` one of :data:`citycarbon.pathways.goalseek.OBJECTIVES`, each of ``targets`` a target the
        model judges (field ``targets``), ``probability`` in (0, 1], ``runs`` from 1 to :data:`MAX_SEEK_RUNS`
        and, for a least-cost seek with a probability (minutes: each step evaluates the ensemble), at most
        :data:`MAX_LEAST_COST_SEEK_RUNS`. Returns the targets as the seek takes them (``"all"`` or the list)."""
        from citycarbon.pathways.goalseek import OBJECTIVES

        problems = []
        if objective not in OBJECTIVES:
            problems.append(Problem(f"objective must be one of {', '.join(OBJECTIVES)}", field="objective",
                                    value=objective, suggestion=nearest(str(objective), list(OBJECTIVES))))
        if probability is not None and not 0.0 < float(probability) <= 1.0:
            problems.append(Problem("probability must be in (0, 1]", field="probability", value=probability))
        limit = MAX_LEAST_COST_SEEK_RUNS if probability is not None and objective == "least-cost" else MAX_SEEK_RUNS
        if not 1 <= int(runs) <= limit:
            problems.append(Problem(f"runs must be from 1 to {limit}" + (
                " for a least-cost seek with a probability" if limit == MAX_LEAST_COST_SEEK_RUNS else ""),
                field="runs", value=runs))
        chosen: list[str] | str = "all"
        if targets != "all" and targets is not None:
            import numpy as np

            model = self.model()
            known = list(model.evaluate(np.asarray(model.vector(scenario), dtype=float)[None, :]).targets())
            chosen = list(dict.fromkeys(str(t) for t in targets))
            problems += [Problem("unknown target", field="targets", value=t, suggestion=nearest(t, known))
                         for t in chosen if t not in known]
            if not chosen:
                problems.append(Problem("name at least one target (or leave targets out: every target)",
                                        field="targets"))
        if problems:
            raise InputError(problems)
        return chosen

    def seek_document(self, scenario: Scenario, *, objective: str = "least-cost", targets: list[str] | str = "all",
                      probability: float | None = None, runs: int = 200, seed: int = 0,
                      keep_scenario: bool = False, progress: Any = None) -> dict[str, Any]:
        """The JSON of a goal-seek from ``scenario`` (:meth:`seek` after :meth:`check_seek`;
        :meth:`citycarbon.pathways.goalseek.SeekResult.to_dict`), cached by the data's version and every
        setting (at most :data:`SEEK_MEMORY` kept): the same question is answered once. Treat it as read-only."""
        chosen = self.check_seek(scenario, objective=objective, targets=targets, probability=probability, runs=runs)
        key = (self._current()[0], scenario.code, objective, chosen if isinstance(chosen, str) else tuple(chosen),
               None if probability is None else float(probability), int(runs) if probability is not None else None,
               int(seed), bool(keep_scenario))
        with self._lock:
            memo: OrderedDict[Hashable, dict[str, Any]] = self.__dict__.setdefault("_seek_memo", OrderedDict())
            hit = memo.get(key)
            if hit is not None:
                memo.move_to_end(key)
                return hit
        document = self.seek(scenario, objective=objective, targets=chosen, probability=probability,
                             runs=int(runs), seed=int(seed), keep_scenario=bool(keep_scenario),
                             progress=progress).to_dict()
        with self._lock:
            memo[key] = document
            while len(memo) > SEEK_MEMORY:
                memo.popitem(last=False)
        return document


def service_for(state: Any, city: str, principal: Principal) -> PathwayService:
    """The :class:`PathwayService` of ``city`` an application owns (``state.pathways``) for ``principal``: a
    caller scoped to another city is refused (:class:`~citycarbon.errors.Forbidden`, the city scope of
    :func:`citycarbon.services.cities.require_city`), whatever the face. An app without one (the cockpit mounted
    bare, tools) gets one on the default source, made once and kept on its state."""
    from citycarbon.services.cities import require_city

    require_city(principal, city)
    service = getattr(state, "pathways", None)
    if service is None:
        service = PathwayService(city)
        state.pathways = service
    return service


# issue 17 (registry): the energy-project registry as the starting line of the model's wind and solar paths ----

def _registry_database(loader: Loader, key: Hashable) -> tuple[Any, bool]:
    """The database holding the registry of the data ``loader`` reads, and whether the caller must dispose of
    it: the owner's database when the loader is a ledger cache's bound method (the API's
    :meth:`citycarbon.services.results.Results.current_dataset`), the configured database when the key is the
    store's (:attr:`citycarbon.services.sources.CityInputs.key` of ``source="store"``), else none."""
    owner_db = getattr(getattr(loader, "__self__", None), "db", None)
    if owner_db is not None and hasattr(owner_db, "session"):
        return owner_db, False
    from citycarbon.services.sources import database_exists
    from citycarbon.settings import Settings

    settings = Settings.from_env()
    if isinstance(key, tuple) and len(key) == 3 and key[0] == settings.redacted_url() and database_exists(settings):
        from citycarbon.store.db import Database

        return Database(settings), True
    return None, False


def _registry_for(service: PathwayService, key: Hashable, dataset: Any
                  ) -> tuple[Hashable, dict[str, dict[int, float]] | None]:
    """``(key, registry)`` for the model of ``key``: when the data come from the store and its energy-project
    registry holds projects, the key gains the registry's version (so a new connection rebuilds the model) and
    ``registry`` is the grid-connected capacity by model technology and year
    (:func:`citycarbon.services.projects.energy_projects.registry_pathway_capacity`) when the registry adds
    years after the statistics, else None (the model stays the one of the data alone). The registry's summary
    for the run document is kept per key (:func:`_with_registry`)."""
    from datetime import date

    if dataset is None:
        return key, None
    db, own = _registry_database(service.loader, key)
    if db is None:
        return key, None
    from sqlalchemy.exc import SQLAlchemyError

    from citycarbon.services.projects.energy_projects import registry_pathway_capacity, registry_version

    today = date.today()
    # the ledger cache reads the registry's version with the ledger's (Results.version): no second query
    known = getattr(getattr(service.loader, "__self__", None), "_registry", None)
    try:
        if isinstance(known, int) and not own:
            version = known
            if not version:
                return key, None
            full = (key, ("registry", version, today.year))
            with service._lock:
                if full in service._registry:
                    hit = service._registry[full]
                    return full, (hit["connected"] if hit["extends"] else None)
        with db.session() as session:
            version = registry_version(session)
            if not version:
                return key, None
            full = (key, ("registry", version, today.year))
            with service._lock:
                found = service._registry.get(full)
            if found is None:
                found = registry_pathway_capacity(session, service.city, today=today)
                with service._lock:
                    service._registry[full] = found
                    while len(service._registry) > service.model_memory + 2:
                        service._registry.popitem(last=False)
    except SQLAlchemyError:  # no registry table (an older schema): the data alone
        return key, None
    finally:
        if own:
            db.dispose()
    return full, (found["connected"] if found["extends"] else None)


def _with_registry(service: PathwayService, key: Hashable, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``registry`` (docs/pathways.md "Registry starting line") when the model's data have a
    registry with projects of the model's wind and solar technologies: ``connected`` {tech: {year: MW}},
    ``pipeline`` {tech: {year: MW}}, ``undated_mw`` (pipeline without an expected year), ``last_year``,
    ``statistics_year``, ``starting_line`` (whether it moved the model's paths)."""
    with service._lock:
        info = service._registry.get(key)
    if not info or not info["projects"]:
        return document

    def by_year(table: dict[str, dict[int, float]]) -> dict[str, dict[str, float]]:
        return {tech: {str(y): float(v) for y, v in rows.items()} for tech, rows in table.items()}

    document["registry"] = {
        "connected": by_year(info["connected"]), "pipeline": by_year(info["pipeline"]),
        "undated_mw": info["undated_total_mw"], "undated_by_technology": dict(info["undated_mw"]),
        "last_year": info["last_year"], "statistics_year": info["statistics_year"],
        "starting_line": bool(info["extends"]), "unit": "MW"}
    return document


__all__ += ["cost_figures", "learning_rows", "potential_rows"]


def cost_figures() -> list[dict[str, Any]]:
    """Every cost figure of the pathway model (``data/pathways/costs.csv``: id, names, unit, default, low, high,
    the technology or measure and the item it prices, price year, status, source), then the learning table
    (``learning.csv``) as ``learning``: the rows of ``citycarbon pathway costs`` (docs/pathways.md "Costs")."""
    from citycarbon.pathways.parameters import load_costs

    return [{"id": str(r.id), "name_zh": str(r.name_zh), "name_en": str(r.name_en), "unit": str(r.unit),
             "default": float(r.default), "low": float(r.low), "high": float(r.high),
             "technology": str(r.technology), "item": str(r.item), "price_year": str(r.price_year),
             "kind": "cost" if float(r.low) < float(r.high) else "fixed", "status": str(r.status),
             "source": str(r.source)} for r in load_costs().itertuples()]


def learning_rows() -> list[dict[str, Any]]:
    """Doublings of global cumulative deployment since 2024 per learning technology and year (``learning.csv``)."""
    from citycarbon.pathways.parameters import load_learning

    return [{"technology": str(r.technology), "year": int(r.year), "doublings": float(r.doublings),
             "status": str(r.status), "source": str(r.source)} for r in load_learning().itertuples()]


def potential_rows() -> list[dict[str, Any]]:
    """The city's technical potentials (``data/pathways/potentials.csv``): the rows of
    ``citycarbon pathway potentials`` (docs/pathways.md "Potentials")."""
    from citycarbon.pathways.parameters import load_potentials

    return [{"id": str(r.id), "name_zh": str(r.name_zh), "name_en": str(r.name_en),
             "technology": str(r.technology), "lever": str(r.lever) or None, "value": float(r.value),
             "unit": str(r.unit), "year": int(r.year), "status": str(r.status), "source": str(r.source)}
            for r in load_potentials().itertuples()]


def visible_document(principal: Principal, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (a ``run_document``) as ``principal`` may see it: without its ``registry`` section (the
    energy-project registry's capacity and pipeline) for a caller who may not read the registry (enterprise
    users, :meth:`~citycarbon.auth.principal.Principal.can_read_energy_projects`). The cached document is not
    changed; a copy is returned when something is left out."""
    if "registry" not in document or principal.can_read_energy_projects():
        return document
    return {k: v for k, v in document.items() if k != "registry"}


__all__ += ["visible_document"]
# issue 17 (macc)
#: ensemble runs of one MACC (each run evaluates every lever configuration: 200 runs ≈ 0.25 s)
MAX_MACC_RUNS = 1000
__all__ += ["MAX_MACC_RUNS"]
if TYPE_CHECKING:
    from citycarbon.pathways.macc import MaccResult


# issue 17 (seek) -------------------------------------------------------------------------------------------
def seek_pathway(model: Any, scenario: Any, *, objective: str = "least-cost", targets: list[str] | str = "all",
                 probability: float | None = None, runs: int = 200, seed: int = 0, keep_scenario: bool = False,
                 cost: dict[str, float] | None = None, progress: Any = None) -> SeekResult:
    """Goal-seek from ``scenario`` (:func:`citycarbon.pathways.goalseek.seek`): the least-cost (NPV) or the
    closest lever settings meeting ``targets`` on the central run or with ``probability`` on ``runs`` ensemble
    runs (``cost``: move weights of the distance objective); the result says the answer's cost and why a target
    stays out of reach. The one function the faces call (the CLI passes the model it loaded)."""
    from citycarbon.pathways.goalseek import seek

    return seek(model, scenario, seed=seed, targets=targets, probability=probability, runs=runs, cost=cost,
                objective=objective, keep_scenario=keep_scenario, progress=progress)


# issue 17 (api): bounds of the goal-seek the faces offer ---------------------------------------------------
#: ensemble runs of a seek with a probability by default, and at most (a distance seek with 200 runs ≈ 15 s)
DEFAULT_SEEK_RUNS = 200
MAX_SEEK_RUNS = 1000
#: at most this many runs for a least-cost seek with a probability (each step evaluates the ensemble: 20 runs
#: ≈ 30 s, 50 runs ≈ 45 s on the 2-core machine; docs/pathways.md "Goal-seek over HTTP")
MAX_LEAST_COST_SEEK_RUNS = 50
#: seek results kept per service (one document is a few kB)
SEEK_MEMORY = 32
__all__ += ["DEFAULT_SEEK_RUNS", "MAX_LEAST_COST_SEEK_RUNS", "MAX_SEEK_RUNS", "SEEK_MEMORY"]
