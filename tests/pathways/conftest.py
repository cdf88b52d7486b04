"""The Dalian pathway model, built once per test session (build_model is cached)."""

from __future__ import annotations

import pytest

from citycarbon.pathways import build_model


@pytest.fixture(scope="session")
def model():
    return build_model("dalian")
