"""Pathways to 2060 over HTTP: levers, scenarios, what-if runs, ensembles, Shapley wedges, IAMC export.

Routes (all ``read``: any authenticated role and token scope; the computations write nothing except an
ensemble job's row in the ``jobs`` table):

* ``GET /pathways/levers`` — every lever with its plan task group (zh/en title), unit, BAU default, plan
  value, range and timing;
* ``GET /pathways/scenarios`` — the shipped scenarios (BAU, Plan, Enhanced, …) with their codes;
* ``GET /pathways/run?scenario=Plan&set=LEVER:VALUE&set=…`` or ``POST /pathways/run``
  ``{"scenario", "levers": {id: value}}`` — one pathway: the ``run`` JSON of docs/pathways.md (provenance in
  ``meta``) with the canonical scenario ``code``;
* ``GET /pathways/scenarios/{code}`` — a what-if by its code. The app's pathway service
  (:class:`citycarbon.services.pathways.PathwayService`, ``app.state.pathways``) keeps an LRU of the last
  :data:`~citycarbon.services.pathways.CODE_MEMORY` codes it computed (code → scenario name and settings;
  the shipped scenarios are always known). A share link also carries the settings
  (``?scenario=Plan&set=…``), so it survives a restart or another worker: the settings are re-resolved and
  must give the same code (otherwise 422). An unknown code without settings answers 404;
* ``POST /pathways/ensembles`` ``{"scenario", "levers", "runs", "seed", "job"}`` — Latin-hypercube ensemble
  of the uncertain parameters (P(peak ≤ 2030), target probabilities). Up to :data:`DIRECT_RUNS` runs the
  answer comes directly (200, ≈ 0.1 s per 1 000 runs); larger runs, or ``"job": true``, are a job (202 +
  job id, poll ``GET /jobs/{id}``; the job's result is the ensemble JSON);
* ``POST /pathways/attributions`` ``{"scenario", "levers", "base", "permutations", "exact"}`` — Shapley
  attribution of the gap to the base scenario by plan task group (the wedge chart's data); answered
  directly (one vectorised call, tens of milliseconds);
* ``GET /pathways/export?scenario=BAU&scenario=Plan&set=…&format=csv|xlsx`` — the IAMC long table
  (``text/csv``, data only; the meta table is the ``meta`` sheet of the Excel file).

Bad lever names or values answer 422 with a problem naming the field (``levers.<id>``) and the nearest lever
name. The routes only parse and render: the pathway service builds the model on the ledger's data (rebuilt when
the ledger version changes) and caches runs by scenario code (bounded, on the service object).
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from citycarbon.api.deps import get_principal
from citycarbon.api.envelope import Envelope, EnvelopeResponse, provenance_meta, respond
from citycarbon.api.errors import not_found
from citycarbon.api.routers._common import JsonFloat, JsonInt
from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, Problem
from citycarbon.services.pathways import (
    DEFAULT_SEEK_RUNS,
    MAX_EXPORT,
    MAX_LEAST_COST_SEEK_RUNS,
    MAX_SEEK_RUNS,
    PathwayService,
    parse_set,
    service_for,
    visible_document,
)

router = APIRouter(prefix="/pathways", tags=["pathways"])
PERMISSIONS = {
    ("GET", "/pathways/levers"): "read",
    ("GET", "/pathways/scenarios"): "read",
    ("GET", "/pathways/scenarios/{code}"): "read",
    ("GET", "/pathways/run"): "read",
    ("POST", "/pathways/run"): "read",
    ("POST", "/pathways/ensembles"): "read",
    ("POST", "/pathways/attributions"): "read",
    ("GET", "/pathways/export"): "read",
}

#: ensembles up to this many runs are answered directly; more (or ``"job": true``) run as a job
DIRECT_RUNS = 2000
MAX_RUNS = 20000
DEFAULT_RUNS = 1000


def _service(request: Request, principal: Principal) -> PathwayService:
    """The app's :class:`~citycarbon.services.pathways.PathwayService` (``app.state.pathways``)."""
    return service_for(request.app.state, request.app.state.settings.city, principal)


def _split(result: dict) -> tuple[dict, dict]:
    data = {k: v for k, v in result.items() if k != "provenance"}
    return data, provenance_meta(result.get("provenance"))


# --- request bodies ---------------------------------------------------------------------------------------------
class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str = Field("Plan", max_length=64, description="a shipped scenario (BAU, Plan, Enhanced, …)")
    levers: dict[str, JsonFloat] = Field(default_factory=dict,
                                         description="lever or uncertain parameter → value")


