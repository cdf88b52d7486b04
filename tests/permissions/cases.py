"""How each write of :mod:`tests.permissions.matrix` is tried: the world it needs (users of every role, the
monitoring registry with enterprises X and Y), the object it is tried on (made fresh for every caller), the
service call, and the footprint a refusal must leave unchanged (the audit log's row count and the object)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from citycarbon import errors
from citycarbon.auth.principal import Principal
from citycarbon.services.monitoring import submissions as monitoring_submissions
from citycarbon.services.users import Forbidden as UsersForbidden
from citycarbon.services.users import NotFound as UsersNotFound

DISTRICT_A, DISTRICT_B = "210202", "210203"
X, Y = "91210200MA0XXXXXXU", "91210200MA0YYYYYY7"
#: (name, role, regions, enterprise) of the callers' accounts
PEOPLE = (
    ("admin", "admin", (), None),
    ("analyst", "analyst", (), None),
    ("district-a", "district", (DISTRICT_A,), None),
    ("district-b", "district", (DISTRICT_B,), None),
    ("enterprise-x", "enterprise", (), X),
    ("enterprise-y", "enterprise", (), Y),
    ("viewer", "viewer", (), None),
    ("dept-a", "department", (), None),
    ("dept-b", "department", (), None),
)
#: the organisations the department callers are bound to (issue 14)
DEPT_ORGS = {"dept-a": "miit", "dept-b": "eco"}
HEADER = "year,region,variable,value,unit,price_base_year,status,source\n"


def statistics_row(region: str = DISTRICT_A) -> bytes:
    return (HEADER + f'2022,{region},population,61,10^4 person,,official,"permission matrix"\n').encode()


def write_registry(db) -> None:
    """Enterprises X (district A) and Y (district B), one electricity point each (X-EL, Y-EL)."""
    from citycarbon.store.monitoring_registry import save_registry

    enterprises = pd.DataFrame([
        {"enterprise_id": e, "name": f"{e[-2:]} 企业", "uscc": e, "industry_code": "2511", "region": r, "tier": "1",
         "annual_budget_tce": "", "budget_year": ""} for e, r in ((X, DISTRICT_A), (Y, DISTRICT_B))])
    points = pd.DataFrame([
        {"point_id": p, "enterprise_id": e, "energy_type": "electricity", "unit": "kWh", "kind": "interval",
         "multiplier": "1", "parent_point_id": "", "interval_minutes": "15", "register_max": "", "purpose": "main"}
        for p, e in (("X-EL", X), ("Y-EL", Y))])
    save_registry(db, {"enterprises": enterprises, "points": points}, "test")


def populate(db) -> dict[str, Principal]:
    """The callers' accounts; the principal of every caller of :data:`~tests.permissions.matrix.ACTORS`."""
    from citycarbon.store import users

    principals: dict[str, Principal] = {}
    with db.session() as session:
        for name, role, regions, enterprise in PEOPLE:
            user, _ = users.create_user(session, username=name, role=role, regions=regions, enterprise_id=enterprise,
                                        actor="test", org_code=DEPT_ORGS.get(name))
            principals[name] = users.principal_for_user(user)
            principals[f"{name}:read"] = users.principal_for_user(user).narrowed({"read"})
    return principals


def outcome_of(error: BaseException) -> str:
    """The matrix's name for a refusal (every face maps the families the same way)."""
    if isinstance(error, errors.InputError):
        return "422"
    if isinstance(error, errors.Forbidden | UsersForbidden):
        return "403"
    if isinstance(error, errors.NotFound | UsersNotFound | monitoring_submissions.NotFound):
        return "404"
    if isinstance(error, errors.Conflict):
        return "409"
    raise error


def audit_rows(db) -> int:
    from citycarbon.store import audit

    with db.session() as session:
        return audit.count(session)


def _user_state(db, username: str) -> tuple:
    from citycarbon.store import users

    with db.session() as session:
        user = users.get_user(session, username)
        if user is None:
            return (None,)
        tokens = tuple(sorted((t.prefix, t.scope, t.revoked_at is not None) for t in users.list_tokens(session, user)))
        return (user.role, tuple(sorted(user.regions or ())) if hasattr(user, "regions") else None,
                user.enterprise_id, user.display_name, user.disabled, user.password_hash, user.locked_until,
                user.totp_secret, user.must_change_password, tokens, user.totp_enabled, user.failed_logins)


def _batch_state(db, batch_id: int | None = None) -> tuple:
    from citycarbon.store.models import ImportBatch, Observation

    with db.session() as session:
        batches = session.execute(select(func.count()).select_from(ImportBatch)).scalar_one()
        current = session.execute(select(func.count()).select_from(Observation)
                                  .where(Observation.superseded_at.is_(None))).scalar_one()
        status = session.get(ImportBatch, batch_id).status if batch_id is not None else None
    return int(batches), int(current), status


@dataclass
class World:
    """The database, its settings and the callers, for one backend."""

    db: Any
    settings: Any
    principals: dict[str, Principal]
    monitoring: Any = None
    jobs: Any = None

    def principal(self, actor: str) -> Principal:
        return self.principals[actor]


class _Results:
    """The result cache a recompute job warms (the job's work is not what the matrix tests)."""

    def warm(self) -> int:
        return 0

    def accounting(self, version: int) -> dict:
        return {}


@dataclass
class Case:
    """``setup(world, tag)`` → the object (a dict); ``call(world, principal, obj)`` → the result;
    ``state(world, obj)`` → what a refusal must leave unchanged; ``done(world, obj, result, state_before)`` →
    whether the write happened (checked for ``ok``); ``rejected(result)`` for ``rej``."""

    setup: Callable[[World, str], dict]
    call: Callable[[World, Principal, dict], Any]
    state: Callable[[World, dict], Any]
    done: Callable[[World, dict, Any, Any], bool]
    rejected: Callable[[Any], bool] | None = None


def _svc(name: str):
    import importlib

    return importlib.import_module(f"citycarbon.services.{name}")


def _target_user(world: World, tag: str) -> dict:
    from datetime import timedelta

    from citycarbon.store import users
    from citycarbon.store.types import utcnow

    name = f"target-{tag}"
    with world.db.session() as session:  # locked out and enrolled in TOTP: unlock and reset_totp change it
        user, _ = users.create_user(session, username=name, role="district", regions=[DISTRICT_A], actor="test")
        user.failed_logins, user.locked_until = 5, utcnow() + timedelta(hours=1)
        user.totp_enabled, user.totp_secret = True, "not-a-real-secret"
    return {"username": name}


def _district_a_batch(world: World, tag: str) -> dict:
    batch = _svc("imports").upload_batch(world.db, world.principal("district-a"), filename=f"{tag}.csv",
                                         content=statistics_row(DISTRICT_A))
    assert batch.status == "validated", batch.problems
    return {"batch_id": batch.id}


