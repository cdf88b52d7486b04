"""The energy-project registry as the pathway model's starting line (issue 17 item 5): grid-connected wind and
solar capacity by model technology from the store (statistics to their last year, then the registry), the
pipeline beside the lever path, the registry's version in the model's cache key; no store: the file model."""

from __future__ import annotations

import numpy as np
import pytest

from citycarbon.pathways import build_model
from citycarbon.services.pathways import PathwayService
from citycarbon.services.projects import energy_projects as svc
from citycarbon.services.results import Results
from tests.db_fixtures import pg_admin, seeded_db, settings  # noqa: F401
from tests.projects.support import CITY, OFFICE, ZHUANGHE


def _connect(db, technology: str, mw: float, on: str, **values):
    return svc.register_energy_project(db, OFFICE, CITY, {
        "name": f"{technology} {on}", "technology": technology, "region_code": ZHUANGHE, "capacity_mw": mw,
        "stage": "grid_connected", "grid_connected_on": on, **values})


def _series(model, name: str) -> np.ndarray:
    plan = PathwayService(CITY, source="files").resolve("Plan")
    return model.evaluate(model.vector(plan)[None, :]).series[name][0]


def test_every_counted_registry_technology_moves_one_model_technology():
    counted = {code for code, t in svc.technologies().items() if t.counts_wind_solar}
    mapping = svc.pathway_technology_map()
    assert set(mapping) == counted
    assert set(mapping.values()) == set(svc.PATHWAY_TECHNOLOGIES)
    assert mapping["solar_fishery"] == "solar_utility"  # counted with utility PV in the statistics


def test_a_bad_mapping_row_names_file_row_and_field(tmp_path):
    from citycarbon.data import data_path
    from citycarbon.errors import InputError

    text = data_path("pathways/registry_technologies.csv").read_text(encoding="utf-8")
    path = tmp_path / "registry_technologies.csv"
    path.write_text(text.replace("solar_fishery,solar_utility,", "solar_fishery,solar_tidal,"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        svc.pathway_technology_map(str(path))
    first = caught.value.first
    assert (first.file, first.row, first.field) == ("registry_technologies.csv", 4, "model_technology")


def test_a_connection_after_the_statistics_is_the_models_starting_line(seeded_db):  # noqa: F811
    service = PathwayService(CITY, source="store")
    before = service.model()
    assert before.registry == {}  # an empty registry: the model of the data alone, bit-identical to the files'
    files = build_model(CITY)
    x = files.vector(service.resolve("Plan"))[None, :]
    stored, shipped = before.evaluate(x).series, files.evaluate(x).series
    assert all(np.array_equal(stored[name], shipped[name]) for name in shipped)
    assert "registry" not in service.run_document(service.resolve("Plan"))
    _connect(seeded_db, "wind_offshore", 300.0, "2025-06-01")
    _connect(seeded_db, "solar_fishery", 100.0, "2025-03-01")
    svc.register_energy_project(seeded_db, OFFICE, CITY, {  # the pipeline: approved, expected in 2028
        "name": "庄河海上风电三期", "technology": "wind_offshore", "region_code": ZHUANGHE, "capacity_mw": 500.0,
        "stage": "approved", "approved_on": "2025-09-01", "planned_on": "2028-06-30"})
    svc.register_energy_project(seeded_db, OFFICE, CITY, {  # planned without a date: undated
        "name": "屋顶光伏", "technology": "solar_distributed", "region_code": ZHUANGHE, "capacity_mw": 40.0})
    with seeded_db.session() as session:
        info = svc.registry_pathway_capacity(session, CITY)
    stats = info["connected"]["wind_offshore"]
    assert info["statistics_year"] == 2024 and info["last_year"] == 2025 and info["extends"]
    assert stats[2025] == pytest.approx(stats[2024] + 300.0)
    assert info["connected"]["solar_utility"][2025] == pytest.approx(info["connected"]["solar_utility"][2024] + 100)
    assert info["pipeline"] == {"wind_offshore": {2028: 500.0}} and info["undated_total_mw"] == 40.0

    model = service.model()
    assert model is not before  # the registry's version is part of the cache key
    years = list(model.years)
    offshore = _series(model, "capacity_wind_offshore_mw")
    utility = _series(model, "capacity_solar_utility_mw")
    assert offshore[years.index(2025)] == pytest.approx(stats[2024] + 300.0)
    assert offshore[years.index(2024)] == pytest.approx(stats[2024])
    assert utility[years.index(2025)] == pytest.approx(info["connected"]["solar_utility"][2024] + 100.0)
    # the lever path continues from the registry: rising to the Plan's 2030 value, reached in 2030
    lever = float(model.vector(service.resolve("Plan"))[model.parameters.index("offshore_wind_2030_mw")])
    after = offshore[years.index(2025):years.index(2030) + 1]
    assert np.all(np.diff(after) >= 0) and after[-1] == pytest.approx(lever)
    assert offshore[years.index(2026)] > offshore[years.index(2025)]

    document = service.run_document(service.resolve("Plan"))
    registry = document["registry"]
    assert registry["last_year"] == 2025 and registry["starting_line"] is True
    assert registry["connected"]["wind_offshore"]["2025"] == pytest.approx(stats[2024] + 300.0)
    assert registry["pipeline"] == {"wind_offshore": {"2028": 500.0}} and registry["undated_mw"] == 40.0

    # an enterprise user, who may not read the registry, gets the run without it (the cached document unchanged)
    from citycarbon.auth.principal import Principal, Role
    from citycarbon.services.pathways import visible_document

    enterprise = Principal(9, "ent", Role.enterprise, enterprise_id="E1", city=CITY)
    assert "registry" not in visible_document(enterprise, document) and "registry" in document
    assert visible_document(OFFICE, document) is document

    # a further connection: a new registry version, a new model with the larger starting line
    _connect(seeded_db, "wind_offshore", 200.0, "2025-10-01")
    again = service.model()
    assert again is not model
    assert _series(again, "capacity_wind_offshore_mw")[years.index(2025)] == pytest.approx(stats[2024] + 500.0)

    # the API's loader (the ledger cache) sees the same registry through its own database
    api = PathwayService(CITY, loader=Results(seeded_db, CITY).current_dataset)
    assert _series(api.model(), "capacity_wind_offshore_mw")[years.index(2025)] == pytest.approx(
        stats[2024] + 500.0)


def test_without_a_store_the_model_is_the_file_model():
    service = PathwayService(CITY, source="files")
    assert service.model() is build_model(CITY) and service.model().registry == {}
    plan = service.resolve("Plan")
    assert "registry" not in service.run_document(plan)
    files = build_model(CITY).run(plan).to_dict()
    assert service.run_document(plan)["series"] == files["series"]
