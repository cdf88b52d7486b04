"""The import page offers every dataset: a table choice and a template download per registry table, the import
mode (by key by default, whole years on request), each batch's data status and mode, and the preview's list of
every value approving would close."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from citycarbon.tables import import_tables
from tests.web.conftest import HAS_IMPORTS

pytestmark = pytest.mark.skipif(not HAS_IMPORTS, reason="citycarbon.store.imports is not installed")


def test_the_import_page_offers_every_dataset_and_its_template(fresh_web_env):
    env = fresh_web_env
    env.new_session("analyst")
    page = env.get("/imports?lang=zh_CN", user="analyst")
    assert page.status_code == 200
    for name, spec in import_tables().items():
        assert f'<option value="{name}">{spec.title_zh}</option>' in page.text
        assert f'href="/imports/template?dataset={name}"' in page.text
    assert '<option value="keys" selected>' in page.text and "整年替换" in page.text
    download = env.get("/imports/template?dataset=wetland", user="analyst")
    assert download.status_code == 200 and "spreadsheetml" in download.headers["content-type"]
    assert load_workbook(io.BytesIO(download.content)).sheetnames == ["说明", "codelists", "湿地与蓝碳", "来源"]
    assert env.get("/imports/template?dataset=wetlnd", user="analyst").status_code == 422
    assert env.get("/imports/template", user=None).status_code in (302, 303, 307)


def test_a_years_upload_lists_every_value_it_would_close_and_the_batch_shows_its_status(fresh_web_env):
    env = fresh_web_env
    env.new_session("analyst")
    content = b"year,region,variable,value,unit\n2024,210200,population,1.0,10^4 person\n"
    answer = env.as_user("analyst").post("/imports?lang=zh_CN", data={"csrf_token": env.csrf("analyst"),
                                                                      "mode": "years", "kind": "statistics"},
                                         files={"file": ("pop.csv", content, "text/csv")}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    batch_page = env.get(answer.headers["location"] + "?lang=zh_CN", user="analyst")
    assert batch_page.status_code == 200
    assert 'id="closing-rows"' in batch_page.text and "整年替换" in batch_page.text and "官方" in batch_page.text
    from citycarbon.services import imports as service
    from citycarbon.store import users

    with env.db.session() as session:
        principal = users.principal_for_user(users.require_user(session, "analyst"))
    batch_id = int(answer.headers["location"].rsplit("/", 1)[1])
    closing = service.get_batch(env.db, principal, batch_id).preview_now
    assert closing is not None and closing.closed > 0
    assert batch_page.text.count("<tr><td>2024") >= closing.closed
    listing = env.get("/imports?lang=zh_CN", user="analyst")
    assert "整年替换" in listing.text and "官方" in listing.text