def _district_a_token(world: World, tag: str) -> dict:
    from citycarbon.store import users

    with world.db.session() as session:
        token = users.issue_token(session, users.require_user(session, "district-a"), "read", tag, actor="test")
    return {"prefix": token.split("_")[1], "token": token}


def _no_object(world: World, tag: str) -> dict:
    return {"tag": tag}


def _reading(tag: str) -> dict:
    # a distinct interval per caller (idempotent ingest would call a repeated one a duplicate)
    offset = int(uuid.UUID(int=abs(hash(tag)) % (1 << 128)).int % 5000)
    begin = pd.Timestamp("2025-01-10T00:00:00+08:00") + pd.Timedelta(minutes=15 * offset)
    return {"readings": [{"point_id": "X-EL", "start": begin.isoformat(),
                          "end": (begin + pd.Timedelta(minutes=15)).isoformat(), "value": 1.5, "unit": "kWh"}]}


def _ingest(world: World, principal: Principal, obj: dict):
    sender = monitoring_submissions.Sender.of(principal)
    if sender is None:  # the rule: only an enterprise's write credential (its own points) or an admin
        raise errors.Forbidden("not an ingest sender")
    return world.monitoring.ingest(json.dumps(obj["body"]), sender)


def _lake_rows(world: World) -> int:
    from citycarbon.monitoring.lake import Lake, content_frame

    try:
        return len(content_frame(Lake.for_settings(world.settings)))
    except FileNotFoundError:
        return 0


def _jobs(db) -> int:
    from citycarbon.store.models import Job

    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(Job)).scalar_one())


def _user_case(call: Callable[[Any, Principal, str], Any], done: Callable[[tuple, tuple], bool] | None = None) -> Case:
    def state(world: World, obj: dict) -> tuple:
        return _user_state(world.db, obj["username"])

    return Case(_target_user, lambda w, p, o: call(w, p, o["username"]), state,
                lambda w, o, r, b: done is None or done(b, state(w, o)))


def _u():
    return _svc("users")


CASES: dict[str, Case] = {
    "import.upload": Case(
        _no_object,
        lambda w, p, o: _svc("imports").upload_batch(w.db, p, filename=f"{o['tag']}.csv", content=statistics_row()),
        lambda w, o: _batch_state(w.db),
        lambda w, o, r, b: r.status == "validated" and r.uploaded_by is not None),
    "import.file": Case(
        _no_object,
        lambda w, p, o: _svc("imports").import_file(w.db, p, filename=f"{o['tag']}.csv", content=statistics_row(),
                                                    approve=True, reason="matrix"),
        lambda w, o: _batch_state(w.db),
        lambda w, o, r, b: r.batch.status == "approved"),
    "import.approve": Case(
        _district_a_batch, lambda w, p, o: _svc("imports").approve_batch(w.db, p, o["batch_id"]),
        lambda w, o: _batch_state(w.db, o["batch_id"]),
        lambda w, o, r, b: _batch_state(w.db, o["batch_id"])[2] == "approved"),
    "import.discard": Case(
        _district_a_batch, lambda w, p, o: _svc("imports").discard_batch(w.db, p, o["batch_id"]),
        lambda w, o: _batch_state(w.db, o["batch_id"]),
        lambda w, o, r, b: _batch_state(w.db, o["batch_id"])[2] == "discarded"),
    "user.create": Case(
        _no_object,
        lambda w, p, o: _u().create_user(w.db, p, username=f"new-{o['tag']}", role="enterprise", enterprise_id=X),
        lambda w, o: _user_state(w.db, f"new-{o['tag']}"),
        lambda w, o, r, b: _user_state(w.db, f"new-{o['tag']}")[2] == X),
    "user.create_admin": Case(
        _no_object, lambda w, p, o: _u().create_admin(w.db, p, username=f"adm-{o['tag']}"),
        lambda w, o: _user_state(w.db, f"adm-{o['tag']}"),
        lambda w, o, r, b: _user_state(w.db, f"adm-{o['tag']}")[0] == "admin"),
    "user.update": _user_case(lambda w, p, name: _u().update_user(w.db, p, name, {"display_name": "changed"}),
                              lambda before, after: after[3] == "changed"),
    "user.disable": _user_case(lambda w, p, name: _u().set_disabled(w.db, p, name, True),
                               lambda before, after: after[4] is True),
    "user.reset_password": _user_case(lambda w, p, name: _u().reset_password(w.db, p, name),
                                      lambda before, after: after[5] != before[5]),
    "user.unlock": _user_case(lambda w, p, name: _u().unlock_user(w.db, p, name),
                              lambda before, after: after[6] is None and after[11] == 0),
    "user.reset_totp": _user_case(lambda w, p, name: _u().reset_totp(w.db, p, name),
                                  lambda before, after: after[10] is False and after[7] is None),
    "token.issue_for": Case(
        _no_object, lambda w, p, o: _u().issue_token(w.db, p, username="district-a", scope="read", name=o["tag"]),
        lambda w, o: _user_state(w.db, "district-a"),
        lambda w, o, r, b: r.info.scope == "read" and r.token.startswith("cc_")),
    "token.issue_own": Case(
        _no_object, lambda w, p, o: _u().issue_token(w.db, p, scope="write", name=o["tag"]),
        lambda w, o: tuple(_user_state(w.db, name) for name, *_ in PEOPLE),
        lambda w, o, r, b: r.info.scope == "write"),
    "token.revoke": Case(
        _district_a_token, lambda w, p, o: _u().revoke_token(w.db, p, o["prefix"]),
        lambda w, o: _user_state(w.db, "district-a"),
        lambda w, o, r, b: r.revoked_at is not None and _user_state(w.db, "district-a") != b),
    "totp.rotate_key": Case(
        _no_object, lambda w, p, o: _u().rotate_totp_key(w.db, w.settings, p),
        lambda w, o: _key_file(w), lambda w, o, r, b: r.keys >= 1 and _key_file(w) != b),
    "readings.ingest": Case(
        lambda w, tag: {"body": _reading(tag)}, _ingest, lambda w, o: _lake_rows(w),
        lambda w, o, r, b: r.report.accepted == 1,
        rejected=lambda r: r.report.accepted == 0 and r.report.rejected == 1),
    "job.recompute": Case(
        _no_object, lambda w, p, o: _recompute(w, p),
        lambda w, o: _jobs(w.db), lambda w, o, r, b: bool(r) and _jobs(w.db) == b + 1),
}


# -- issue 13: target values and cities -----------------------------------------------------------------------

OPEN_TARGET = "energy_intensity_reduction_2025"
DOCUMENT = "辽政发〔2022〕12号"
TOY_PLAN = __import__("pathlib").Path(__file__).parents[1] / "fixtures" / "cities" / "toyville.yaml"
_CITY_NUMBERS = iter(range(1, 9999))


def _target_value(world: World, tag: str) -> dict:
    """A value distinct per caller (the same value again would be no change)."""
    return {"target_id": OPEN_TARGET, "value": 0.1 + (abs(hash(tag)) % 10_000) / 1e6, "tag": tag}


