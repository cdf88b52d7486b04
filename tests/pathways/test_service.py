"""The pathway service: the model follows the data version, caches are bounded and belong to the object,
scenario codes are remembered and recalled, bad settings name the lever."""

from __future__ import annotations

import pytest

from citycarbon.datasets import load_reference
from citycarbon.errors import InputError
from citycarbon.services.pathways import PathwayService, parse_set


class VersionedLoader:
    """The shipped dataset under a version the test moves (as the ledger's version moves on a write)."""

    def __init__(self):
        self.version, self.calls = 1, 0

    def __call__(self):
        self.calls += 1
        return ("test", self.version), load_reference("dalian")


def test_the_model_is_rebuilt_when_the_data_version_changes_and_runs_follow():
    loader = VersionedLoader()
    service = PathwayService("dalian", loader=loader, model_memory=1)
    first = service.model()
    assert service.model() is first  # same version: the built model
    plan = service.resolve("Plan")
    run = service.run(plan)
    assert service.run(plan) is run  # cached by (version, code)
    loader.version = 2
    second = service.model()
    assert second is not first and len(service._models) == 1
    rerun = service.run(plan)
    assert rerun is not run and rerun.series == run.series  # same data, new version: recomputed, same values


def test_caches_are_bounded():
    service = PathwayService("dalian", source="files", code_memory=2, run_memory=2)
    codes = []
    for value in (0.25, 0.75, 1.25):  # none is a shipped scenario's value
        scenario = service.resolve("Plan", {"ccus_2060_mt": value})
        codes.append(scenario.code)
        service.run_document(scenario)
    assert len(service._runs) == 2 and len(service._codes) == 2
    assert service.recall(codes[0]) is None  # the least recently used code was dropped
    assert service.recall(codes[2]) == ("Plan", {"ccus_2060_mt": 1.25})
    assert service.recall(service.base_scenario("BAU").code) == ("BAU", {})  # shipped codes are always known
    service.forget_codes()
    assert service.recall(codes[2]) is None


def test_bad_scenario_and_settings_name_the_field():
    service = PathwayService("dalian", source="files")
    with pytest.raises(InputError) as caught:
        service.resolve("Plam")
    assert caught.value.problems[0].field == "scenario" and caught.value.problems[0].suggestion == "Plan"
    with pytest.raises(InputError) as caught:
        parse_set(["ccus_2060_mt:lots", "novalue"])
    assert [p.field for p in caught.value.problems] == ["levers.ccus_2060_mt", "set"]
    rows = service.levers()
    assert rows and all(r.group_title_zh for r in rows if r.group.isdigit())
    assert rows[0].to_dict()["id"] == rows[0].id
