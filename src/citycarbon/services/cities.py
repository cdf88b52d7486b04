"""Explicit cities as a service: create a city from its plan file, list cities, the city scope of every caller.

One deployment holds several cities (a province has 14). A city is its plan (``plans`` row, keyed by the plan's
code, e.g. ``dalian``), its region (GB/T 2260) and its accounting profile; its data are the ledger rows of its
region, which start EMPTY: nothing of another city is copied or borrowed, and a service asked for data the
city lacks raises an :class:`~citycarbon.errors.InputError` naming what is missing.

Scope, applied here once (:func:`require_city`): a user scoped to a city (``users.city``) reads and writes
only that city; an unscoped caller (the deployment's administrators, the CLI) reaches every city. Creating a
city is for the deployment's administrators (:meth:`Principal.can_manage_cities`).

:func:`accounting_profile` is the one place a city's stored accounting options are read (``None``: the city
has no stored profile; the shipped ``data/<city>/accounting.yaml`` or the documented defaults apply).
"""

from __future__ import annotations

import re
import tempfile
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from citycarbon.auth.principal import Principal
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem
from citycarbon.plan import Plan, load_plan
from citycarbon.plan.load import shipped_plans, validate_plan_file
from citycarbon.settings import Settings
from citycarbon.store import cities as store_cities
from citycarbon.store import ledger
from citycarbon.store.db import Database

__all__ = ["CityInfo", "accounting_profile", "assign_user_city", "city_info", "init_city", "list_cities",
           "plan_for", "require_city"]

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
#: the ledger datasets a city's accounting and tracking read, in the order a missing one is reported
DATA_TABLES: tuple[str, ...] = ("balance", "statistics")


@dataclass(frozen=True)
class CityInfo:
    """A city of the deployment and what its ledger holds."""

    code: str
    region_code: str
    city: str
    city_en: str
    title_zh: str
    base_year: int
    targets: int
    datasets: dict[str, int]
    accounting: dict[str, Any] | None
    created_by: str | None

    @property
    def has_data(self) -> bool:
        return all(self.datasets.get(name, 0) > 0 for name in DATA_TABLES)

    @property
    def missing(self) -> list[str]:
        """The datasets the city still lacks (accounting and tracking need them)."""
        return [name for name in DATA_TABLES if self.datasets.get(name, 0) == 0]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "has_data": self.has_data, "missing": self.missing}


def _database(db: Database | None) -> tuple[Database, bool]:
    if db is not None:
        return db, False
    return Database(Settings.from_env()), True


def require_city(principal: Principal, city: str) -> None:
    """Refuse (:class:`Forbidden`) a caller scoped to another city."""
    if not principal.can_access_city(city):
        raise Forbidden(f"you are scoped to city '{principal.city}', not '{city}'", code="city_scope")


