"""issue 16 (track): the districts page says where each district's energy and GDP figures come from (the share
estimate here: no district statistics are imported in the web fixture)."""

from __future__ import annotations


def test_the_districts_page_names_the_origin_of_each_figure(web_env):
    client = web_env.as_user("admin")
    page = client.get("/districts")
    assert page.status_code == 200
    assert page.text.count("district-origins") >= 1
    assert "按份额由全市数据估算" in page.text and "估算值" in page.text
    client.cookies.set("cc_lang", "en")
    english = client.get("/districts")
    assert "estimated from the city&#39;s figures by shares" in english.text or \
        "estimated from the city's figures by shares" in english.text
