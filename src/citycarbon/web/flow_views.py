"""The accounting page's energy flow (能流图) and fuel-group shares: service results → what the template shows.

The Sankey spec (drawn by ``static/js/flows.js`` with the vendored ECharts), its no-JS table of the same links,
its totals (raw tce, exposed as data attributes for tests and readers), and the one share chart whose values
are :func:`citycarbon.accounting.shares.fuel_group_shares` — the same numbers as the key figure and the table.
Every chart states its basis (the electricity method and the denominator).
"""

from __future__ import annotations

from typing import Any

from citycarbon.accounting.flows import EnergyFlows, FlowNode
from citycarbon.accounting.shares import FuelGroupShare
from citycarbon.web.i18n import Formatter

#: digits of a share in percent, as the table and the key figure show it
SHARE_DIGITS = 1


def method_label(fmt: Formatter, method: str) -> str:
    return fmt.label("electricity-method", method)


def share_basis(fmt: Formatter, method: str) -> str:
    """The basis of every share on the page, in words."""
    if method == "calorific":
        return fmt.gettext("Share of total energy consumption, electricity on the calorific method; local "
                           "primary electricity counted as non-fossil energy, a net electricity outflow negative")
    return fmt.gettext("Share of total energy consumption, electricity on the coal-equivalent method; local "
                       "primary electricity counted as non-fossil energy, a net electricity outflow negative")


def energy_basis(fmt: Formatter, method: str) -> str:
    """The basis of the energy charts (sector energy, the Sankey)."""
    if method == "calorific":
        return fmt.gettext("Standard coal equivalent, electricity on the calorific method; a transformation "
                           "sector shows its losses (input less output)")
    return fmt.gettext("Standard coal equivalent, electricity on the coal-equivalent method; a transformation "
                       "sector shows its losses (input less output)")


def co2_basis(fmt: Formatter) -> str:
    return fmt.gettext("Direct combustion CO2 of each sector; electricity and heat are in the CO2 by scope table")


def share_percent(share: FuelGroupShare) -> float | None:
    """A share in percent as every chart of the page plots it (the table shows it with :data:`SHARE_DIGITS`)."""
    return None if share.share is None else round(share.share * 100.0, SHARE_DIGITS + 2)


def share_chart(fmt: Formatter, shares: dict[str, FuelGroupShare], method: str) -> dict[str, Any]:
    """Fuel-group shares of total energy consumption as a horizontal bar chart (a pie cannot show a net
    outflow's negative share, and its percentages would be of the positive slices only)."""
    rows = sorted(shares.values(), key=lambda s: (s.share is None, s.share or 0.0))
    rows = [s for s in rows if s.share is not None and abs(s.share) >= 5e-5]
    return {"type": "bar", "horizontal": True, "unit": "%", "basis": share_basis(fmt, method),
            "codes": [s.group for s in rows],
            "categories": [fmt.label("fuel-group", s.group) for s in rows],
            "series": [{"name": fmt.gettext("Share of total energy consumption"),
                        "data": [share_percent(s) for s in rows]}]}


def node_label(fmt: Formatter, node: FlowNode) -> str:
    if node.kind in ("transformation", "use") and node.key != "non_energy":
        return fmt.label("sector", node.key)
    return fmt.label("flow-node", node.code)


def flow_view(fmt: Formatter, flows: EnergyFlows) -> dict[str, Any]:
    """The Sankey spec, its table and its totals."""
    labels = {n.code: node_label(fmt, n) for n in flows.nodes}
    unit = fmt.units["tce"]
    spec = {
        "type": "sankey", "unit": unit, "method": flows.method,
        "nodes": [{"name": n.code, "label": labels[n.code], "kind": n.kind} for n in flows.nodes],
        "links": [{"source": k.source, "target": k.target, "value": round(k.value_tce / 1e4, 4)}
                  for k in flows.links],
    }
    totals = flows.totals
    final_use = totals["final_use_tce"] + totals["non_energy_tce"]
    attributes = {"total-energy-tce": totals["total_energy_tce"], "final-use-tce": final_use,
                  "supply-tce": totals["supply_tce"], "drawn-total-tce": totals["drawn_total_tce"]}
    summary = [(code, fmt.label("flow-total", code), totals[code]) for code in (
        "production_tce", "inflow_tce", "stock_draw_tce", "outflow_tce", "stock_build_tce",
        "statistical_difference_tce", "final_use_tce", "non_energy_tce", "distribution_losses_tce",
        "transformation_losses_tce", "total_energy_tce")]
    return {
        "spec": spec, "method": flows.method, "method_name": method_label(fmt, flows.method),
        "basis": energy_basis(fmt, flows.method), "attributes": attributes,
        "totals": [{"code": code, "name": name, "value": fmt.wan(value), "raw": value}
                   for code, name, value in summary],
        "rows": [{"source": labels[k.source], "target": labels[k.target], "value": fmt.wan(k.value_tce, 2),
                  "raw": k.value_tce} for k in sorted(flows.links, key=lambda k: -k.value_tce)],
        "notes": [fmt.text(n) for n in flows.notes],
    }
