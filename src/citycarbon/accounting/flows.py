"""The year's energy flow (能流图): supply → transformation (with its losses) → final use, in tce.

A Sankey of one accounted year, built from the balance rows and the **accounting result's own conversion
factors** (the standard-coal rows it used and its electricity factor, i.e. the method it was accounted on:
发电煤耗法 / coal-equivalent or 当量值 / calorific), so its totals are the accounting tables' totals:

* total energy (能源消费总量) = final consumption + non-energy use + distribution losses + transformation
  losses (input − output of each transformation sector) = ``indicators["energy_consumption_tce"]``;
* each final sector's final consumption + non-energy use = its row of ``by_sector``.

Nodes (``FlowNode.kind``), left to right:

``source``  local production, inflow/imports, stock draw, and — only where the balance does not close —
            the statistical difference (uses above supply) or the conversion gain of a transformation whose
            output is valued above its input (possible on the coal-equivalent method);
``carrier`` the primary supply by fuel group (coal, oil, gas, non-fossil incl. primary electricity,
            electricity inflow, heat inflow);
``transformation`` power, heat supply, refining, coking, gas works (one node per sector of the balance);
``use``     final consumption by sector and non-energy use (原料用能);
``loss``    distribution losses and transformation losses;
``sink``    outflow/exports, stock build and the statistical difference (supply above uses).

Each fuel's uses (final, non-energy, losses, transformation inputs, outflow, stock build) are fed by its
origins (primary supply through its carrier, transformation outputs) pro rata (the balance does not say
which tonne went where). Primary electricity is supply of electricity (its carrier: non-fossil). A
transformation's use of its own output is netted, and a cycle between transformations is cancelled (a
circulation, which changes no node's balance), so the graph is acyclic and every node balances:
inflow = outflow + losses.

Method: NBS 能源平衡表 layout (supply, 加工转换投入(−)产出(+), 损失, 终端消费), GB/T 2589-2020 coefficients.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from citycarbon.accounting.conversion import ELECTRICITY, CoalFactor, rows_to_tce
from citycarbon.accounting.engine import AccountingResult
from citycarbon.codelists import fuel_table, sector_table
from citycarbon.errors import InputError, Problem
from citycarbon.units import same_dimension

__all__ = ["NODE_KINDS", "EnergyFlows", "FlowLink", "FlowNode", "energy_flows"]

#: node kinds in the order of the Sankey's columns
NODE_KINDS = ("source", "carrier", "transformation", "use", "loss", "sink")

_SUPPLY = {"production": "source:production", "imports": "source:inflow", "inflow": "source:inflow"}
_USE_SINK = {"exports": "sink:outflow", "outflow": "sink:outflow"}
#: relative size below which a link is dropped (rounding noise of the pro-rata split)
_EPS = 1e-12


@dataclass(frozen=True)
class FlowNode:
    """A node: ``code`` ("kind:key"), its kind and key (a sector, fuel group or flow name)."""

    code: str
    kind: str
    key: str


@dataclass(frozen=True)
class FlowLink:
    """Energy from ``source`` to ``target`` in tce."""

    source: str
    target: str
    value_tce: float


@dataclass
class EnergyFlows:
    """One year's energy flow in tce on the accounting result's method."""

    year: int
    region: str
    method: str
    nodes: list[FlowNode]
    links: list[FlowLink]
    totals: dict[str, float]
    final_use_by_sector: dict[str, float]  # final consumption (tce) by sector
    non_energy_by_sector: dict[str, float]  # non-energy use (tce) by sector
    transformation_losses: dict[str, float]  # input − output (tce) by transformation sector
    unit: str = "tce"
    notes: list[str] = field(default_factory=list)

    def balance(self) -> dict[str, dict[str, float]]:
        """Each node's inflow, outflow (to non-loss nodes) and losses (to loss nodes), tce."""
        kinds = {n.code: n.kind for n in self.nodes}
        out: dict[str, dict[str, float]] = {n.code: {"inflow": 0.0, "outflow": 0.0, "losses": 0.0}
                                            for n in self.nodes}
        for link in self.links:
            out[link.target]["inflow"] += link.value_tce
            side = "losses" if kinds[link.target] == "loss" else "outflow"
            out[link.source][side] += link.value_tce
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year, "region": self.region, "method": self.method, "unit": self.unit,
            "nodes": [{"code": n.code, "kind": n.kind, "key": n.key} for n in self.nodes],
            "links": [{"source": k.source, "target": k.target, "value": k.value_tce} for k in self.links],
            "totals": dict(self.totals),
            "final_use_by_sector": dict(self.final_use_by_sector),
            "non_energy_by_sector": dict(self.non_energy_by_sector),
            "transformation_losses": dict(self.transformation_losses),
            "notes": list(self.notes),
        }