class EnsembleBody(RunBody):
    runs: JsonInt = Field(DEFAULT_RUNS, ge=10, le=MAX_RUNS)
    seed: JsonInt = Field(0, ge=0, le=2**31 - 1)
    job: StrictBool | None = Field(None, description=f"true: always a job (202); default: a job above {DIRECT_RUNS} "
                                                     "runs")
    # issue 17 (api): the NPV difference to another shipped scenario on the same draws (CLI --versus)
    versus: str | None = Field(None, max_length=64, description="a shipped scenario (e.g. BAU): the ensemble also "
                                                              "gives the NPV difference to it on the same draws")


class AttributionBody(RunBody):
    base: str = Field("BAU", max_length=64)
    permutations: JsonInt = Field(200, ge=10, le=2000)
    exact: StrictBool = False
    # issue 17 (api): the by-sector LMDI of the gap in a year, and the scenario's LMDI from its base year by sector
    lmdi: JsonInt | None = Field(None, ge=2021, le=2060, description="year: the by-sector LMDI of the gap base → "
                                                                    "scenario (decompositions.lmdi_between)")
    lmdi_period: JsonInt | None = Field(None, ge=2021, le=2060, description="year: the scenario's LMDI from the "
                                        "base year to it, by sector (decompositions.lmdi_by_sector)")


SET = Query([], description="LEVER:VALUE, repeatable (a what-if on top of the scenario)")
#: the ``set`` parameter's items: ``LEVER:VALUE`` (or ``LEVER=VALUE``); the value is checked by parse_set
LeverSettings = list[Annotated[str, StringConstraints(pattern=r"^\s*[^:=\s][^:=]*[:=]")]]
SCENARIO = Query("Plan", max_length=64, description="a shipped scenario (BAU, Plan, Enhanced, …)")