def _versions(world: World, dataset: str, region: str) -> tuple:
    from citycarbon.store import cities

    with world.db.session() as session:
        return tuple((r["value"], r["superseded_at"] is None)
                     for r in cities.target_history(session, dataset, region, OPEN_TARGET))


def _new_city(world: World, tag: str) -> dict:
    import tempfile

    number = next(_CITY_NUMBERS)
    code, region = f"toy{number}", f"98{number:04d}"
    text = TOY_PLAN.read_text(encoding="utf-8").replace("'990100'", f"'{region}'")
    path = __import__("pathlib").Path(tempfile.mkdtemp()) / f"{code}.yaml"
    path.write_text(text, encoding="utf-8")
    return {"code": code, "path": str(path), "text": text, "tag": tag}


def _city_exists(world: World, code: str) -> bool:
    from citycarbon.store import cities

    with world.db.session() as session:
        return cities.plan_record(session, code) is not None


def _user_city(world: World, username: str) -> str | None:
    from citycarbon.store import users

    with world.db.session() as session:
        return users.require_user(session, username).city


TARGET_CASES: dict[str, Case] = {
    "target.set": Case(
        _target_value,
        lambda w, p, o: _svc("targets").set_target_value(w.db, p, "dalian", o["target_id"], value=o["value"],
                                                         unit="1", document=DOCUMENT),
        lambda w, o: _versions(w, "target_values", "210200"),
        lambda w, o, r, b: _versions(w, "target_values", "210200")[-1] == (o["value"], True)),
    "target.allocate": Case(
        _target_value,
        lambda w, p, o: _svc("targets").set_allocation(w.db, p, "dalian", DISTRICT_A, o["target_id"],
                                                       value=o["value"], unit="1", document=DOCUMENT),
        lambda w, o: _versions(w, "target_allocations", DISTRICT_A),
        lambda w, o, r, b: _versions(w, "target_allocations", DISTRICT_A)[-1] == (o["value"], True)),
    "city.create": Case(
        _new_city, lambda w, p, o: _svc("cities").init_city(w.db, p, o["path"], code=o["code"]),
        lambda w, o: _city_exists(w, o["code"]), lambda w, o, r, b: _city_exists(w, o["code"])),
    "city.create_upload": Case(
        _new_city, lambda w, p, o: _svc("cities").init_city_text(w.db, p, code=o["code"], plan=o["text"]),
        lambda w, o: _city_exists(w, o["code"]), lambda w, o, r, b: _city_exists(w, o["code"])),
    "user.city": Case(
        _target_user, lambda w, p, o: _svc("cities").assign_user_city(w.db, p, o["username"], "dalian"),
        lambda w, o: _user_city(w, o["username"]), lambda w, o, r, b: _user_city(w, o["username"]) == "dalian"),
}
CASES.update(TARGET_CASES)


# -- "1+N" plans (issue 14 item 3) -----------------------------------------------------------------------------

def _plan_text(code: str) -> str:
    from tests.governance.subplan_support import dump, subplan_data

    return dump(subplan_data(code))


def _plan_code(tag: str) -> str:
    import re

    return "p_" + re.sub(r"[^a-z0-9_]", "_", tag.lower())[:60]


def _new_plan(world: World, tag: str) -> dict:
    code = _plan_code(tag)
    return {"code": code, "plan_code": code, "text": _plan_text(code)}


def _registered_plan(world: World, tag: str) -> dict:
    obj = _new_plan(world, tag)
    _svc("governance.plans").register_plan(world.db, world.principal("admin"), "dalian", obj["text"])
    return obj


def _plan_state(world: World, code: str) -> tuple:
    from citycarbon.store.governance_models import GovSubplan

    with world.db.session() as session:
        rows = session.scalars(select(GovSubplan).where(GovSubplan.code == code).order_by(GovSubplan.version))
        return tuple((r.version, r.valid_to is None) for r in rows)


def _withdraw_case() -> Case:
    return Case(_registered_plan,
                lambda w, p, o: _svc("governance.plans").withdraw_plan(w.db, p, "dalian", o["code"]),
                lambda w, o: _plan_state(w, o["code"]),
                lambda w, o, r, b: _plan_state(w, o["code"]) == ((1, False),))


PLAN_CASES: dict[str, Case] = {
    "plan.register": Case(
        _new_plan, lambda w, p, o: _svc("governance.plans").register_plan(w.db, p, "dalian", o["text"]),
        lambda w, o: _plan_state(w, o["code"]), lambda w, o, r, b: _plan_state(w, o["code"]) == ((1, True),)),
    "plan.withdraw": _withdraw_case(),
    "plan.withdraw_post": _withdraw_case(),
}
CASES.update(PLAN_CASES)
# -- issue 14 items 5, 8: supervision, the working-day calendar, the inbox ---------------------------------------

SCAN_DAY = __import__("datetime").date(2026, 10, 20)


def _late_round(world: World, tag: str) -> int:
    """A quarterly round of 2026Q3 (deadline 30 Sept) with measure T05-M01 owed by miit (dept-a's unit), unfiled."""
    from datetime import date

    from citycarbon.store.governance_models import GovRound, GovRoundAssignment

    with world.db.session() as session:
        rnd = GovRound(city="dalian", code=tag[-60:], title_zh=tag, period="quarterly", period_start=date(2026, 7, 1),
                       period_end=date(2026, 9, 30), deadline=date(2026, 9, 30))
        session.add(rnd)
        session.flush()
        session.add(GovRoundAssignment(round_id=rnd.id, measure_code="T05-M01", org_code="miit"))
        return int(rnd.id)


def _new_round(world: World, tag: str) -> dict:
    _late_round(world, tag)
    return {"tag": tag}


def _miit_item(world: World, tag: str) -> dict:
    """A supervision item of unit miit (scanned by the office)."""
    from citycarbon.store.governance_models import GovSupervisionItem

    round_id = _late_round(world, tag)
    _svc("governance.supervision").scan(world.db, world.principal("admin"), "dalian", today=SCAN_DAY)
    with world.db.session() as session:
        item = session.scalars(select(GovSupervisionItem).where(GovSupervisionItem.round_id == round_id)).one()
        return {"item_id": int(item.id), "tag": tag}


def _item_state(world: World, obj: dict) -> tuple:
    from citycarbon.store.governance_models import GovSupervisionItem

    with world.db.session() as session:
        item = session.get(GovSupervisionItem, obj["item_id"])
        return item.state, item.answer, item.close_note


def _items(world: World) -> int:
    from citycarbon.store.governance_models import GovSupervisionItem

    with world.db.session() as session:
        return int(session.execute(select(func.count()).select_from(GovSupervisionItem)).scalar_one())


