"""The accounting page's method selector: the query parameters of the API, the choice shown as selected, the
numbers those of the service on the same choices, and the grid factor's fallback shown."""

from __future__ import annotations

import re

from tests.web.conftest import web_env  # noqa: F401  (the seeded web app, session scope)


def _selected(html: str, name: str) -> str:
    block = re.search(rf'<select id="m-{name}" name="{name}">(.*?)</select>', html, re.S)
    assert block, name
    chosen = re.search(r'<option value="([^"]+)" selected>', block.group(1))
    assert chosen, name
    return chosen.group(1)


def test_selector_shows_the_profile_and_the_choice(web_env):  # noqa: F811
    default = web_env.get("/accounting?year=2023").text
    assert _selected(default, "co2_factors") == "provincial"
    assert _selected(default, "electricity_co2") == "net-inflow"
    assert "2023年采用2023年东北电网因子" in default  # the fallback along the chain, shown
    chosen = web_env.get("/accounting?year=2023&co2_factors=ipcc&electricity_co2=consumption").text
    assert _selected(chosen, "co2_factors") == "ipcc"
    assert _selected(chosen, "electricity_co2") == "consumption"
    assert "ipcc2006.cc.raw_coal" in chosen  # the IPCC rows are the ones used and listed
    ignored = web_env.get("/accounting?year=2023&co2_factors=bogus").text
    assert _selected(ignored, "co2_factors") == "provincial"
