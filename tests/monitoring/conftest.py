"""Fixtures for the monitoring tests: a small simulated city (built once per session) and literal registries."""

from __future__ import annotations

import pandas as pd
import pytest

from citycarbon.monitoring.uscc import uscc_check_character
from tests.db_fixtures import pg_admin  # noqa: F401 - fixture


def valid_uscc(body17: str = "91210211MA0TE7T01") -> str:
    return body17 + uscc_check_character(body17)


def tiny_registry_frames(interval: int = 60, kind: str = "interval") -> dict[str, pd.DataFrame]:
    """One enterprise with a main electricity meter, two sub-meters and a gas meter."""
    enterprises = pd.DataFrame([{"enterprise_id": "ENT1", "name": "测试企业", "uscc": valid_uscc(),
                                 "industry_code": "3011", "region": "210211", "tier": 1,
                                 "annual_budget_tce": 36500.0, "budget_year": 2025}])
    points = pd.DataFrame([
        {"point_id": "P-MAIN", "enterprise_id": "ENT1", "energy_type": "electricity", "unit": "kWh", "kind": kind,
         "multiplier": 1, "parent_point_id": "", "interval_minutes": interval, "register_max": None,
         "purpose": "main"},
        {"point_id": "P-SUB1", "enterprise_id": "ENT1", "energy_type": "electricity", "unit": "kWh",
         "kind": "interval", "multiplier": 1, "parent_point_id": "P-MAIN", "interval_minutes": interval,
         "register_max": None, "purpose": "production_line"},
        {"point_id": "P-SUB2", "enterprise_id": "ENT1", "energy_type": "electricity", "unit": "kWh",
         "kind": "interval", "multiplier": 1, "parent_point_id": "P-MAIN", "interval_minutes": interval,
         "register_max": None, "purpose": "production_line"},
        {"point_id": "P-GAS", "enterprise_id": "ENT1", "energy_type": "natural_gas", "unit": "m**3",
         "kind": "interval", "multiplier": 1, "parent_point_id": "", "interval_minutes": interval,
         "register_max": None, "purpose": "main"},
    ])
    products = pd.DataFrame(columns=["product_id", "enterprise_id", "name", "unit"])
    return {"enterprises": enterprises, "points": points, "products": products}


@pytest.fixture(scope="session")
def small_city():
    """20 units × 3 points × 14 days at 15 min, with the simulator's fault rates (about 80 000 readings)."""
    from citycarbon.monitoring.simulate import simulate

    return simulate(20, 3, 14, seed=7)


@pytest.fixture(params=("sqlite", "postgresql"))
def ledger_url(request):
    """The lake's ingest-ledger URL on both backends: None (``ledger.sqlite`` beside the files) and a fresh
    PostgreSQL database on the test server (skipped with the reason where none answers)."""
    if request.param == "sqlite":
        yield None
        return
    admin = request.getfixturevalue("pg_admin")
    if admin.error:
        pytest.skip(admin.error)
    name = admin.create()
    yield admin.url(name)
    admin.drop(name)