# --- routes -----------------------------------------------------------------------------------------------------
@router.get("/levers", response_model=Envelope[list[dict[str, Any]]])
def get_levers(request: Request, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Every lever: id, zh/en name, plan task group and its title, unit, BAU default, plan value, range, timing."""
    return respond([row.to_dict() for row in _service(request, principal).levers()],
                   method="citycarbon.pathways levers (data/pathways/levers.csv)")


@router.get("/scenarios", response_model=Envelope[list[dict[str, Any]]])
def get_scenarios(request: Request, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The shipped scenarios with parent, packages, settings and canonical code."""
    rows = []
    for scenario in _service(request, principal).scenarios():
        row = scenario.to_dict()
        row.pop("source", None)
        rows.append(row)
    return respond(rows, method="citycarbon.pathways scenarios (data/pathways/scenarios)")


@router.get("/run", response_model=Envelope[dict[str, Any]])
def get_run(request: Request, scenario: str = SCENARIO, set: LeverSettings = SET,
            principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """One pathway of ``scenario`` with the ``set`` what-ifs: the ``run`` JSON and its scenario code."""
    service = _service(request, principal)
    data, meta = _split(visible_document(principal, service.run_document(service.resolve(scenario, parse_set(set)))))
    return respond(data, **meta)


@router.post("/run", response_model=Envelope[dict[str, Any]])
def post_run(request: Request, body: RunBody, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """As ``GET /pathways/run`` with the settings in the body."""
    service = _service(request, principal)
    data, meta = _split(visible_document(principal, service.run_document(service.resolve(body.scenario, body.levers))))
    return respond(data, **meta)


@router.get("/scenarios/{code}", response_model=Envelope[dict[str, Any]])
def get_by_code(request: Request, code: str = Path(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$"),
                scenario: str | None = Query(None, max_length=64), set: LeverSettings = SET,
                principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """A what-if by its code: from this server's memory of codes, or re-resolved from the settings the share
    link carries (``?scenario=…&set=…``; they must give the same code)."""
    service = _service(request, principal)
    code = code.lower()
    settings = parse_set(set)
    if scenario is not None or settings:
        resolved = service.resolve(scenario, settings)
        if resolved.code != code:
            raise InputError(Problem(f"the settings give code '{resolved.code}', not '{code}'", field="code",
                                     value=code))
    else:
        known = service.recall(code)
        if known is None:
            raise not_found("scenario code (not in this server's memory: share links carry ?scenario=&set=)")
        resolved = service.resolve(*known)
    data, meta = _split(visible_document(principal, service.run_document(resolved)))  # issue 17 (registry)
    return respond(data, **meta)


@router.post("/ensembles", response_model=Envelope[dict[str, Any]],
             responses={202: {"description": "a job was queued; poll /api/v1/jobs/{id}"}})
def post_ensemble(request: Request, body: EnsembleBody, principal: Principal = Depends(get_principal)
                  ) -> EnvelopeResponse:
    """Ensemble over the uncertain parameters: directly up to 2 000 runs, otherwise (or ``job``) a job."""
    service = _service(request, principal)
    resolved = service.resolve(body.scenario, body.levers)
    # issue 17 (api): versus, a shipped name only (a path would read server files)
    options = {} if body.versus is None else {"versus": service.named_scenario(body.versus, "versus")}
    as_job = body.job if body.job is not None else body.runs > DIRECT_RUNS
    if not as_job:
        data, meta = _split(service.ensemble(resolved, body.runs, body.seed, **options).to_dict())
        return respond(data, **meta)
    params = {"scenario": body.scenario, "levers": body.levers, "code": resolved.code, "runs": body.runs,
              "seed": body.seed, "versus": body.versus}
    job_id = request.app.state.jobs.submit("pathway_ensemble", params,
                                           lambda: service.ensemble(resolved, body.runs, body.seed,
                                                                    **options).to_dict(),
                                           actor=principal.username)
    return respond({"job_id": job_id, "status": "queued", "poll": f"/api/v1/jobs/{job_id}", "code": resolved.code},
                   status_code=202)


@router.post("/attributions", response_model=Envelope[dict[str, Any]])
def post_attribution(request: Request, body: AttributionBody, principal: Principal = Depends(get_principal)
                     ) -> EnvelopeResponse:
    """Shapley attribution of the CO2 gap between ``base`` and the scenario by plan task group (wedges)."""
    service = _service(request, principal)
    resolved = service.resolve(body.scenario, body.levers)
    base = service.base_scenario(body.base)
    lmdi = {k: v for k, v in (("lmdi", body.lmdi), ("lmdi_period", body.lmdi_period)) if v is not None}  # issue 17
    data, meta = _split(service.attribution(base, resolved, body.permutations, body.exact, **lmdi).to_dict())
    return respond(data, **meta)


@router.get("/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                                                                     "spreadsheetml.sheet": {}}}})
def get_export(request: Request,
               scenario: list[str] = Query(["Plan"], description="shipped scenario names, repeatable"),
               set: LeverSettings = SET, format: Literal["csv", "xlsx"] = "csv",
               principal: Principal = Depends(get_principal)) -> Response:
    """IAMC export of one or more scenarios (``set`` applies to each); CSV (data) or Excel (data + meta)."""
    import pandas as pd

    if len(scenario) > MAX_EXPORT:
        raise InputError(Problem(f"at most {MAX_EXPORT} scenarios per export", field="scenario", value=len(scenario)))
    service = _service(request, principal)
    settings = parse_set(set)
    scenarios = [service.resolve(name, settings) for name in scenario]
    data, meta = service.iamc(scenarios)
    stem = "citycarbon-pathways-" + "-".join(s.code for s in scenarios)
    if format == "csv":
        body = data.to_csv(index=False).encode("utf-8")
        media = "text/csv; charset=utf-8"
    else:
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            data.to_excel(writer, sheet_name="data", index=False)
            meta.to_excel(writer, sheet_name="meta", index=False)
        body = buffer.getvalue()
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{stem}.{format}"',
                             "Cache-Control": "no-store"})


# issue 17 (macc): the marginal abatement cost curve and the scenarios' costs ------------------------------------
PERMISSIONS.update({
    ("GET", "/pathways/macc"): "read",
    ("GET", "/pathways/costs"): "read",
})


@router.get("/macc", response_model=Envelope[dict[str, Any]])
def get_macc(request: Request,
             year: int = Query(..., ge=2021, le=2060, description="year of the curve (2030, 2060)"),
             scenario: str | None = Query(None, max_length=64, description="a shipped scenario (default: Neutrality "
                                                                           "when shipped, else Enhanced)"),
             base: str = Query("BAU", max_length=64, description="the shipped scenario levers are measured from"),
             basis: Literal["consumption", "net_inflow", "territorial"] = "consumption",
             runs: int = Query(0, ge=0, le=1000, description="ensemble runs for p5/p50/p95 (0: central only)"),
             seed: int = Query(0, ge=0, le=2**31 - 1), set: LeverSettings = SET,
             principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """The MACC of the scenario (with the ``set`` what-ifs) against ``base`` in ``year``: each lever removed from
    the scenario in turn (abatement t CO2/yr, Δcost CNY/yr, MAC CNY/t), sorted by MAC; package and residual."""
    service = _service(request, principal)
    resolved = service.resolve(scenario or service.macc_default_scenario(), parse_set(set))
    data, meta = _split(service.macc(resolved, year, base=base, basis=basis, runs=runs, seed=seed).to_dict())
    return respond(data, **meta)


@router.get("/costs", response_model=Envelope[dict[str, Any]])
def get_costs(request: Request,
              scenario: list[str] = Query(["Plan"], description="shipped scenario names, repeatable"),
              versus: str = Query("BAU", max_length=64, description="the shipped scenario costs are compared with"),
              set: LeverSettings = SET, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Each scenario's NPV and annual cost by sector and by kind 2020–2060 (CNY/yr), and the differences to
    ``versus`` (``set`` applies to each scenario)."""
    if len(scenario) > MAX_EXPORT:
        raise InputError(Problem(f"at most {MAX_EXPORT} scenarios per comparison", field="scenario",
                                 value=len(scenario)))
    service = _service(request, principal)
    settings = parse_set(set)
    return respond(service.costs([service.resolve(name, settings) for name in scenario], versus),
                   method="citycarbon.pathways.macc.compare_costs (docs/pathways.md: Costs, NPV and the MACC)")


# issue 17 (api): goal-seek and "what it takes" over HTTP --------------------------------------------------------
PERMISSIONS.update({
    ("POST", "/pathways/seek"): "read",
    ("GET", "/pathways/what-it-takes"): "read",
})


class SeekBody(RunBody):
    """A goal-seek from the scenario (with the ``levers`` what-ifs): ``citycarbon pathway seek``'s options."""

    objective: Literal["least-cost", "distance"] = Field(
        "least-cost", description="least-cost: the lowest NPV of the energy-system cost; distance: the settings "
                                  "closest to the scenario")
    targets: list[Annotated[str, StringConstraints(min_length=1, max_length=80)]] | None = Field(
        None, min_length=1, max_length=64, description="target ids to meet (default: every target of the plan)")
    probability: JsonFloat | None = Field(None, gt=0, le=1, description="meet the targets in this share of the "
                                          "ensemble's runs (default: on the central run); the seek is then a job")
    runs: JsonInt = Field(DEFAULT_SEEK_RUNS, ge=1, le=MAX_SEEK_RUNS,
                          description=f"ensemble runs with a probability (least-cost: at most "
                                      f"{MAX_LEAST_COST_SEEK_RUNS})")
    seed: JsonInt = Field(0, ge=0, le=2**31 - 1)
    keep_scenario: StrictBool = Field(False, description="no lever less ambitious than the scenario (what it takes "
                                                         "beyond it)")
    job: StrictBool | None = Field(None, description="true: always a job (202); default: a job with a probability "
                                                     "(minutes), answered directly on the central run (seconds)")


@router.post("/seek", response_model=Envelope[dict[str, Any]],
             responses={202: {"description": "a job was queued; poll /api/v1/jobs/{id}"}})
def post_seek(request: Request, body: SeekBody, principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """Goal-seek from the scenario: the least-cost (or closest) lever settings meeting the plan's targets, with the
    answer's cost (NPV), the targets that bind, why a target stays out of reach and the potentials reached (the
    ``SeekResult`` JSON of docs/pathways.md). Central seeks are answered directly (about 1–2 s least-cost, cached
    by their settings); with a ``probability`` (or ``job``) a job (202)."""
    service = _service(request, principal)
    resolved = service.resolve(body.scenario, body.levers)
    options: dict[str, Any] = {"objective": body.objective, "targets": body.targets or "all",
                               "probability": body.probability, "runs": body.runs, "seed": body.seed,
                               "keep_scenario": body.keep_scenario}
    if body.job is False and body.probability is not None:
        raise InputError(Problem("a seek with a probability runs as a job (minutes)", field="job", value=False))
    options["targets"] = service.check_seek(resolved, objective=body.objective, targets=options["targets"],
                                            probability=body.probability, runs=body.runs)
    if not (body.job or body.probability is not None):
        data, meta = _split(service.seek_document(resolved, **options))
        return respond(data, **meta)

    def work(progress: Any) -> dict[str, Any]:
        return service.seek_document(resolved, **options,
                                     progress=lambda done, total, step="": progress(done, total or 0, step))

    params = {"scenario": body.scenario, "levers": body.levers, "code": resolved.code, **options}
    job_id = request.app.state.jobs.submit_tracked("pathway_seek", params, work, actor=principal.username)
    return respond({"job_id": job_id, "status": "queued", "poll": f"/api/v1/jobs/{job_id}", "code": resolved.code},
                   status_code=202)


@router.get("/what-it-takes", response_model=Envelope[dict[str, Any]])
def get_what_it_takes(request: Request,
                      base: str = Query("Plan", max_length=64, description="the shipped scenario moved from"),
                      target: str = Query("Neutrality", max_length=64, description="the shipped scenario moved to"),
                      principal: Principal = Depends(get_principal)) -> EnvelopeResponse:
    """What moving from ``base`` to ``target`` takes: the levers that change (with the potential that bounds
    each), the cost (NPV and annual cost by sector in 2030 and 2060 against base and BAU, CNY), the plan targets
    each meets and why a target the target scenario misses stays missed."""
    service = _service(request, principal)
    names = service.named_scenario(base, "base").name, service.named_scenario(target, "target").name
    return respond(service.what_it_takes(*names),
                   method="citycarbon.services.pathways.PathwayService.what_it_takes (docs/pathways.md: What it "
                          "takes)")