def _result_factors(result: AccountingResult, fuels: list[str], units_by_fuel: dict[str, set[str]],
                    fuel_info: pd.DataFrame) -> dict[str, CoalFactor]:
    """The standard-coal coefficient of every fuel, as the accounting result used it."""
    by_key = {row.key: row for row in result.factor_rows.values() if row.kind == "standard_coal"}
    kgce_per_kwh = result.electricity.get("kgce_per_kwh")
    # the electricity row the result used (its kgce_per_kwh is absent when no electricity row was accounted)
    electric_row = next((row for row in result.factor_rows.values() if row.kind == "coal_rate" or (
        row.kind == "standard_coal" and row.key == ELECTRICITY)), None)
    out: dict[str, CoalFactor] = {}
    for fuel in fuels:
        electric = fuel == ELECTRICITY or bool(fuel_info.at[fuel, "primary_electricity"])
        if electric:
            if kgce_per_kwh is not None:
                out[fuel] = CoalFactor(fuel, float(str(kgce_per_kwh)), "kgce/kWh", None, "result")
            elif electric_row is not None:
                out[fuel] = CoalFactor(fuel, electric_row.value, electric_row.unit, electric_row, "result")
            else:
                raise InputError(Problem(f"the accounting result has no electricity factor for '{fuel}'",
                                         field="fuel", value=fuel))
        elif fuel in by_key:
            row = by_key[fuel]
            out[fuel] = CoalFactor(fuel, row.value, row.unit, row, "factor")
        elif units_by_fuel.get(fuel) and all(same_dimension(u, "tce")
                                             for u in units_by_fuel[fuel]):
            out[fuel] = CoalFactor(fuel, None, None, None, "energy_unit")
        else:
            raise InputError(Problem(f"the accounting result used no standard-coal coefficient for '{fuel}'",
                                     field="fuel", value=fuel))
    return out


def _year_rows(balance: pd.DataFrame, result: AccountingResult) -> pd.DataFrame:
    frame = balance[(balance["year"] == result.year) & (balance["region"] == result.region)]
    if frame.empty:
        raise InputError(Problem(f"the balance has no rows for {result.year} in region {result.region}",
                                 field="year", value=result.year))
    return frame.copy()


def _cancel_cycles(links: dict[tuple[str, str], float]) -> None:
    """Remove circulations between transformation nodes (each cycle loses its smallest link's value)."""
    while True:
        graph: dict[str, list[str]] = defaultdict(list)
        for (a, b), v in links.items():
            if v > 0 and a.startswith("transformation:") and b.startswith("transformation:"):
                graph[a].append(b)
        cycle = _find_cycle(graph)
        if cycle is None:
            return
        edges = list(zip(cycle, cycle[1:] + cycle[:1], strict=True))
        smallest = min(links[e] for e in edges)
        for e in edges:
            links[e] -= smallest
            if links[e] <= 0:
                del links[e]


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, [])):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):]
            if nxt not in state:
                found = visit(nxt)
                if found is not None:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found is not None:
                return found
    return None


