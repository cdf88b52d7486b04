"""Target values set in the platform and explicit cities: the office's forms (issue 13 items 2–3).

``/targets/values``   every target of the city's plan with where its value comes from (the plan, a value set
                      by the office with its document, or 待省政府下达), and, for the office, the forms that set
                      a value or a district's allocation (:mod:`citycarbon.services.targets`).
``/admin/cities``     the deployment's cities and the form that creates one from its plan file
                      (:mod:`citycarbon.services.cities`; the deployment's administrators).

Every form is checked for the session's CSRF token; the services apply the rules (role, city scope, units) and
audit the writes; bad input re-shows the page with the problems (422) and writes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import translate_problem
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)
PLAN_LIMIT = 2_000_000


def _problems(error: InputError, locale: str) -> list[str]:
    return [f"{p.field}: {translate_problem(locale, p)}" if p.field else translate_problem(locale, p)
            for p in error.problems]


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _districts(request: Request, locale: str, region: str) -> list[tuple[str, str]]:
    from citycarbon.tracking.districts import district_codes

    return [(code, info["name_zh"] if locale.startswith("zh") else info["name_en"])
            for code, info in district_codes(region).items()]


def _values_page(request: Request, session, *, notice: bool = False, errors: list[str] | None = None,
                 form: dict | None = None, status_code: int = 200) -> Response:
    from citycarbon.services import targets
    from citycarbon.services.cities import city_info

    principal = session.principal
    city = _city(request)
    db = web_state(request).db()
    try:
        entries = targets.list_targets(db, principal, city)
        info = city_info(db, principal, city)
    except Forbidden:
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    locale = locale_of(request)
    return render(request, "target_values.html", {
        "entries": entries, "city": info, "notice": notice, "errors": errors or [], "form": form or {},
        "can_set": principal.can_set_targets(city), "districts": _districts(request, locale, info.region_code),
        "pending_zh": targets.PENDING_ZH,
    }, session=session, status_code=status_code)


def _signed_in(request: Request, session) -> Response | None:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return None


@router.get("/targets/values", response_class=HTMLResponse)
def values_page(request: Request, session=Depends(current_session)) -> Response:
    return _signed_in(request, session) or _values_page(request, session)


def _number(text: str) -> float:
    try:
        value = float(text.strip().replace(",", ""))
    except (AttributeError, ValueError):
        raise InputError(Problem("the value must be a number", field="value", value=text)) from None
    if not math.isfinite(value):
        raise InputError(Problem("the value must be a finite number", field="value", value=text))
    return value


def _post(request: Request, session, csrf_token: str, write: Callable[[Any], object], form: dict,
          page: Callable[..., Response]) -> Response:
    refused = _signed_in(request, session)
    if refused:
        return refused
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)
    try:
        write(web_state(request).db())
        results = web_state(request).source.results
        if results is not None:  # this process shows the new ledger version at once (not after the version TTL)
            results.refresh()
    except Forbidden:
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    except NotFound as error:
        return page(request, session, errors=_problems(InputError(Problem(error.message)), locale_of(request)),
                    form=form, status_code=422)
    except InputError as error:
        return page(request, session, errors=_problems(error, locale_of(request)), form=form, status_code=422)
    return page(request, session, notice=True)


@router.post("/targets/values", response_class=HTMLResponse)
def set_value(request: Request, target_id: str = Form(""), value: str = Form(""), unit: str = Form(""),
              document: str = Form(""), date: str = Form(""), note: str = Form(""), csrf_token: str = Form(""),
              session=Depends(current_session)) -> Response:
    from citycarbon.services import targets

    form = {"target_id": target_id, "value": value, "unit": unit, "document": document, "date": date, "note": note}

    def write(db) -> object:
        return targets.set_target_value(db, session.principal, _city(request), target_id, value=_number(value),
                                        unit=unit, document=document, document_date=date or None, note=note or None)

    return _post(request, session, csrf_token, write, form, _values_page)


@router.post("/targets/allocations", response_class=HTMLResponse)
def set_allocation(request: Request, target_id: str = Form(""), district: str = Form(""), value: str = Form(""),
                   unit: str = Form(""), document: str = Form(""), date: str = Form(""), note: str = Form(""),
                   csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    from citycarbon.services import targets

    form = {"target_id": target_id, "district": district, "value": value, "unit": unit, "document": document,
            "date": date, "note": note, "allocation": True}

    def write(db) -> object:
        return targets.set_allocation(db, session.principal, _city(request), district, target_id,
                                      value=_number(value), unit=unit, document=document,
                                      document_date=date or None, note=note or None)

    return _post(request, session, csrf_token, write, form, _values_page)


# -- cities ----------------------------------------------------------------------------------------------------

def _cities_page(request: Request, session, *, notice: bool = False, errors: list[str] | None = None,
                 form: dict | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.cities import list_cities

    principal = session.principal
    if not principal.is_admin:
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    return render(request, "admin/cities.html", {
        "cities": list_cities(web_state(request).db(), principal), "notice": notice, "errors": errors or [],
        "form": form or {}, "can_create": principal.can_manage_cities(),
    }, session=session, status_code=status_code)


@router.get("/admin/cities", response_class=HTMLResponse)
def cities_page(request: Request, session=Depends(current_session)) -> Response:
    return _signed_in(request, session) or _cities_page(request, session)


async def _text(upload: UploadFile | None, field: str) -> str | None:
    if upload is None or not upload.filename:
        return None
    content = await upload.read(PLAN_LIMIT + 1)
    if len(content) > PLAN_LIMIT:
        raise InputError(Problem("the file is too large", field=field, file=upload.filename))
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(Problem("the file is not UTF-8 text", field=field, file=upload.filename)) from None


@router.post("/admin/cities", response_class=HTMLResponse)
async def create_city(request: Request, code: str = Form(""), plan: UploadFile | None = File(None),
                      accounting: UploadFile | None = File(None), csrf_token: str = Form(""),
                      session=Depends(current_session)) -> Response:
    from starlette.concurrency import run_in_threadpool

    from citycarbon.services.cities import init_city_text

    problems: InputError | None = None
    plan_text = profile_text = None
    try:
        plan_text, profile_text = await _text(plan, "plan"), await _text(accounting, "accounting")
    except InputError as error:
        problems = error

    def write(db) -> object:
        if not session.principal.can_manage_cities():
            raise Forbidden("only the deployment's administrators create cities")
        if problems is not None:
            raise problems
        if plan_text is None:
            raise InputError(Problem("choose the city's plan file (YAML)", field="plan"))
        return init_city_text(db, session.principal, code=code.strip().lower(), plan=plan_text,
                              accounting=profile_text)

    return await run_in_threadpool(_post, request, session, csrf_token, write, {"code": code}, _cities_page)