def _docx(world: World, tag: str) -> dict:
    import hashlib
    import io

    from docx import Document

    document = Document()
    document.add_paragraph(tag)
    buffer = io.BytesIO()
    document.save(buffer)
    content = buffer.getvalue()
    return {"content": content, "sha256": hashlib.sha256(content).hexdigest(), "tag": tag}


def _template(world: World) -> str | None:
    from citycarbon.store.governance_models import GovTemplate

    with world.db.session() as session:
        row = session.get(GovTemplate, ("dalian", "supervision_notice"))
        return row.sha256 if row else None


def _calendar_file(world: World, tag: str) -> dict:
    name = tag[-40:]
    return {"content": f"date,kind,name,source,status\n2031-01-01,holiday,{name},matrix,unverified\n".encode(),
            "name": name, "tag": tag}


def _calendar_day(world: World) -> str | None:
    from datetime import date

    from citycarbon.store.governance_models import GovCalendarDay

    with world.db.session() as session:
        row = session.get(GovCalendarDay, date(2031, 1, 1))
        return row.name_zh if row else None


def _miit_message(world: World, tag: str) -> dict:
    from citycarbon.services.governance import notify

    with world.db.session() as session:
        row = notify.post(session, "dalian", kind="matrix", message="supervision_closed", org_code="miit",
                          params={"measure": tag})
        return {"message_id": int(row.id), "tag": tag}


def _read_at(world: World, obj: dict) -> object:
    from citycarbon.store.governance_models import GovNotification

    with world.db.session() as session:
        return session.get(GovNotification, obj["message_id"]).read_at


SUPERVISION_CASES: dict[str, Case] = {
    "supervision.scan": Case(
        _new_round, lambda w, p, o: _svc("governance.supervision").scan(w.db, p, "dalian", today=SCAN_DAY),
        lambda w, o: _items(w), lambda w, o, r, b: _items(w) > b),
    "supervision.answer": Case(
        _miit_item, lambda w, p, o: _svc("governance.supervision").answer(w.db, p, "dalian", o["item_id"], "matrix"),
        _item_state, lambda w, o, r, b: _item_state(w, o)[0] == "answered"),
    "supervision.close": Case(
        _miit_item, lambda w, p, o: _svc("governance.supervision").close(w.db, p, "dalian", o["item_id"], "matrix"),
        _item_state, lambda w, o, r, b: _item_state(w, o)[0] == "closed"),
    "supervision.template": Case(
        _docx, lambda w, p, o: _svc("governance.supervision").upload_template(w.db, p, "dalian", o["content"],
                                                                                  filename="t.docx"),
        lambda w, o: _template(w), lambda w, o, r, b: _template(w) == o["sha256"]),
    "calendar.import": Case(
        _calendar_file, lambda w, p, o: _svc("governance.supervision").import_calendar(w.db, p, "dalian",
                                                                                          o["content"]),
        lambda w, o: _calendar_day(w), lambda w, o, r, b: _calendar_day(w) == o["name"]),
    "inbox.read": Case(
        _miit_message, lambda w, p, o: _svc("governance.inbox").mark_read(w.db, p, "dalian", [o["message_id"]]),
        _read_at, lambda w, o, r, b: _read_at(w, o) is not None),
}
CASES.update(SUPERVISION_CASES)


def _recompute(world: World, principal: Principal) -> str:
    job_id = _svc("jobs").submit_recompute(world.jobs, _Results(), principal)
    world.jobs.pool.submit(lambda: None).result()  # one worker: the job has run (its audit rows are written)
    return job_id


def _key_file(world: World) -> str | None:
    from citycarbon.store import totp_crypto

    path = totp_crypto.key_file(world.settings)
    return path.read_text() if path.exists() else None


# -- issue 14: the organisation registry and the responsibility matrix (services.governance.registry) ----------

ORG_HEADER = "code,name_zh,name_en,kind,parent,region_code,short_zh\n"


def _gov_org(world: World, tag: str) -> dict:
    """The water bureau with an English name distinct per caller (the same name again would be no change)."""
    name_en = f"Water Affairs {tag}"
    return {"code": "water", "name_en": name_en, "tag": tag,
            "content": (ORG_HEADER + f"water,大连市水务局,{name_en},department,leading_group,,市水务局\n").encode()}


def _gov_org_state(world: World, code: str = "water") -> tuple:
    from citycarbon.store import governance

    with world.db.session() as session:
        row = next(r for r in governance.org_rows(session, "dalian") if r.code == code)
        return row.version, row.name_en


def _matrix_xlsx(measure: Any, text_en: str) -> bytes:
    import io

    from openpyxl import Workbook

    from citycarbon.services.governance.registry import MATRIX_MEASURE_COLUMNS

    book = Workbook()
    sheet = book.active
    sheet.title = "措施"
    sheet.append(list(MATRIX_MEASURE_COLUMNS))
    sheet.append([measure.code, measure.task, measure.text_zh, measure.lead or "", ";".join(measure.co_units),
                  ";".join(measure.districts), measure.deadline or "",
                  ";".join(f"{y}:{t}" for y, t in measure.milestones.items()), text_en])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _gov_measure(code: str) -> Callable[[World, str], dict]:
    def setup(world: World, tag: str) -> dict:
        measure = _svc("governance.registry").get_measure(world.db, world.principal("admin"), "dalian", code).measure
        text_en = f"measure {tag}"
        return {"code": code, "text_en": text_en, "tag": tag, "text_zh": measure.text_zh, "lead": measure.lead or "",
                "co_units": list(measure.co_units), "districts": list(measure.districts),
                "deadline": measure.deadline or "", "content": _matrix_xlsx(measure, text_en)}

    return setup


def _gov_measure_state(world: World, code: str) -> tuple:
    from citycarbon.store import governance

    with world.db.session() as session:
        row = next(r for r in governance.measure_rows(session, "dalian") if r.code == code)
        return row.version, row.text_en


GOV_REGISTRY_CASES: dict[str, Case] = {
    "gov.org_edit": Case(
        _gov_org, lambda w, p, o: _svc("governance.registry").edit_org(
            w.db, p, "dalian", "water", {"name_en": o["name_en"]}, reason="matrix"),
        lambda w, o: _gov_org_state(w), lambda w, o, r, b: _gov_org_state(w)[1] == o["name_en"]),
    "gov.org_put": Case(
        _gov_org, lambda w, p, o: _svc("governance.registry").edit_org(
            w.db, p, "dalian", "water", {"name_zh": "大连市水务局", "kind": "department", "parent": "leading_group",
                                         "name_en": o["name_en"]}, reason="matrix", create=True),
        lambda w, o: _gov_org_state(w), lambda w, o, r, b: _gov_org_state(w)[1] == o["name_en"]),
    "gov.org_import": Case(
        _gov_org, lambda w, p, o: _svc("governance.registry").import_orgs(
            w.db, p, "dalian", o["content"], "orgs.csv", apply=True, reason="matrix"),
        lambda w, o: _gov_org_state(w), lambda w, o, r, b: _gov_org_state(w)[1] == o["name_en"]),
    "gov.measure_edit": Case(
        _gov_measure("T01-M01"), lambda w, p, o: _svc("governance.registry").edit_measure(
            w.db, p, "dalian", o["code"], {"text_en": o["text_en"]}, reason="matrix"),
        lambda w, o: _gov_measure_state(w, o["code"]),
        lambda w, o, r, b: _gov_measure_state(w, o["code"])[1] == o["text_en"]),
    "gov.matrix_import": Case(
        _gov_measure("T01-M02"), lambda w, p, o: _svc("governance.registry").import_matrix(
            w.db, p, "dalian", o["content"], "matrix.xlsx", apply=True, reason="matrix"),
        lambda w, o: _gov_measure_state(w, o["code"]),
        lambda w, o, r, b: _gov_measure_state(w, o["code"])[1] == o["text_en"]),
}
CASES.update(GOV_REGISTRY_CASES)
# -- issue 14: progress rounds (调度) and filings --------------------------------------------------------------

