"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and each one fails on the import it forbids.

``make test`` runs ``lint-imports`` itself before pytest; these tests keep a plain ``pytest`` run honest too, and
show that a contract is not vacuous: an import injected into the real import graph breaks it.
"""

from __future__ import annotations

import copy
from pathlib import Path

import grimp
import pytest
from importlinter import api
from importlinter.contracts.forbidden import ForbiddenContract

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@pytest.fixture(scope="module")
def config() -> dict:
    return api.read_configuration(str(PYPROJECT))


@pytest.fixture(scope="module")
def graph(config) -> grimp.ImportGraph:
    options = config["session_options"]
    return grimp.build_graph(*options["root_packages"], include_external_packages=True, cache_dir=None)


def _check(config: dict, graph: grimp.ImportGraph, contract_id: str):
    [options] = [c for c in config["contracts_options"] if c["id"] == contract_id]
    assert options["type"] == "forbidden"
    contract = ForbiddenContract(name=options["name"], session_options=config["session_options"],
                                 contract_options=options)
    return contract.check(copy.deepcopy(graph), verbose=False)


def test_the_contracts_hold_for_the_source_tree(config, graph):
    ids = [c["id"] for c in config["contracts_options"]]
    assert ids == ["domain-is-pure", "store-below-services", "services-below-faces", "faces-through-services"]
    broken = {i: check.metadata for i in ids if not (check := _check(config, graph, i)).kept}
    assert broken == {}


@pytest.mark.parametrize(("imports", "contract_id"), [
    ([("citycarbon.accounting.engine", "citycarbon.store.ledger")], "domain-is-pure"),
    ([("citycarbon.tracking.progress", "fastapi")], "domain-is-pure"),
    ([("citycarbon.monitoring.quality", "sqlalchemy")], "domain-is-pure"),
    ([("citycarbon.sinks.forest", "citycarbon.services.tracking")], "domain-is-pure"),
    ([("citycarbon.auth.principal", "citycarbon.web.app")], "domain-is-pure"),
    ([("citycarbon.decomposition.lmdi", "typer")], "domain-is-pure"),
    # indirect: the domain reaches the store through a module outside the contract
    ([("citycarbon.plan.load", "citycarbon.settings"), ("citycarbon.settings", "citycarbon.store.db")],
     "domain-is-pure"),
    ([("citycarbon.store.ledger", "citycarbon.services.accounting")], "store-below-services"),
    ([("citycarbon.services.tracking", "citycarbon.api.app")], "services-below-faces"),
    ([("citycarbon.services.accounting", "citycarbon.cli")], "services-below-faces"),
    ([("citycarbon.services.decomposition", "fastapi")], "services-below-faces"),
    # progress bars: the domain, the store and the services report through citycarbon.progress, never rich
    ([("citycarbon.pathways.uncertainty", "rich")], "domain-is-pure"),
    ([("citycarbon.progress", "rich")], "domain-is-pure"),
    ([("citycarbon.store.backup", "rich")], "store-below-services"),
    ([("citycarbon.services.monitoring.checks", "rich")], "services-below-faces"),
    # faces reach the store through services only: a router reading the ledger, a page reading the audit log, a
    # command writing a backup itself each break it; the Database is built only by the composition root's modules
    ([("citycarbon.api.routers.statistics", "citycarbon.store.ledger")], "faces-through-services"),
    ([("citycarbon.web.routes.admin", "citycarbon.store.audit")], "faces-through-services"),
    ([("citycarbon.cli.backup", "citycarbon.store.backup")], "faces-through-services"),
    ([("citycarbon.cli.audit", "citycarbon.store.db")], "faces-through-services"),
    ([("citycarbon.api.routers.jobs", "citycarbon.store")], "faces-through-services"),
])
def test_a_forbidden_import_breaks_its_contract(config, graph, imports, contract_id):
    assert _check(config, graph, contract_id).kept
    injected = copy.deepcopy(graph)
    for importer, imported in imports:
        injected.add_import(importer=importer, imported=imported)
    check = _check(config, injected, contract_id)
    assert not check.kept
    assert imports[0][0] in repr(check.metadata)
