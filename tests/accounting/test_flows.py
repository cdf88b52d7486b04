"""The energy flow (能流图): node balances, totals equal to the accounting tables, one definition of shares.

Golden values are computed by hand from toy balances; identities are property tests over random toy balances
on both electricity methods.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon.accounting import AccountingOptions, account_energy_balance
from citycarbon.accounting.flows import energy_flows
from citycarbon.accounting.shares import SHARE_BASIS, fuel_group_shares
from citycarbon.codelists import sector_table
from citycarbon.errors import InputError
from citycarbon.factors import load_factors
from citycarbon.importers import validate_balance
from tests.conftest import balance_rows, statistics_rows

YEAR = 2022
STATS = statistics_rows({2021: 1050.0, 2022: 1100.0})
METHODS = {
    "calorific": AccountingOptions(method="calorific", grid_region="northeast"),
    "coal-equivalent": AccountingOptions(method="coal-equivalent", grid_region="northeast"),
}


def accounted(rows, method="calorific"):
    balance = validate_balance(balance_rows(rows, year=YEAR), "toy.csv")
    result = account_energy_balance(balance, YEAR, statistics=STATS, options=METHODS[method])
    return balance, result, energy_flows(balance, result)


def link(flows, source, target) -> float:
    return sum(k.value_tce for k in flows.links if k.source == source and k.target == target)


# --- golden values ------------------------------------------------------------------------------------------

def test_coal_to_power_to_industry_by_hand_calorific():
    """10^4 t raw coal imported (7 143 tce, GB/T 2589 0.7143 kgce/kg) burnt in a power plant that sends
    2 000 × 10^4 kWh to industry (当量值 0.1229 kgce/kWh: 2 458 tce): transformation loss 4 685 tce."""
    _, result, flows = accounted([
        ("imports", None, "raw_coal", 1.0, "10^4 t"),
        ("transformation_input", "power", "raw_coal", 1.0, "10^4 t"),
        ("transformation_output", "power", "electricity", 2000.0, "10^4 kWh"),
        ("final_consumption", "steel", "electricity", 2000.0, "10^4 kWh"),
    ])
    assert link(flows, "source:inflow", "carrier:coal") == pytest.approx(7143.0)
    assert link(flows, "carrier:coal", "transformation:power") == pytest.approx(7143.0)
    assert link(flows, "transformation:power", "use:steel") == pytest.approx(2458.0)
    assert link(flows, "transformation:power", "loss:transformation") == pytest.approx(7143.0 - 2458.0)
    assert flows.totals["total_energy_tce"] == pytest.approx(7143.0)
    assert flows.totals["total_energy_tce"] == pytest.approx(result.indicators["energy_consumption_tce"])
    assert flows.totals["statistical_difference_tce"] == 0.0
    assert flows.method == "calorific"


def test_coal_equivalent_values_power_output_at_the_coal_rate():
    """发电煤耗法: the same plant's electricity is valued at the year's coal rate (a factor row)."""
    _, result, flows = accounted([
        ("imports", None, "raw_coal", 1.0, "10^4 t"),
        ("transformation_input", "power", "raw_coal", 1.0, "10^4 t"),
        ("transformation_output", "power", "electricity", 2000.0, "10^4 kWh"),
        ("final_consumption", "steel", "electricity", 2000.0, "10^4 kWh"),
    ], method="coal-equivalent")
    rate = load_factors().lookup("coal_rate", "thermal_power_generation", YEAR).value_in("kgce/kWh")
    output = 2000.0 * 1e4 * rate / 1000.0
    assert link(flows, "transformation:power", "use:steel") == pytest.approx(output)
    assert flows.transformation_losses["power"] == pytest.approx(7143.0 - output)
    assert flows.totals["total_energy_tce"] == pytest.approx(result.indicators["energy_consumption_tce"])


def test_pro_rata_split_of_a_fuel_between_its_origins():
    """Electricity from a local wind farm (1 000 × 10^4 kWh) and from inflow (3 000 × 10^4 kWh) feeds two
    sectors 1:1 — each gets a quarter of its electricity from wind (当量值: 1 229 and 3 687 tce)."""
    _, _, flows = accounted([
        ("production", None, "wind_power", 1000.0, "10^4 kWh"),
        ("inflow", None, "electricity", 3000.0, "10^4 kWh"),
        ("final_consumption", "steel", "electricity", 2000.0, "10^4 kWh"),
        ("final_consumption", "commercial", "electricity", 2000.0, "10^4 kWh"),
    ])
    assert link(flows, "source:production", "carrier:non_fossil") == pytest.approx(1229.0)
    assert link(flows, "carrier:non_fossil", "use:steel") == pytest.approx(1229.0 / 2)
    assert link(flows, "carrier:electricity", "use:commercial") == pytest.approx(3687.0 / 2)


def test_unclosed_balance_shows_the_statistical_difference():
    """Final use of 2 × 10^4 t raw coal with 1 × 10^4 t supplied: 7 143 tce of statistical difference."""
    _, result, flows = accounted([
        ("inflow", None, "raw_coal", 1.0, "10^4 t"),
        ("final_consumption", "steel", "raw_coal", 2.0, "10^4 t"),
    ])
    assert flows.totals["statistical_difference_tce"] == pytest.approx(7143.0)
    assert link(flows, "source:statistical_difference", "use:steel") == pytest.approx(7143.0)
    assert flows.totals["total_energy_tce"] == pytest.approx(result.indicators["energy_consumption_tce"])
    assert flows.notes


def test_net_outflow_and_stock_build_are_sinks():
    _, _, flows = accounted([
        ("production", None, "nuclear_power", 1000.0, "10^4 kWh"),
        ("net_inflow", None, "electricity", -600.0, "10^4 kWh"),
        ("stock_change", None, "raw_coal", -1.0, "10^4 t"),
        ("inflow", None, "raw_coal", 1.0, "10^4 t"),
        ("final_consumption", "commercial", "electricity", 400.0, "10^4 kWh"),
    ])
    assert link(flows, "carrier:non_fossil", "sink:outflow") == pytest.approx(600.0 * 1.229)
    assert link(flows, "carrier:coal", "sink:stock_build") == pytest.approx(7143.0)
    assert flows.totals["outflow_tce"] == pytest.approx(600.0 * 1.229)


def test_a_transformations_own_output_is_netted_and_cycles_cancelled():
    """Refining burning its own fuel oil, and power ↔ heat supply exchanging electricity and heat: no
    cycle remains (a Sankey must be acyclic) and every node still balances."""
    _, result, flows = accounted([
        ("imports", None, "crude_oil", 10.0, "10^4 t"),
        ("transformation_input", "refining", "crude_oil", 10.0, "10^4 t"),
        ("transformation_input", "refining", "fuel_oil", 1.0, "10^4 t"),
        ("transformation_output", "refining", "fuel_oil", 9.0, "10^4 t"),
        ("transformation_input", "power", "fuel_oil", 5.0, "10^4 t"),
        ("transformation_input", "power", "heat", 10.0, "10^4 GJ"),
        ("transformation_output", "power", "electricity", 20000.0, "10^4 kWh"),
        ("transformation_input", "heat_supply", "electricity", 1000.0, "10^4 kWh"),
        ("transformation_output", "heat_supply", "heat", 30.0, "10^4 GJ"),
        ("final_consumption", "transport", "fuel_oil", 3.0, "10^4 t"),
        ("final_consumption", "steel", "electricity", 19000.0, "10^4 kWh"),
        ("final_consumption", "residential_urban", "heat", 20.0, "10^4 GJ"),
    ])
    assert not [k for k in flows.links if k.source == k.target]
    edges = {(k.source, k.target) for k in flows.links}
    assert not (("transformation:power", "transformation:heat_supply") in edges
                and ("transformation:heat_supply", "transformation:power") in edges)
    for code, b in flows.balance().items():
        if b["inflow"] and (b["outflow"] or b["losses"]):
            assert b["inflow"] == pytest.approx(b["outflow"] + b["losses"], rel=1e-9), code
    assert flows.totals["total_energy_tce"] == pytest.approx(result.indicators["energy_consumption_tce"])


def test_a_balance_year_missing_is_an_error():
    balance, result, _ = accounted([("final_consumption", "steel", "raw_coal", 1.0, "10^4 t")])
    with pytest.raises(InputError, match="no rows"):
        energy_flows(balance.assign(year=YEAR + 1), result)


# --- identities over random toy balances, on both methods -------------------------------------------------

FINAL = ["steel", "petrochemical", "transport", "commercial", "residential_urban", "agriculture"]
FINAL_FUELS = [("raw_coal", "10^4 t"), ("diesel", "10^4 t"), ("natural_gas", "10^4 m3"),
               ("electricity", "10^4 kWh"), ("coke", "10^4 t"), ("heat", "10^4 GJ"), ("fuel_oil", "10^4 t")]
TRANSFORM = [("power", "raw_coal", "10^4 t"), ("power", "natural_gas", "10^4 m3"),
             ("heat_supply", "raw_coal", "10^4 t"), ("refining", "crude_oil", "10^4 t"),
             ("coking", "cleaned_coal", "10^4 t"), ("heat_supply", "electricity", "10^4 kWh")]
OUTPUTS = [("power", "electricity", "10^4 kWh"), ("power", "heat", "10^4 GJ"), ("heat_supply", "heat", "10^4 GJ"),
           ("refining", "diesel", "10^4 t"), ("refining", "fuel_oil", "10^4 t"), ("coking", "coke", "10^4 t")]
SUPPLY = [("production", "raw_coal", "10^4 t"), ("imports", "crude_oil", "10^4 t"),
          ("inflow", "natural_gas", "10^4 m3"), ("inflow", "cleaned_coal", "10^4 t"),
          ("production", "wind_power", "10^4 kWh"), ("production", "nuclear_power", "10^4 kWh"),
          ("outflow", "diesel", "10^4 t"), ("exports", "coke", "10^4 t")]
SIGNED = [("net_inflow", "electricity", "10^4 kWh"), ("stock_change", "raw_coal", "10^4 t")]

amount = st.floats(0.01, 5e3, allow_nan=False, allow_infinity=False)
toy_balances = st.tuples(
    st.lists(st.tuples(st.sampled_from(FINAL), st.sampled_from(FINAL_FUELS), amount), min_size=1, max_size=10,
             unique_by=lambda t: (t[0], t[1][0])),
    st.lists(st.tuples(st.sampled_from(FINAL), st.sampled_from(FINAL_FUELS[:3]), amount), max_size=3,
             unique_by=lambda t: (t[0], t[1][0])),
    st.lists(st.tuples(st.sampled_from(TRANSFORM), amount), max_size=6, unique_by=lambda t: t[0]),
    st.lists(st.tuples(st.sampled_from(OUTPUTS), amount), max_size=6, unique_by=lambda t: t[0]),
    st.lists(st.tuples(st.sampled_from(SUPPLY), amount), max_size=8, unique_by=lambda t: t[0]),
    st.lists(st.tuples(st.sampled_from(SIGNED), st.floats(-5e3, 5e3)), max_size=2, unique_by=lambda t: t[0]),
    st.lists(st.sampled_from(FINAL_FUELS), max_size=2, unique_by=lambda t: t[0]),
).map(lambda p: (
    [("final_consumption", s, f, q, u) for s, (f, u), q in p[0]]
    + [("non_energy_use", s, f, q, u) for s, (f, u), q in p[1]]
    + [("transformation_input", s, f, q, u) for (s, f, u), q in p[2]]
    + [("transformation_output", s, f, q, u) for (s, f, u), q in p[3]]
    + [(flow, None, f, q, u) for (flow, f, u), q in p[4]]
    + [(flow, None, f, q, u) for (flow, f, u), q in p[5]]
    + [("losses", None, f, 0.5, u) for f, u in p[6]]
))


def _final_sectors() -> set[str]:
    sectors = sector_table()
    return set(sectors.index[sectors["kind"] == "final"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(toy_balances, st.sampled_from(sorted(METHODS)))
def test_every_node_balances_and_totals_equal_the_accounts(rows, method):
    _, result, flows = accounted(rows, method)
    total = result.indicators["energy_consumption_tce"]
    scale = 1.0 + sum(k.value_tce for k in flows.links)
    # every node: inflow = outflow + losses (sources only send, uses/losses/sinks only receive)
    for code, b in flows.balance().items():
        kind = code.split(":", 1)[0]
        if kind in ("carrier", "transformation"):
            assert b["inflow"] == pytest.approx(b["outflow"] + b["losses"], abs=1e-9 * scale), code
        if kind == "transformation":
            assert link(flows, code, "loss:transformation") - link(flows, "source:conversion_gain", code) == (
                pytest.approx(
                    flows.transformation_losses[code.split(":", 1)[1]], abs=1e-9 * scale))
    # the flow's totals are the accounting result's
    assert flows.totals["total_energy_tce"] == pytest.approx(total, abs=1e-9 * scale)
    assert flows.totals["drawn_total_tce"] == pytest.approx(total, abs=1e-7 * scale)
    by_sector = result.by_sector.set_index("sector")["energy_tce"]
    for sector in _final_sectors() & set(by_sector.index):
        drawn = sum(k.value_tce for k in flows.links if k.target == f"use:{sector}")
        assert drawn == pytest.approx(flows.final_use_by_sector.get(sector, 0.0), abs=1e-7 * scale)
        assert flows.final_use_by_sector.get(sector, 0.0) + flows.non_energy_by_sector.get(sector, 0.0) == (
            pytest.approx(by_sector[sector], abs=1e-9 * scale))
    losses = by_sector.get("losses", 0.0)
    assert flows.totals["distribution_losses_tce"] == pytest.approx(losses, abs=1e-9 * scale)
    # global: supply − outflow − stock build + statistical difference = total energy consumption
    t = flows.totals
    assert t["supply_tce"] - t["outflow_tce"] - t["stock_build_tce"] + t["statistical_difference_tce"] == (
        pytest.approx(total, abs=1e-7 * scale))
    # acyclic: a Sankey refuses cycles
    assert all(k.value_tce > 0 for k in flows.links)
    assert _acyclic(flows.links)


def _acyclic(links) -> bool:
    graph: dict[str, set[str]] = {}
    for k in links:
        graph.setdefault(k.source, set()).add(k.target)
    seen: dict[str, int] = {}

    def visit(node: str) -> bool:
        seen[node] = 1
        for nxt in graph.get(node, ()):
            if seen.get(nxt) == 1 or (nxt not in seen and not visit(nxt)):
                return False
        seen[node] = 2
        return True

    return all(visit(n) for n in list(graph) if n not in seen)


# --- shares: one definition -------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(toy_balances, st.sampled_from(sorted(METHODS)))
def test_fuel_group_shares_have_one_basis_and_sum_to_one(rows, method):
    _, result, _ = accounted(rows, method)
    shares = fuel_group_shares(result)
    assert {s.basis for s in shares.values()} == {SHARE_BASIS}
    assert {s.method for s in shares.values()} == {method}
    if result.indicators["energy_consumption_tce"] > 1e-6:
        assert sum(s.share for s in shares.values()) == pytest.approx(1.0, abs=1e-9)
        if "coal" in shares:
            assert shares["coal"].share == pytest.approx(result.indicators["coal_share"], rel=1e-12)


def test_shares_of_a_net_exporter_by_hand():
    """A net exporter: 1 × 10^4 t coal (7 143 tce) burnt for 2 000 × 10^4 kWh, 1 000 of which flow out.
    The coal share is 7 143 / (7 143 − 1 229) — the total — not 7 143 / 7 143 as a pie over positive slices."""
    _, result, _ = accounted([
        ("inflow", None, "raw_coal", 1.0, "10^4 t"),
        ("transformation_input", "power", "raw_coal", 1.0, "10^4 t"),
        ("transformation_output", "power", "electricity", 2000.0, "10^4 kWh"),
        ("outflow", None, "electricity", 1000.0, "10^4 kWh"),
        ("final_consumption", "steel", "electricity", 1000.0, "10^4 kWh"),
    ])
    shares = fuel_group_shares(result)
    assert result.indicators["energy_consumption_tce"] == pytest.approx(7143.0 - 1229.0)
    assert shares["coal"].share == pytest.approx(7143.0 / (7143.0 - 1229.0))
    assert shares["electricity"].share == pytest.approx(-1229.0 / (7143.0 - 1229.0))


def test_flows_to_dict_is_json_ready():
    import json

    _, _, flows = accounted([("inflow", None, "raw_coal", 1.0, "10^4 t"),
                             ("final_consumption", "steel", "raw_coal", 1.0, "10^4 t")])
    data = json.loads(json.dumps(flows.to_dict()))
    assert data["unit"] == "tce" and data["links"] and data["nodes"]
    assert isinstance(pd.DataFrame(data["links"]), pd.DataFrame)