_ROUND_NUMBERS = iter(range(1, 99_999))
ROUND_MEASURE = "T04-M01"  # led by 工业和信息化局 (miit): dept-a's own, dept-b's (eco) another unit's


def _office():
    from citycarbon.auth.principal import Principal, Role

    return Principal(0, "matrix-office", Role.admin)


def _round_code(world: World, tag: str) -> dict:
    return {"code": f"m{next(_ROUND_NUMBERS)}", "tag": tag}


def _open(world: World, principal: Principal, code: str):
    return _svc("governance.rounds").open_round(
        world.db, principal, "dalian", code=code, period="monthly", period_start="2026-11-01",
        period_end="2026-11-30", deadline="2026-12-05", measures=[ROUND_MEASURE], include_co_units=False,
        include_districts=False)


def _miit_filing(world: World, tag: str, *, submitted: bool = False) -> dict:
    """A fresh round over one measure; its lead's (miit) filing, saved once (version 1), or submitted."""
    obj = _round_code(world, tag)
    _open(world, _office(), obj["code"])
    rounds = _svc("governance.rounds")
    filing = rounds.list_filings(world.db, _office(), "dalian", obj["code"], org="miit")[0]
    rounds.save_filing(world.db, _office(), "dalian", filing.id, version=0, status="in_progress",
                       narrative="matrix", submit=submitted)
    return {**obj, "filing_id": filing.id, "version": 1}


def _round_state(world: World, code: str) -> tuple:
    from citycarbon.store.governance_models import GovRound

    with world.db.session() as session:
        row = session.scalars(select(GovRound).where(GovRound.city == "dalian", GovRound.code == code)).first()
        return (None,) if row is None else (row.state, row.closed_at)


def _filing_state(world: World, filing_id: int) -> tuple:
    from citycarbon.store.governance_models import GovFiling, GovFilingAttachment, GovFilingVersion

    with world.db.session() as session:
        row = session.get(GovFiling, filing_id)
        versions = session.execute(select(func.count()).select_from(GovFilingVersion)
                                   .where(GovFilingVersion.filing_id == filing_id)).scalar_one()
        attachments = session.execute(select(func.count()).select_from(GovFilingAttachment)
                                      .where(GovFilingAttachment.filing_id == filing_id)).scalar_one()
        return (row.version, row.state, row.status, row.narrative, int(versions), int(attachments))


def _open_round(world: World, tag: str) -> dict:
    obj = _round_code(world, tag)
    _open(world, _office(), obj["code"])
    return obj


MATRIX_PDF = b"%PDF-1.4\n% permission matrix\n%%EOF\n"


def _save(submit: bool):
    def call(world: World, principal: Principal, obj: dict):
        return _svc("governance.rounds").save_filing(world.db, principal, "dalian", obj["filing_id"],
                                                     version=obj["version"], status="completed",
                                                     narrative="filed", submit=submit)
    return call


ROUND_CASES: dict[str, Case] = {
    "gov.round_open": Case(
        _round_code, lambda w, p, o: _open(w, p, o["code"]), lambda w, o: _round_state(w, o["code"]),
        lambda w, o, r, b: _round_state(w, o["code"])[0] == "open"),
    "gov.round_close": Case(
        _open_round,
        lambda w, p, o: _svc("governance.rounds").close_round(w.db, p, "dalian", o["code"]),
        lambda w, o: _round_state(w, o["code"]), lambda w, o, r, b: _round_state(w, o["code"])[0] == "closed"),
    "gov.filing_save": Case(
        _miit_filing, _save(False), lambda w, o: _filing_state(w, o["filing_id"]),
        lambda w, o, r, b: _filing_state(w, o["filing_id"])[:4] == (2, "draft", "completed", "filed")),
    "gov.filing_submit": Case(
        _miit_filing, _save(True), lambda w, o: _filing_state(w, o["filing_id"]),
        lambda w, o, r, b: _filing_state(w, o["filing_id"])[:4] == (2, "submitted", "completed", "filed")),
    "gov.filing_review": Case(
        lambda w, tag: _miit_filing(w, tag, submitted=True),
        lambda w, p, o: _svc("governance.rounds").review_filing(w.db, p, "dalian", o["filing_id"], version=1,
                                                                decision="return", comment="请补充"),
        lambda w, o: _filing_state(w, o["filing_id"]),
        lambda w, o, r, b: _filing_state(w, o["filing_id"])[:2] == (2, "returned")),
    "gov.filing_attach": Case(
        _miit_filing,
        lambda w, p, o: _svc("governance.rounds").attach_file(w.db, p, "dalian", o["filing_id"],
                                                              filename="evidence.pdf", content=MATRIX_PDF),
        lambda w, o: _filing_state(w, o["filing_id"]),
        lambda w, o, r, b: _filing_state(w, o["filing_id"])[5] == b[5] + 1),
}
CASES.update(ROUND_CASES)
# -- issue 15: the project registry (projects_registry) ----------------------------------------------------------

PROJECT_CSV_HEADER = ("项目名称 name,建设单位 applicant_name,统一社会信用代码 applicant_uscc,"
                      "建设地点行政区划代码 region_code,行业代码 industry_code,建设性质 kind,申请日期 application_date,"
                      "能源消费 energy\n")


def project_body(name: str) -> dict:
    """A project of district A whose applicant is enterprise X (its registry code)."""
    return {"name": name, "applicant_name": "X 企业", "applicant_uscc": X, "region_code": DISTRICT_A,
            "industry_code": "C2511", "kind": "new", "application_date": "2026-11-20",
            "energy": {"electricity": {"quantity": 100, "unit": "10^4 kWh"}}}


def _project_new(world: World, tag: str) -> dict:
    name = f"项目 {tag}"
    return {"name": name, "tag": tag, "body": project_body(name),
            "content": (PROJECT_CSV_HEADER + f"{name},X 企业,{X},{DISTRICT_A},C2511,新建,2026-11-20,"
                        "electricity:100 10^4 kWh\n").encode()}