def energy_flows(balance: pd.DataFrame, result: AccountingResult) -> EnergyFlows:
    """The energy flow of ``result``'s year and region from ``balance`` (the frame it was accounted from)."""
    fuel_info, sector_info = fuel_table(), sector_table()
    frame = _year_rows(balance, result)
    unknown = sorted(set(frame["fuel"]) - set(fuel_info.index))
    if unknown:
        raise InputError(Problem(f"unknown fuel '{unknown[0]}'", field="fuel", value=unknown[0]))
    units_by_fuel: dict[str, set[str]] = {}
    for fuel, unit in frame[["fuel", "unit"]].drop_duplicates().itertuples(index=False):
        units_by_fuel.setdefault(str(fuel), set()).add(str(unit))
    factors = _result_factors(result, sorted(units_by_fuel), units_by_fuel, fuel_info)
    frame["tce"] = rows_to_tce(frame, factors)

    origins: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))  # pool → origin → tce
    uses: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))  # pool → use → tce
    supply_links: dict[tuple[str, str], float] = defaultdict(float)
    final: dict[str, float] = defaultdict(float)
    non_energy: dict[str, float] = defaultdict(float)
    t_in: dict[str, float] = defaultdict(float)
    t_out: dict[str, float] = defaultdict(float)

    for row in frame.itertuples(index=False):
        fuel, flow, tce = str(row.fuel), str(row.flow), float(row.tce)
        if tce == 0:
            continue
        sector = None if pd.isna(row.sector) or row.sector == "" else str(row.sector)
        primary_electric = bool(fuel_info.at[fuel, "primary_electricity"])
        pool = ELECTRICITY if primary_electric else fuel
        carrier = f"carrier:{fuel_info.at[fuel, 'group']}"
        if flow in _SUPPLY or flow in ("net_inflow", "stock_change"):
            source = _SUPPLY.get(flow) or ("source:inflow" if flow == "net_inflow" else "source:stock_draw")
            if tce > 0:
                supply_links[(source, carrier)] += tce
                origins[pool][carrier] += tce
            else:
                sink = "sink:outflow" if flow == "net_inflow" else "sink:stock_build"
                uses[pool][sink] += -tce
        elif flow in _USE_SINK:
            uses[pool][_USE_SINK[flow]] += tce
        elif flow == "transformation_output":
            origins[pool][f"transformation:{sector}"] += tce
            t_out[str(sector)] += tce
        elif flow == "transformation_input":
            uses[pool][f"transformation:{sector}"] += tce
            t_in[str(sector)] += tce
        elif flow == "losses":
            uses[pool]["loss:distribution"] += tce
        elif flow == "final_consumption":
            uses[pool][f"use:{sector}"] += tce
            final[str(sector)] += tce
        elif flow == "non_energy_use":
            uses[pool]["use:non_energy"] += tce
            non_energy[str(sector)] += tce
        else:
            raise InputError(Problem(f"unknown flow '{flow}'", field="flow", value=flow))

    links: dict[tuple[str, str], float] = defaultdict(float)
    for pool in sorted(set(origins) | set(uses)):
        pool_origins, pool_uses = origins[pool], uses[pool]
        supplied, used = sum(pool_origins.values()), sum(pool_uses.values())
        if used > supplied:
            pool_origins["source:statistical_difference"] += used - supplied
        elif supplied > used:
            pool_uses["sink:statistical_difference"] += supplied - used
        total = max(supplied, used)
        if total <= 0:
            continue
        for origin, a in pool_origins.items():
            for use, b in pool_uses.items():
                if origin != use:  # a transformation's use of its own output is netted
                    links[(origin, use)] += a * b / total
    _cancel_cycles(links)
    for key, value in supply_links.items():
        links[key] += value

    transformation_losses = {s: t_in.get(s, 0.0) - t_out.get(s, 0.0) for s in sorted(set(t_in) | set(t_out))}
    for sector, loss in transformation_losses.items():
        if loss > 0:
            links[(f"transformation:{sector}", "loss:transformation")] += loss
        elif loss < 0:
            links[("source:conversion_gain", f"transformation:{sector}")] += -loss

    scale = max([abs(v) for v in links.values()] or [0.0])
    kept = [FlowLink(a, b, float(v)) for (a, b), v in sorted(links.items()) if v > _EPS * scale]
    codes = {c for k in kept for c in (k.source, k.target)}
    nodes = sorted((FlowNode(c, c.split(":", 1)[0], c.split(":", 1)[1]) for c in codes),
                   key=lambda n: (NODE_KINDS.index(n.kind), _node_order(n, sector_info), n.code))

    def into(code: str) -> float:
        return sum(k.value_tce for k in kept if k.target == code)

    sum_final = float(sum(final.values()))
    sum_non_energy = float(sum(non_energy.values()))
    distribution = float(sum(u.get("loss:distribution", 0.0) for u in uses.values()))
    transformation = float(sum(transformation_losses.values()))
    deficit = float(sum(o.get("source:statistical_difference", 0.0) for o in origins.values()))
    surplus = float(sum(u.get("sink:statistical_difference", 0.0) for u in uses.values()))
    totals = {
        "supply_tce": float(sum(v for (a, _), v in supply_links.items())),
        "production_tce": float(sum(v for (a, _), v in supply_links.items() if a == "source:production")),
        "inflow_tce": float(sum(v for (a, _), v in supply_links.items() if a == "source:inflow")),
        "stock_draw_tce": float(sum(v for (a, _), v in supply_links.items() if a == "source:stock_draw")),
        "outflow_tce": float(sum(u.get("sink:outflow", 0.0) for u in uses.values())),
        "stock_build_tce": float(sum(u.get("sink:stock_build", 0.0) for u in uses.values())),
        "statistical_difference_tce": deficit - surplus,
        "final_use_tce": sum_final,
        "non_energy_tce": sum_non_energy,
        "distribution_losses_tce": distribution,
        "transformation_losses_tce": transformation,
        "total_energy_tce": sum_final + sum_non_energy + distribution + transformation,
        "transformation_input_tce": float(sum(t_in.values())),
    }
    #: the same total read off the drawn links: into use and loss nodes, less the conversion gains
    totals["drawn_total_tce"] = float(sum(into(n.code) for n in nodes if n.kind in ("use", "loss"))
                                      - sum(k.value_tce for k in kept if k.source == "source:conversion_gain"))
    notes = []
    if deficit > 0 or surplus > 0:
        notes.append("the balance does not close: the statistical difference is shown as a node")
    return EnergyFlows(
        year=result.year, region=result.region, method=str(result.electricity.get("method")),
        nodes=nodes, links=kept, totals=totals,
        final_use_by_sector=dict(sorted(final.items())), non_energy_by_sector=dict(sorted(non_energy.items())),
        transformation_losses=transformation_losses, notes=notes)


_GROUP_ORDER = ("coal", "oil", "gas", "non_fossil", "electricity", "heat")
_FIXED_ORDER = ("production", "inflow", "stock_draw", "conversion_gain", "statistical_difference",
                "non_energy", "distribution", "transformation", "outflow", "stock_build")


def _node_order(node: FlowNode, sectors: pd.DataFrame) -> int:
    if node.kind == "carrier" and node.key in _GROUP_ORDER:
        return _GROUP_ORDER.index(node.key)
    if node.key in _FIXED_ORDER:
        return 100 + _FIXED_ORDER.index(node.key)
    if node.key in sectors.index:
        return 10 + list(sectors.index).index(node.key)
    return 999