def _counts(session: Any, region: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from citycarbon.store.models import Observation

    rows = session.execute(select(Observation.dataset, func.count()).where(
        Observation.region == region, Observation.superseded_at.is_(None)).group_by(Observation.dataset))
    return {str(name): int(count) for name, count in rows}


def _info(session: Any, record: Any) -> CityInfo:
    from sqlalchemy import func, select

    from citycarbon.store.models import TargetRecord

    targets = session.execute(select(func.count()).select_from(TargetRecord)
                              .where(TargetRecord.plan_id == record.id)).scalar_one()
    profile = store_cities.profile(session, record.code)
    return CityInfo(record.code, record.region_code, record.city, record.city_en, record.title_zh,
                    int(record.base_year), int(targets), _counts(session, record.region_code),
                    None if profile is None else profile.accounting,
                    None if profile is None else profile.created_by)


def list_cities(db: Database, principal: Principal) -> list[CityInfo]:
    """The cities the caller may see (a scoped user: its own city only)."""
    with db.session() as session:
        return [_info(session, r) for r in store_cities.list_plans(session) if principal.can_access_city(r.code)]


def city_info(db: Database, principal: Principal, city: str) -> CityInfo:
    """One city (scope checked first: a scoped user asking for another city is refused)."""
    require_city(principal, city)
    with db.session() as session:
        record = store_cities.plan_record(session, city)
        if record is None:
            raise NotFound("city not found")
        return _info(session, record)


def _read_profile(path: Path) -> dict[str, Any]:
    """An accounting profile file (``data/<city>/accounting.yaml``'s format) → its options, validated."""
    from pydantic import ValidationError

    from citycarbon.accounting import AccountingOptions

    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(Problem("accounting profile not found", file=str(path))) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise InputError(Problem(f"not valid YAML: {error}", file=name)) from None
    options = raw.get("options", raw) if isinstance(raw, dict) else None
    if not isinstance(options, dict):
        raise InputError(Problem("expected a mapping of accounting options", file=name, field="options"))
    values = dict(options)
    if "combustion_transformations" in values and isinstance(values["combustion_transformations"], list):
        values["combustion_transformations"] = tuple(values["combustion_transformations"])
    try:
        AccountingOptions(**values)
    except ValidationError as exc:
        raise InputError([Problem(e["msg"], file=name, field="options." + ".".join(map(str, e["loc"])))
                          for e in exc.errors()]) from None
    except TypeError as exc:
        raise InputError(Problem(str(exc), file=name, field="options")) from None
    return dict(options)


#: the levels a city's own regions may have (GB/T 2260 districts and counties)
REGION_LEVELS = ("district", "county")
REGION_FILE_COLUMNS = ("code", "name_zh", "name_en", "level")
_GBT2260 = re.compile(r"^[0-9]{6}$")


def read_regions_file(path: str | Path, city_region: str) -> list[dict[str, str]]:
    """A city's districts and counties from a CSV (columns ``code,name_zh,name_en,level`` and optional
    ``notes``; the format of ``data/codelists/regions.csv`` without ``parent``, which is the city's region).

    Codes are GB/T 2260 (six digits) under the city: the first four digits are the city's. Every problem is an
    :class:`InputError` naming the file, the spreadsheet row (the header is row 1) and the field."""
    from citycarbon.importers.csvfile import read_csv_rows
    from citycarbon.importers.schemas import row_numbers

    source = Path(path).name
    frame = read_csv_rows(path, source)
    missing = [c for c in REGION_FILE_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError([Problem(f"missing column '{c}'", message_zh=f"缺少列 '{c}'", file=source, field=c)
                          for c in missing])
    problems: list[Problem] = []
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for row_number, record in zip(row_numbers(frame), frame.to_dict("records"), strict=True):
        text = {k: "" if v is None or (isinstance(v, float) and v != v) else str(v).strip() for k, v in record.items()}
        row = int(row_number)
        code = text["code"]
        if not _GBT2260.match(code) or code[:4] != city_region[:4] or code == city_region:
            problems.append(Problem(f"region code '{code}' is not a GB/T 2260 district or county code of the city "
                                    f"{city_region} (six digits starting with {city_region[:4]})",
                                    message_zh=f"地区代码 '{code}' 不是本市（{city_region}）的 GB/T 2260 区县代码"
                                    f"（以 {city_region[:4]} 开头的六位数字）", field="code", value=code,
                                    file=source, row=row))
        elif code in seen:
            problems.append(Problem(f"region code '{code}' is listed twice", message_zh=f"地区代码 '{code}' 重复",
                                    field="code", value=code, file=source, row=row))
        seen.add(code)
        if text["level"] not in REGION_LEVELS:
            problems.append(Problem(f"level must be one of {', '.join(REGION_LEVELS)}",
                                    message_zh=f"level 须为 {', '.join(REGION_LEVELS)} 之一", field="level",
                                    value=text["level"], file=source, row=row))
        for column in ("name_zh", "name_en"):
            if not text[column]:
                problems.append(Problem(f"{column} is empty", message_zh=f"{column} 为空", field=column,
                                        file=source, row=row))
        rows.append({"code": code, "name_zh": text["name_zh"], "name_en": text["name_en"], "level": text["level"],
                     "notes": text.get("notes", "")})
    if not rows and not problems:
        problems.append(Problem("the regions file lists no region", message_zh="地区文件没有列出任何地区",
                                file=source))
    if problems:
        raise InputError(problems)
    return rows


def init_city(db: Database, principal: Principal, plan_file: str | Path, *, accounting_file: str | Path | None = None,
              code: str | None = None, regions_file: str | Path | None = None) -> CityInfo:
    """Create a city from ``plan_file`` (validated by :func:`citycarbon.plan.validate_plan_file`) with an EMPTY
    ledger and, when given, the accounting profile of ``accounting_file`` and its districts and counties from
    ``regions_file`` (:func:`read_regions_file`), which the import's region checks then accept.
    ``code`` defaults to the file's stem.

    Refused (:class:`Forbidden`) for anyone but the deployment's administrators; :class:`Conflict` when the
    code or the region is taken; :class:`InputError` (file, line, field) for a bad plan or profile."""
    if not principal.can_manage_cities():
        raise Forbidden("only the deployment's administrators create cities", code="cities_admin")
    path = Path(plan_file)
    plan = validate_plan_file(path)
    code = (code or path.stem).strip().lower()
    if not CODE_PATTERN.match(code):
        raise InputError(Problem("a city code is 2–64 lower-case letters, digits or _ starting with a letter",
                                 field="code", value=code))
    accounting = _read_profile(Path(accounting_file)) if accounting_file is not None else None
    regions = read_regions_file(regions_file, plan.meta.region_code) if regions_file is not None else []
    document = path.read_text(encoding="utf-8")
    with db.session(write=True) as session:
        if store_cities.plan_record(session, code) is not None:
            raise Conflict(f"city '{code}' exists", code="city_exists")
        taken = [r.code for r in store_cities.list_plans(session) if r.region_code == plan.meta.region_code]
        if taken:
            raise Conflict(f"region {plan.meta.region_code} is already city '{taken[0]}'", code="city_region_taken")
        parent = plan.meta.region_code[:2] + "0000"
        record = store_cities.record_city(
            session, code=code, plan=plan, document=document, accounting=accounting,
            accounting_source=None if accounting_file is None else Path(accounting_file).name, actor=principal,
            parent_code=parent)
        if regions:
            store_cities.record_regions(session, code=code, parent_code=plan.meta.region_code, regions=regions,
                                        actor=principal,
                                        source=None if regions_file is None else Path(regions_file).name)
        info = _info(session, record)
    _forget_plan(code)
    return info


def assign_user_city(db: Database, principal: Principal, username: str, city: str | None) -> dict[str, Any]:
    """Scope ``username`` to ``city`` (None: every city). The deployment's administrators only; audited."""
    from citycarbon.store import audit
    from citycarbon.store import users as store_users

    if not principal.can_manage_cities():
        raise Forbidden("only the deployment's administrators scope users to cities", code="cities_admin")
    with db.session(write=True) as session:
        user = store_users.get_user(session, username)
        if user is None:
            raise NotFound(f"no user '{username}'")
        if city is not None and store_cities.plan_record(session, city) is None:
            known = [r.code for r in store_cities.list_plans(session)]
            from citycarbon.codelists import nearest

            raise InputError(Problem(f"no city '{city}'", field="city", value=city, suggestion=nearest(city, known)))
        before = user.city
        user.city = city
        session.flush()
        audit.record(session, principal, "user.city", "user", user.id, {"city": before}, {"city": city})
        return {"username": user.username, "city": city}


# -- reading a city's plan and profile (every face, the library, tracking) ------------------------------------

_plans: dict[tuple[str, str], Plan] = {}
_plans_lock = threading.Lock()


def _forget_plan(code: str) -> None:
    with _plans_lock:
        for key in [k for k in _plans if k[0] == code]:
            del _plans[key]


@lru_cache(maxsize=16)
def _shipped_plan(city: str, mtime_ns: int) -> Plan:
    """A shipped plan, parsed once per file version (the pages ask for it on every request)."""
    return load_plan(city)


def plan_for(city: str, db: Database | None = None) -> Plan:
    """The plan of ``city``: the shipped ``data/plans/<city>.yaml`` when there is one, else the plan stored by
    :func:`init_city` (validated again, cached per document hash). :class:`InputError` names the known cities."""
    if city in shipped_plans():
        from citycarbon.plan.load import resolve_plan_path

        path = resolve_plan_path(city)
        return _shipped_plan(city, path.stat().st_mtime_ns)
    database, own = _database(db)
    try:
        with database.session() as session:
            record = store_cities.plan_record(session, city)
            known = [r.code for r in store_cities.list_plans(session)]
            document, digest = (record.document, record.sha256) if record is not None else (None, "")
    except Exception as error:  # no database, or one without the tables: the city is simply unknown
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(error, SQLAlchemyError):
            raise
        document, known = None, []
    finally:
        if own:
            database.dispose()
    if document is None:
        from citycarbon.codelists import nearest

        raise InputError(Problem(f"no city '{city}' (shipped: {', '.join(shipped_plans())}; stored: "
                                 f"{', '.join(known) or 'none'}; create it with `citycarbon city init`)",
                                 field="city", value=city, suggestion=nearest(city, [*shipped_plans(), *known])))
    with _plans_lock:
        hit = _plans.get((city, digest))
    if hit is not None:
        return hit
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{city}.yaml"
        path.write_text(document, encoding="utf-8")
        plan = validate_plan_file(path)
    with _plans_lock:
        _plans[(city, digest)] = plan
    return plan


def accounting_profile(city: str, db: Database | None = None) -> dict[str, Any] | None:
    """The accounting options stored for ``city`` (the mapping given to ``city init --accounting``), or None when
    the city has none stored (or there is no database): the caller then uses the shipped profile or defaults."""
    from sqlalchemy.exc import SQLAlchemyError

    from citycarbon.services.sources import database_exists

    if db is None and not database_exists():
        return None
    database, own = _database(db)
    try:
        with database.session() as session:
            profile = store_cities.profile(session, city)
            return None if profile is None or profile.accounting is None else dict(profile.accounting)
    except SQLAlchemyError:
        return None
    finally:
        if own:
            database.dispose()


def missing_data(db: Database, city: str) -> list[str]:
    """The ledger datasets ``city`` lacks (empty when accounting and tracking can run)."""
    with db.session() as session:
        region = ledger.city_region(session, city)
        counts = _counts(session, region)
    return [name for name in DATA_TABLES if counts.get(name, 0) == 0]


def city_rows(frame: Any, name: str, region: str) -> Any:
    """The rows of a ledger table (``monthly``, ``districts``) that belong to the city of ``region``: its own
    rows (monthly) or its districts' (districts), never another city's."""
    if frame is None or frame.empty or "region" not in frame.columns:
        return frame
    codes = frame["region"].astype(str)
    if name == "districts":
        from citycarbon.tracking.districts import district_codes

        try:
            keep = set(district_codes(region)) | {str(region)}
        except (KeyError, InputError):
            keep = {str(region)}
        return frame[codes.isin(keep)].reset_index(drop=True)
    return frame[codes == str(region)].reset_index(drop=True)


def require_data(session: Any, city: str) -> None:
    """Raise :class:`InputError` naming the datasets a stored ``city`` lacks (nothing when the city is not
    stored: the caller's own message about a missing plan applies)."""
    record = store_cities.plan_record(session, city)
    if record is None:
        return
    counts = _counts(session, record.region_code)
    missing = [name for name in DATA_TABLES if counts.get(name, 0) == 0]
    if missing:
        raise InputError(Problem(
            f"city '{city}' ({record.region_code}) has no {' and no '.join(missing)} in the ledger: import its own "
            f"data (`citycarbon data import FILE --dataset {missing[0]}` or the web's 导入); no other city's data "
            "are used", field="dataset", value=missing[0]))


def init_city_text(db: Database, principal: Principal, *, code: str, plan: str,
                   accounting: str | None = None) -> CityInfo:
    """:func:`init_city` from the texts of the plan and the profile (an upload); errors name ``<code>.yaml``."""
    if not principal.can_manage_cities():
        raise Forbidden("only the deployment's administrators create cities", code="cities_admin")
    if not CODE_PATTERN.match(code or ""):
        raise InputError(Problem("a city code is 2–64 lower-case letters, digits or _ starting with a letter",
                                 field="code", value=code))
    with tempfile.TemporaryDirectory() as folder:
        plan_path = Path(folder) / f"{code}.yaml"
        plan_path.write_text(plan, encoding="utf-8")
        profile_path = None
        if accounting and accounting.strip():
            profile_path = Path(folder) / f"{code}_accounting.yaml"
            profile_path.write_text(accounting, encoding="utf-8")
        return init_city(db, principal, plan_path, accounting_file=profile_path, code=code)