def _project_draft(world: World, tag: str) -> dict:
    """A stored draft of district A, enterprise X (version 1), to be renamed ``name``."""
    from datetime import date

    from citycarbon.projects.model import Project, ProjectKind, Quantity
    from citycarbon.store import projects as store
    from citycarbon.store.project_models import ProjProject

    project = Project(id="", name=f"草稿 {tag}", applicant_name="X 企业", applicant_uscc=X, region_code=DISTRICT_A,
                      industry_code="C2511", kind=ProjectKind.new, application_date=date(2026, 11, 20),
                      energy={"electricity": Quantity(100, "10^4 kWh")})
    with world.db.session(write=True) as session:
        code = store.next_code(session, "dalian", 2026)
        row = ProjProject(city="dalian", code=code, state="draft", enterprise_id=X, data=store.project_data(project),
                          submitted_by="test", **{n: getattr(project, n) for n in store.PROJECT_COLUMNS})
        store.save_project(session, row, 0, {}, by="test")
    return {"code": code, "name": f"改名 {tag}", "tag": tag}


def _projects_named(world: World, name: str) -> int:
    from citycarbon.store.project_models import ProjProject

    with world.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(ProjProject).where(ProjProject.name == name)) or 0)


def _project_state(world: World, code: str) -> tuple:
    from citycarbon.store.project_models import ProjProject

    with world.db.session() as session:
        row = session.scalar(select(ProjProject).where(ProjProject.code == code))
        return row.version, row.name


PROJECT_CASES: dict[str, Case] = {
    "project.create": Case(
        _project_new, lambda w, p, o: _svc("projects.registry").create_project(w.db, p, "dalian", o["body"]),
        lambda w, o: _projects_named(w, o["name"]), lambda w, o, r, b: _projects_named(w, o["name"]) == 1),
    "project.edit": Case(
        _project_draft, lambda w, p, o: _svc("projects.registry").edit_project(
            w.db, p, "dalian", o["code"], {"name": o["name"]}, version=1),
        lambda w, o: _project_state(w, o["code"]), lambda w, o, r, b: _project_state(w, o["code"]) == (2, o["name"])),
    "project.import": Case(
        _project_new, lambda w, p, o: _svc("projects.registry").import_projects(
            w.db, p, "dalian", o["content"], "projects.csv", apply=True),
        lambda w, o: _projects_named(w, o["name"]), lambda w, o, r, b: _projects_named(w, o["name"]) == 1),
}
CASES.update(PROJECT_CASES)
# -- issue 15: the replacement ledgers (services.projects.ledgers): the office only --------------------------------

LEDGER_REGION = "210281"  # 瓦房店市 (长兴岛): the example project's district


def _ledger_code(tag: str) -> str:
    return "L-" + tag.replace("_", "-")[-50:]


def _ledger_source(world: World, code: str, amount: str = "1000") -> None:
    _svc("projects.ledgers").add_source(world.db, _office(), "dalian", {
        "code": code, "kind": "energy", "amount": amount, "unit": "tce", "origin": "closure",
        "document": "大工信发〔2026〕1号", "region_code": LEDGER_REGION})


def _ledger_project(world: World, tag: str) -> str:
    from tests.projects.support import chemical_project, insert_project

    return insert_project(world.db, chemical_project(id=f"XM-{tag}"[:60]))


def _ledger_new(world: World, tag: str) -> dict:
    code = _ledger_code(tag)
    values = {"code": code, "kind": "energy", "amount": "500", "unit": "tce", "origin": "saving",
              "document": "节能量确认〔2026〕2号", "region_code": LEDGER_REGION}
    header = ",".join(values)
    return {"source": code, "values": values, "tag": tag,
            "content": (header + "\n" + ",".join(values.values()) + "\n").encode()}


def _ledger_existing(world: World, tag: str) -> dict:
    code = _ledger_code(tag)
    _ledger_source(world, code)
    return {"source": code, "amount": "1200", "tag": tag}


def _ledger_to_allocate(world: World, tag: str) -> dict:
    code = _ledger_code(tag)
    _ledger_source(world, code)
    return {"source": code, "code": _ledger_project(world, tag), "project_code": None, "tag": tag}


def _ledger_allocated(world: World, tag: str) -> dict:
    obj = _ledger_to_allocate(world, tag)
    made = _svc("projects.ledgers").allocate(world.db, _office(), "dalian", obj["code"], obj["source"], "100", "tce")
    return {**obj, "allocation_id": made.allocation.id}


def _ledger_state(world: World, code: str) -> tuple:
    from citycarbon.store.project_models import ProjLedgerAllocation, ProjLedgerSource

    with world.db.session() as session:
        row = session.scalars(select(ProjLedgerSource).where(ProjLedgerSource.city == "dalian",
                                                              ProjLedgerSource.code == code)).one_or_none()
        if row is None:
            return (None,)
        live = session.scalars(select(ProjLedgerAllocation.amount).where(
            ProjLedgerAllocation.source_id == row.id, ProjLedgerAllocation.released_at.is_(None))).all()
        return row.amount, row.version, tuple(sorted(live))


LEDGER_CASES: dict[str, Case] = {
    "ledger.add_source": Case(
        _ledger_new, lambda w, p, o: _svc("projects.ledgers").add_source(w.db, p, "dalian", o["values"]),
        lambda w, o: _ledger_state(w, o["source"]), lambda w, o, r, b: _ledger_state(w, o["source"])[0] == "500"),
    "ledger.edit_source": Case(
        _ledger_existing, lambda w, p, o: _svc("projects.ledgers").edit_source(
            w.db, p, "dalian", o["source"], {"amount": o["amount"]}, reason="matrix"),
        lambda w, o: _ledger_state(w, o["source"]), lambda w, o, r, b: _ledger_state(w, o["source"])[0] == "1200"),
    "ledger.import": Case(
        _ledger_new, lambda w, p, o: _svc("projects.ledgers").import_sources(
            w.db, p, "dalian", o["content"], "ledger.csv", apply=True, reason="matrix"),
        lambda w, o: _ledger_state(w, o["source"]), lambda w, o, r, b: _ledger_state(w, o["source"])[0] == "500"),
    "ledger.allocate": Case(
        _ledger_to_allocate, lambda w, p, o: _svc("projects.ledgers").allocate(
            w.db, p, "dalian", o["code"], o["source"], "250", "tce"),
        lambda w, o: _ledger_state(w, o["source"]),
        lambda w, o, r, b: _ledger_state(w, o["source"])[2] == ("250",)),
    "ledger.release": Case(
        _ledger_allocated, lambda w, p, o: _svc("projects.ledgers").release(
            w.db, p, "dalian", o["allocation_id"], "matrix"),
        lambda w, o: _ledger_state(w, o["source"]), lambda w, o, r, b: _ledger_state(w, o["source"])[2] == ()),
}
CASES.update(LEDGER_CASES)


