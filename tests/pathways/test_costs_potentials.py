"""Cost, learning and potential data and the cost method (issue 17): loaders refuse bad rows naming file, row
and field; levers stay inside the potentials they name and the capacity paths under them; the CRF, annualised
capital, learning and NPV checked against figures worked by hand (pathway-costs.md §4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citycarbon.data import data_path
from citycarbon.errors import InputError
from citycarbon.pathways.costs import annualised, crf, learned, npv
from citycarbon.pathways.model import CAPACITY_LEVERS
from citycarbon.pathways.parameters import load_costs, load_learning, load_levers, load_potentials
from citycarbon.units import conversion_factor


def _copy_with(tmp_path, name: str, old: str, new: str) -> str:
    """A copy of a shipped file with one change, under a fresh name (the loaders cache by path)."""
    text = data_path(f"pathways/{name}").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}_{name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


def _row_of(name: str, start: str) -> int:
    """The data row number (1 = the first row after the header) the loaders report for the line starting so."""
    lines = [line for line in data_path(f"pathways/{name}").read_text(encoding="utf-8").splitlines()
             if not line.startswith("#")]
    return next(i for i, line in enumerate(lines) if line.startswith(start))


def _refused(loader, path: str) -> tuple[str, int | None, str | None]:
    with pytest.raises(InputError) as caught:
        loader(path)
    first = caught.value.first
    return first.file, first.row, first.field


# ---- loaders ----------------------------------------------------------------------------------------------------

def _edit_row(tmp_path, name: str, row_id: str, **changes: str) -> str:
    """A copy of a shipped file whose row ``row_id`` (first column) has ``changes`` (column → new text)."""
    import csv
    import io

    text = data_path(f"pathways/{name}").read_text(encoding="utf-8")
    lines = text.splitlines()
    banner = [line for line in lines if line.startswith("#")]
    reader = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(reader[0]), lineterminator="\n")
    writer.writeheader()
    for record in reader:
        if next(iter(record.values())) == row_id:
            record.update(changes)
        writer.writerow(record)
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}_{name}"
    path.write_text("\n".join(banner) + "\n" + buffer.getvalue(), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("row_id", "changes", "field"), [
    ("capex_wind_onshore", {"source": ""}, "source"),  # a missing source
    ("capex_wind_onshore", {"item": "capital"}, "item"),  # an unknown item
    ("capex_wind_onshore", {"low": "6750", "high": "4300"}, "default"),  # low > high: default outside the range
    ("life_wind_onshore", {"low": "20", "high": "30"}, "default"),  # a lifetime with a range
])
def test_bad_cost_rows_name_file_row_and_field(tmp_path, row_id, changes, field):
    path = _edit_row(tmp_path, "costs.csv", row_id, **changes)
    assert _refused(load_costs, path) == (path.rsplit("/", 1)[1], _row_of("costs.csv", row_id + ","), field)


def test_bad_cost_rows_report_the_exact_row(tmp_path):
    path = _copy_with(tmp_path, "costs.csv", ",yr,25,25,25,", ",yr,25,20,30,")  # life_wind_onshore
    assert _refused(load_costs, path) == (path.rsplit("/", 1)[1], _row_of("costs.csv", "life_wind_onshore"),
                                          "default")
    path = _copy_with(tmp_path, "costs.csv", "wind_onshore,capex,2023", "wind_onshore,capital,2023")
    assert _refused(load_costs, path) == (path.rsplit("/", 1)[1], _row_of("costs.csv", "capex_wind_onshore"),
                                          "item")


def test_bad_learning_and_potential_rows_name_file_row_and_field(tmp_path):
    path = _copy_with(tmp_path, "learning.csv", "wind_onshore,2030,1.0,\"about 2 200 GW by 2030 (IEA WEO 2023 APS; "
                      "estimate)\",estimate", "wind_onshore,2030,1.0,,estimate")
    assert _refused(load_learning, path) == (path.rsplit("/", 1)[1], _row_of("learning.csv", "wind_onshore,2030"),
                                             "source")
    path = _copy_with(tmp_path, "learning.csv", "wind_onshore,2030,1.0", "wind_onshore,2030,one")
    assert _refused(load_learning, path)[1:] == (_row_of("learning.csv", "wind_onshore,2030"), "doublings")
    path = _copy_with(tmp_path, "potentials.csv", "wind_onshore_2030_mw,6000,MW", "wind_onshore_2030_mw,-6000,MW")
    assert _refused(load_potentials, path) == (path.rsplit("/", 1)[1], _row_of("potentials.csv", "wind_onshore,"),
                                               "value")
    path = _copy_with(tmp_path, "potentials.csv", "wind_onshore_2030_mw,6000,MW", "wind_onshore_2030_mw,6000,MWatt")
    assert _refused(load_potentials, path)[1:] == (_row_of("potentials.csv", "wind_onshore,"), "unit")


# ---- potentials -------------------------------------------------------------------------------------------------

def test_every_lever_a_potential_names_stays_within_it():
    levers = {lever.id: lever for lever in load_levers()}
    potentials = load_potentials()
    named = [row for row in potentials.itertuples() if row.lever]
    assert len(named) >= 10
    for row in named:
        lever = levers[row.lever]  # an unknown lever is an error of the file
        limit = float(row.value) * conversion_factor(str(row.unit), lever.unit)
        assert lever.max <= limit * (1 + 1e-12), (row.id, lever.max, limit, lever.unit)
    for tech, lever_id in CAPACITY_LEVERS.items():  # every capacity lever has its potential
        assert any(row.technology == tech and row.lever == lever_id for row in named), tech


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.floats(0.0, 1.0), min_size=200, max_size=200))
def test_capacity_paths_never_exceed_the_potentials(model, fractions):
    params = model.parameters
    u = np.resize(np.array(fractions), len(params))
    x = params.low + u * (params.high - params.low)
    out = model.evaluate(np.vstack([x, params.high]))  # a random vector and every parameter at its top
    potentials = load_potentials()
    for tech in CAPACITY_LEVERS:
        row = potentials[potentials["technology"] == tech].iloc[0]
        limit = float(row["value"]) * conversion_factor(str(row["unit"]), "MW")
        assert np.all(out.series[f"capacity_{tech}_mw"] <= limit * (1 + 1e-12)), tech


# ---- the cost method, worked by hand ----------------------------------------------------------------------------

def test_capital_recovery_factor_by_hand():
    # pathway-costs.md §4: CRF = r / (1 − (1 + r)^−n)
    assert float(crf(np.array(0.08), 20)) == pytest.approx(0.1019, abs=5e-5)
    assert float(crf(np.array(0.08), 60)) == pytest.approx(0.0808, abs=5e-5)
    assert float(crf(np.array(0.03), 30)) == pytest.approx(0.0510, abs=5e-5)


def test_annualised_capital_of_a_toy_capacity_path_by_hand():
    from citycarbon.pathways.costs import added

    capacity_kw = np.array([[100.0, 100.0, 150.0, 150.0, 250.0, 200.0, 260.0]])
    # additions: 0 (the first year is sunk), 0, 50, 0, 100, 0 (a retirement buys nothing), 60
    assert added(capacity_kw).tolist() == [[0.0, 0.0, 50.0, 0.0, 100.0, 0.0, 60.0]]
    spend = added(capacity_kw) * 1000.0  # 1 000 CNY/kW
    charge = annualised(spend, np.array([[0.08]]), 20)
    # CRF(8 %, 20) = 0.08 / (1 − 1.08^−20) = 0.08 / (1 − 0.214548) = 0.101852
    by_hand = [0.0, 0.0, 50_000 * 0.101852, 50_000 * 0.101852, 150_000 * 0.101852, 150_000 * 0.101852,
               210_000 * 0.101852]
    assert charge[0].tolist() == pytest.approx(by_hand, rel=1e-5)


def test_learning_at_a_table_year(model):
    years = list(model.years)
    costs = load_costs()
    figure = float(costs.loc["capex_solar_utility", "default"])
    rate = float(costs.loc["learning_solar_utility", "default"])
    table = load_learning()
    doublings_2030 = float(table[(table.technology == "solar_utility") & (table.year == 2030)]["doublings"].iloc[0])
    defaults = dict(zip(model.parameters.names, model.parameters.default, strict=True))

    def value(name: str) -> np.ndarray:
        return np.array([[defaults[name] if name in defaults else float(costs.loc[name, "default"])]])

    path = learned(value, model.pre, "solar_utility", "capex_solar_utility")
    # 3 200 CNY/kW × (1 − 0.15)^1.3 in 2030 (1.3 doublings of global PV after 2024)
    assert path[0, years.index(2030)] == pytest.approx(figure * (1 - rate) ** doublings_2030, rel=1e-12)
    assert path[0, years.index(2030)] == pytest.approx(3200 * 0.85 ** 1.3, rel=1e-12)
    assert path[0, years.index(2060)] == pytest.approx(3200 * 0.85 ** 3.0, rel=1e-12)
    # no learning row: a flat figure
    assert np.all(learned(value, model.pre, "coal", "capex_coal") == float(costs.loc["capex_coal", "default"]))


def test_npv_of_a_constant_stream_by_hand():
    years = np.arange(2020, 2061)
    rate = 0.08
    factor = (1 + rate) ** -(years - 2020.0)
    total = np.full((1, len(years)), 1.0e6)
    # 2021-2060: 1e6 × (1 − 1.08^−40) / 0.08 = 1e6 × 11.924613
    assert float(npv(total, factor[None, :])[0]) == pytest.approx(11.924613e6, rel=1e-6)
