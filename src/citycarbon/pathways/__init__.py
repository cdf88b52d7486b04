"""Pathways to 2060: a vectorised sector model of the city, policy levers, scenarios, target-native results.

``build_model(city)`` builds the model once (base year from the accounting engine, levers and parameters
from ``data/pathways``); ``load_scenario(name_or_file)`` reads a scenario; ``model.evaluate(X)`` runs many
parameter vectors at once; ``model.run(scenario)`` one scenario. See docs/pathways.md.
"""

from citycarbon.pathways.model import MODEL_VERSION, Outputs, PathwayModel, build_model
from citycarbon.pathways.parameters import Lever, ParameterSet, load_levers, load_uncertain
from citycarbon.pathways.results import PathwayResult
from citycarbon.pathways.scenarios import Scenario, load_scenario, shipped_scenarios

__all__ = [
    "MODEL_VERSION",
    "Lever",
    "Outputs",
    "ParameterSet",
    "PathwayModel",
    "PathwayResult",
    "Scenario",
    "build_model",
    "load_levers",
    "load_scenario",
    "load_uncertain",
    "shipped_scenarios",
]