# -- issue 15 item 5: the project workflow (project_workflow) -----------------------------------------------------
# The object: a project of district A whose applicant is enterprise X, in the state the step starts from.

def _project(state: str, **extra: Any) -> Callable[[World, str], dict]:
    def setup(world: World, tag: str) -> dict:
        from citycarbon.services.projects.evaluate import evaluate
        from citycarbon.store.project_models import ProjProject
        from tests.projects.support import chemical_project, insert_project

        project = chemical_project(region_code=DISTRICT_A)
        code = insert_project(world.db, project, state=state, enterprise_id=X)
        if extra:
            with world.db.session() as session:
                row = session.scalars(select(ProjProject).where(ProjProject.code == code)).one()
                row.approved = {"summary": evaluate("dalian", project).summary()}
                row.decision, row.decision_no = "approve", "N1"
                row.data = {**row.data, **extra}
        return {"code": code, "tag": tag}
    return setup


def _workflow_state(world: World, obj: dict) -> tuple:
    from citycarbon.store.project_models import ProjEvent, ProjProject

    with world.db.session() as session:
        row = session.scalars(select(ProjProject).where(ProjProject.code == obj["code"])).one()
        events = session.scalar(select(func.count()).select_from(ProjEvent).where(ProjEvent.project_id == row.id))
        return row.state, row.version, events


def _wf(name: str) -> Callable[..., Any]:
    return getattr(_svc("projects.workflow"), name)


def _moved(to: str) -> Callable[[World, dict, Any, Any], bool]:
    return lambda w, o, r, b: _workflow_state(w, o)[0] == to


PROJECT_WORKFLOW_CASES: dict[str, Case] = {
    "project.submit": Case(_project("draft"), lambda w, p, o: _wf("submit")(w.db, p, "dalian", o["code"]),
                           _workflow_state, _moved("submitted")),
    "project.complete": Case(_project("submitted"),
                             lambda w, p, o: _wf("check_completeness")(w.db, p, "dalian", o["code"]),
                             _workflow_state, _moved("under_review")),
    "project.comment": Case(_project("under_review"),
                            lambda w, p, o: _wf("comment")(w.db, p, "dalian", o["code"], "matrix"),
                            _workflow_state, lambda w, o, r, b: _workflow_state(w, o)[2] == b[2] + 1),
    "project.decide": Case(_project("under_review"),
                           lambda w, p, o: _wf("decide")(w.db, p, "dalian", o["code"], decision="reject",
                                                         number="N-matrix", day=SCAN_DAY, reason="matrix"),
                           _workflow_state, _moved("rejected")),
    "project.commission": Case(_project("approved"),
                               lambda w, p, o: _wf("commission")(w.db, p, "dalian", o["code"], day=SCAN_DAY),
                               _workflow_state, _moved("commissioned")),
    "project.accept": Case(_project("commissioned", commissioning={"date": "2026-01-01", "enterprise_id": X}),
                           lambda w, p, o: _wf("accept")(w.db, p, "dalian", o["code"], measured=8000.0,
                                                         source="matrix"),
                           _workflow_state, _moved("accepted")),
    "project.withdraw": Case(_project("submitted"), lambda w, p, o: _wf("withdraw")(w.db, p, "dalian", o["code"]),
                             _workflow_state, _moved("withdrawn")),
}
CASES.update(PROJECT_WORKFLOW_CASES)


# -- issue 15 item 6: the energy-project registry (services.projects.energy_projects) ---------------------------

def _energy_count(world: World, name: str) -> int:
    from sqlalchemy import func as sa_func

    from citycarbon.store.project_models import EnergyProject

    with world.db.session() as session:
        return int(session.scalar(select(sa_func.count()).select_from(EnergyProject)
                                  .where(EnergyProject.name == name)) or 0)


def _energy_new(world: World, tag: str) -> dict:
    name = f"矩阵风电 {tag}"
    return {"tag": tag, "name": name,
            "content": f"name,technology,region_code,capacity_mw\n{name},wind_onshore,{DISTRICT_A},10\n".encode()}


def _energy_project(world: World, tag: str) -> dict:
    """A planned wind project of district A, registered by the office."""
    view = _svc("projects.energy_projects").register_energy_project(
        world.db, world.principal("admin"), "dalian", {"name": f"矩阵项目 {tag}", "technology": "wind_onshore",
                                                       "region_code": DISTRICT_A, "capacity_mw": 10})
    return {"tag": tag, "code": view.code, "capacity": 10 + len(tag) % 7 + 1}


def _energy_state(world: World, code: str) -> tuple:
    from citycarbon.store.project_models import EnergyProject

    with world.db.session() as session:
        row = session.scalars(select(EnergyProject).where(EnergyProject.code == code)).one()
        return row.version, row.stage, row.capacity_mw


ENERGY_CASES: dict[str, Case] = {
    "energy_project.create": Case(
        _energy_new, lambda w, p, o: _svc("projects.energy_projects").register_energy_project(
            w.db, p, "dalian", {"name": o["name"], "technology": "wind_onshore", "region_code": DISTRICT_A,
                                "capacity_mw": 10}),
        lambda w, o: _energy_count(w, o["name"]), lambda w, o, r, b: _energy_count(w, o["name"]) == 1),
    "energy_project.edit": Case(
        _energy_project, lambda w, p, o: _svc("projects.energy_projects").update_energy_project(
            w.db, p, "dalian", o["code"], {"capacity_mw": o["capacity"]}, version=1, reason="matrix"),
        lambda w, o: _energy_state(w, o["code"]),
        lambda w, o, r, b: _energy_state(w, o["code"])[2] == o["capacity"]),
    "energy_project.stage": Case(
        _energy_project, lambda w, p, o: _svc("projects.energy_projects").move_stage(
            w.db, p, "dalian", o["code"], "approved", on="2026-01-05", version=1),
        lambda w, o: _energy_state(w, o["code"]),
        lambda w, o, r, b: _energy_state(w, o["code"])[1] == "approved"),
    "energy_project.import": Case(
        _energy_new, lambda w, p, o: _svc("projects.energy_projects").import_energy_projects(
            w.db, p, "dalian", o["content"], "energy.csv", apply=True, reason="matrix"),
        lambda w, o: _energy_count(w, o["name"]), lambda w, o, r, b: _energy_count(w, o["name"]) == 1),
}
CASES.update(ENERGY_CASES)


# -- issue 16 (runs): assessment runs (services.assessment.runs) -------------------------------------------------
# The object: a draft run of 2024 under a scheme of its own (code from the tag, the hand-worked test scheme) over
# the seeded registry's districts and pilot zones; the unit is 中山区 (d210202, district A). No collector fills the
# test scheme's facts: every data item is missing, which changes nothing about who may do what.

ASSESS_UNIT = "d210202"


def _assess_code(tag: str) -> str:
    import re

    return ("m-" + re.sub(r"[^a-z0-9_-]", "-", tag.lower()))[:64]


