"""Small literal fixtures shared by the unit tests (the Dalian dataset is the integration fixture)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

# Property tests check identities, not speed (benchmarks/ measures speed): no per-example deadline, so a
# loaded CI machine cannot turn a slow example into a "flaky" failure.
settings.register_profile("citycarbon", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("citycarbon")


def balance_rows(rows: list[tuple], year: int = 2022, region: str = "210200") -> pd.DataFrame:
    """Rows of (flow, sector, fuel, quantity, unit) → a canonical balance frame."""
    frame = pd.DataFrame(rows, columns=["flow", "sector", "fuel", "quantity", "unit"])
    frame.insert(0, "region", region)
    frame.insert(0, "year", year)
    return frame[["year", "region", "flow", "sector", "fuel", "quantity", "unit"]]


def statistics_rows(gdp_by_year: dict[int, float], region: str = "210200", base: int = 2020) -> pd.DataFrame:
    """GDP at constant ``base`` prices in 10^8 CNY for each year."""
    return pd.DataFrame({
        "year": list(gdp_by_year),
        "region": region,
        "variable": "gdp",
        "value": list(gdp_by_year.values()),
        "unit": "10^8 CNY",
        "price_base_year": base,
    })


@pytest.fixture
def make_balance():
    return balance_rows


@pytest.fixture
def make_statistics():
    return statistics_rows


@pytest.fixture(autouse=True, scope="session")
def _no_ambient_database(tmp_path_factory):
    """No test reads a database it did not make: the services read the ledger whenever CITYCARBON_HOME holds
    one (``citycarbon.services.sources``), so the session starts with an empty CITYCARBON_HOME and no
    database URL; tests that want a store set both through ``tests.db_fixtures.settings``."""
    patch = pytest.MonkeyPatch()
    patch.setenv("CITYCARBON_HOME", str(tmp_path_factory.mktemp("no-database-home")))
    patch.delenv("CITYCARBON_DATABASE_URL", raising=False)
    yield
    patch.undo()
