"""The application's one error handler at the web edge: the cockpit's paths answer HTML error pages in the
caller's language (unknown page 404, refused 403, a malformed or huge id 404, a server error 500 naming its
request id without a traceback); ``/api`` paths keep the JSON envelope."""

from __future__ import annotations

import logging
import re
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

HUGE = "99999999999999999999999"


def _is_html(response) -> bool:
    return response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("user", [None, "district-a"])
def test_an_unknown_page_is_the_html_404_in_chinese_and_english(web_env, user):
    zh = web_env.get("/no-such-page", user=user)
    assert zh.status_code == 404 and _is_html(zh)
    assert "未找到" in zh.text and "该页面不存在或您无权访问" in zh.text and '"error"' not in zh.text
    en = web_env.get("/no-such-page?lang=en", user=user)
    assert en.status_code == 404 and _is_html(en)
    assert "<h1>Not found</h1>" in en.text and "未找到" not in en.text
    assert ('href="/imports"' in zh.text) is (user is not None)  # a logged-in caller keeps the menu


def test_the_api_keeps_its_json_envelope(web_env):
    answer = web_env.get("/api/v1/no-such-thing")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    bad_id = web_env.client.get("/api/v1/imports/" + HUGE, headers={"Accept": "text/html"})
    assert bad_id.status_code in (401, 404, 422) and "error" in bad_id.json()


def _int_id_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every cockpit route with an integer path parameter."""
    found, flat = [], []
    for route in app.routes:  # FastAPI ≥ 0.16x keeps an included router as one entry with its effective routes
        contexts = getattr(route, "effective_route_contexts", None)
        flat.extend(contexts() if contexts is not None else [route])
    for route in flat:
        if getattr(route, "dependant", None) is None or route.path.startswith("/api"):
            continue
        if any(param.field_info.annotation is int for param in route.dependant.path_params):
            found.extend((method, route.path) for method in sorted(route.methods - {"HEAD"}))
    return found


def test_a_malformed_or_huge_id_is_a_404_page_on_every_web_route(web_env):
    routes = _int_id_routes(web_env.client.app)
    assert ("GET", "/imports/{batch_id}") in routes and ("POST", "/imports/{batch_id}/approve") in routes
    for method, path in routes:
        for value in (HUGE, "0", "-1", "abc", "1e3", "2147483648"):
            url = re.sub(r"\{[^}]+\}", value, path)
            data = {"csrf_token": web_env.csrf("admin")} if method == "POST" else None
            answer = web_env.as_user("admin").request(method, url, data=data, follow_redirects=False)
            assert answer.status_code == 404, (method, url, answer.status_code, answer.text[:200])
            assert _is_html(answer) and "未找到" in answer.text, (method, url)


def test_a_server_error_is_logged_with_its_request_id_and_shows_no_traceback(web_env):
    app = web_env.client.app

    def boom() -> None:
        raise RuntimeError("secret internals: /srv/citycarbon/db password=hunter2")

    app.add_api_route("/test-boom", boom, include_in_schema=False)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("citycarbon.api")
    logger.addHandler(handler)
    try:
        client = TestClient(app, raise_server_exceptions=False)
        client.cookies.set("cc_session", web_env.sessions["admin"][0])
        answer = client.get("/test-boom?lang=en")
    finally:
        logger.removeHandler(handler)
        app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != "/test-boom"]
    assert answer.status_code == 500 and _is_html(answer)
    request_id = answer.headers["x-request-id"]
    assert re.search(rf'id="request-id">{request_id}<', answer.text)
    assert "Traceback" not in answer.text and "hunter2" not in answer.text and "RuntimeError" not in answer.text
    assert "content-security-policy" in answer.headers
    logged = [r for r in records if r.levelno == logging.ERROR and request_id in r.getMessage()]
    assert logged and logged[0].exc_info and "hunter2" in str(logged[0].exc_info[1])


def test_a_refused_page_is_the_html_403(web_env):
    answer = web_env.get("/imports", user="viewer")
    assert answer.status_code == 403 and _is_html(answer)
    assert "Not available for your role" in web_env.get("/imports?lang=en", user="viewer").text