def _assess_scheme_text(code: str) -> str:
    from tests.assessment.runs_support import SCHEME

    return SCHEME.replace("code: handtest", f"code: {code}")


def _assess_new(world: World, tag: str) -> dict:
    code = _assess_code(tag)
    return {"tag": tag, "scheme": code, "text": _assess_scheme_text(code)}


def _assess_run(*, objection: bool = False) -> Callable[[World, str], dict]:
    def setup(world: World, tag: str) -> dict:
        runs = _svc("assessment.runs")
        obj = _assess_new(world, tag)
        admin = world.principal("admin")
        runs.register_scheme(world.db, admin, "dalian", obj["text"], f"{obj['scheme']}.yaml")
        view = runs.run_assessment(world.db, admin, "dalian", 2024, scheme=obj["scheme"])
        obj.update(run_id=view.run.id, version=view.run.version, unit=ASSESS_UNIT)
        if objection:
            found = runs.object_to(world.db, world.principal("district-a"), "dalian", view.run.id, ASSESS_UNIT,
                                   text="matrix")
            obj["objection_id"] = found.id
        return obj
    return setup


def _assess_state(world: World, obj: dict) -> tuple:
    from citycarbon.store.assessment_models import AssessAdjustment, AssessObjection, AssessRun, AssessScheme

    with world.db.session() as session:
        schemes = session.scalar(select(func.count()).select_from(AssessScheme)
                                 .where(AssessScheme.code == obj["scheme"]))
        found = [(r.id, r.state, r.version) for r in session.scalars(
            select(AssessRun).where(AssessRun.scheme_code == obj["scheme"]).order_by(AssessRun.id))]
        ids = [r[0] for r in found]
        adjustments = session.scalar(select(func.count()).select_from(AssessAdjustment)
                                     .where(AssessAdjustment.run_id.in_(ids or [0])))
        objections = tuple(session.scalars(select(AssessObjection.state).where(AssessObjection.run_id.in_(ids or [0]))
                                           .order_by(AssessObjection.id)))
    return int(schemes or 0), tuple(found), int(adjustments or 0), objections


ASSESS_CASES: dict[str, Case] = {
    "assessment.scheme": Case(
        _assess_new, lambda w, p, o: _svc("assessment.runs").register_scheme(w.db, p, "dalian", o["text"],
                                                                             f"{o['scheme']}.yaml"),
        _assess_state, lambda w, o, r, b: _assess_state(w, o)[0] == 1),
    "assessment.run": Case(
        _assess_run(), lambda w, p, o: _svc("assessment.runs").run_assessment(w.db, p, "dalian", 2024,
                                                                              scheme=o["scheme"]),
        _assess_state, lambda w, o, r, b: len(_assess_state(w, o)[1]) == len(b[1]) + 1),
    "assessment.adjust": Case(
        _assess_run(), lambda w, p, o: _svc("assessment.runs").adjust(
            w.db, p, "dalian", o["run_id"], o["unit"], "q", points="20", reason="matrix", version=o["version"]),
        _assess_state, lambda w, o, r, b: _assess_state(w, o)[2] == b[2] + 1),
    "assessment.object": Case(
        _assess_run(), lambda w, p, o: _svc("assessment.runs").object_to(w.db, p, "dalian", o["run_id"], o["unit"],
                                                                         text="matrix"),
        _assess_state, lambda w, o, r, b: len(_assess_state(w, o)[3]) == len(b[3]) + 1),
    "assessment.answer": Case(
        _assess_run(objection=True), lambda w, p, o: _svc("assessment.runs").answer_objection(
            w.db, p, "dalian", o["run_id"], o["objection_id"], decision="rejected", answer="matrix"),
        _assess_state, lambda w, o, r, b: _assess_state(w, o)[3] == ("rejected",)),
    "assessment.publish": Case(
        _assess_run(), lambda w, p, o: _svc("assessment.runs").publish(w.db, p, "dalian", o["run_id"],
                                                                       version=o["version"], note="matrix",
                                                                       early=True),
        _assess_state, lambda w, o, r, b: _assess_state(w, o)[1][-1][1] == "published"),
}
CASES.update(ASSESS_CASES)
# -- issue 16 (reports): the city's yearly report (a job) and its narrative ---------------------------------------

def _report_documents(world: World) -> int:
    from citycarbon.store.assessment_models import ReportDocument

    with world.db.session() as session:
        return int(session.execute(select(func.count()).select_from(ReportDocument)).scalar_one())


def _report_narrative(world: World) -> tuple:
    from citycarbon.store.assessment_models import ReportNarrative

    with world.db.session() as session:
        row = session.scalars(select(ReportNarrative).where(
            ReportNarrative.city == "dalian", ReportNarrative.year == 2024, ReportNarrative.org_code == "",
            ReportNarrative.section == "problems")).one_or_none()
        return (0, "") if row is None else (row.version, row.text)


def _report_generate(world: World, principal: Principal) -> str:
    job_id = _svc("reports.generate").submit_report(world.jobs, world.db, principal, "dalian", 2024, ["docx"])
    world.jobs.pool.submit(lambda: None).result()  # one worker: the job has run
    return str(job_id)


REPORT_CASES: dict[str, Case] = {
    "report.generate": Case(
        _no_object, lambda w, p, o: _report_generate(w, p), lambda w, o: _report_documents(w),
        lambda w, o, r, b: bool(r) and _report_documents(w) == b + 1),
    "report.narrative": Case(
        lambda w, tag: {"tag": tag, "version": _report_narrative(w)[0]},
        lambda w, p, o: _svc("reports.narratives").set_narrative(w.db, p, "dalian", 2024, "problems", o["tag"],
                                                                 version=o["version"]),
        lambda w, o: _report_narrative(w), lambda w, o, r, b: _report_narrative(w)[1] == o["tag"]),
}
CASES.update(REPORT_CASES)


# -- issue 16 (web): report.generate through the cockpit starts the job and answers at once (303): the state counts
# the jobs too (created before the answer), and the setup waits until no earlier report job runs, so a job still
# rendering from the previous caller cannot change a later caller's "before".

def _report_jobs(world: World) -> tuple[int, int]:
    from citycarbon.store.models import Job

    with world.db.session() as session:
        kinds = select(func.count()).select_from(Job).where(Job.kind == "report.annual")
        running = session.execute(kinds.where(Job.status.in_(("queued", "running")))).scalar_one()
        return int(session.execute(kinds).scalar_one()), int(running)


def _report_idle(world: World, tag: str) -> dict:
    import time

    for _ in range(1200):
        if _report_jobs(world)[1] == 0:
            break
        time.sleep(0.1)
    return {"tag": tag}


CASES["report.generate"] = Case(
    _report_idle, lambda w, p, o: _report_generate(w, p),
    lambda w, o: (_report_documents(w), _report_jobs(w)[0]),
    lambda w, o, r, b: bool(r) and _report_documents(w) == b[0] + 1)
