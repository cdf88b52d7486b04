"""Imports of every table of the registry (energy balance, statistics, capacity, process activity, forest, wetland,
monthly series, district data, and any table ``data/tables.yaml`` marks ``import:``) as one service: upload
(validate, preview) → list / get (with a fresh preview) → approve (into the ledger) or discard. The web page, the
API and the CLI call these functions; none of them holds a rule of its own.

Who may do what (applied here, once, with :class:`~citycarbon.auth.principal.Principal`'s methods):

* **read** (list, get): admin, analyst and district users, any token scope. City-wide roles see every batch; a
  district user sees only the batches it uploaded. A batch the caller may not see is :class:`NotFound` (its
  existence is not leaked).
* **upload**: :meth:`Principal.can_import_statistics` (admin, analyst, district; write scope). A district user
  uploads only rows of its own regions (any other row → :class:`~citycarbon.errors.InputError` naming row and
  region, and *nothing* is stored, not even a rejected batch) and only with ``mode`` ``keys`` (the default:
  only the uploaded keys change) or ``years`` (``all`` would close every other region's values).
* **approve**: :meth:`Principal.can_approve_import` (admins with a write scope); the uploader's regions are
  checked again (a district user's batch holding another region's rows is refused with the rows named).
* **discard**: the uploader or an admin (write scope).
* approving or discarding a batch in the wrong state (already approved or discarded) is a :class:`Conflict`.
* **city scope** (every entry point): the service works on one city, ``city`` (default: the deployment's city,
  ``db.settings.city``); a caller scoped to another city is refused (:class:`Forbidden`, code ``city_scope``),
  whatever the face. A city-scoped caller uploads only rows of its city's regions (the city's region and the
  regions stored under it) and sees only batches uploaded by users of its own city.

Every write runs in one transaction with its audit rows (the store records them); a refusal writes nothing. Results
are typed (:class:`ImportBatch`, :class:`ImportPreview`, :class:`Approval`); ``to_dict()`` gives the JSON the API
has always answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import Conflict, Forbidden, InputError, NotFound, Problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from citycarbon.progress import Progress
    from citycarbon.store.db import Database

__all__ = ["MAX_BATCH_ID", "Approval", "BatchProblem", "ClosingRow", "FileImport", "ImportBatch", "ImportPreview",
           "PreviewChange", "approve_batch", "discard_batch", "get_batch", "import_file", "list_batches",
           "require_approver", "require_city", "require_importer", "require_reader", "upload_batch"]

#: the largest id an import batch can have (a 32-bit INTEGER column); a larger one is simply not found
MAX_BATCH_ID = 2**31 - 1
IMPORT_READERS = (Role.admin, Role.analyst, Role.district)
BATCH_STATUSES = ("validated", "rejected", "approved", "discarded")
#: how many of the newest batches a listing searches for the caller's
LIST_SCAN = 10_000


# -- results -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchProblem:
    """One problem of a rejected upload: where (file, row, field) and what is wrong."""

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None
    value: Any = None
    suggestion: str | None = None
    text: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchProblem:
        return cls(message=str(data.get("message", "")), file=data.get("file"), row=data.get("row"),
                   field=data.get("field"), value=data.get("value"), suggestion=data.get("suggestion"),
                   text=str(data.get("text") or data.get("message", "")))

    def to_problem(self) -> Problem:
        return Problem(self.message, file=self.file, row=self.row, field=self.field, value=self.value,
                       suggestion=self.suggestion)

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "file": self.file, "row": self.row, "field": self.field,
                "value": self.value, "suggestion": self.suggestion, "text": self.text}


@dataclass(frozen=True)
class PreviewChange:
    """A value approval would change: the ledger's current value and the uploaded one."""

    key: str
    old_value: float
    old_unit: str
    old_status: str
    new_value: float
    new_unit: str
    new_status: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "old_value": self.old_value, "old_unit": self.old_unit,
                "old_status": self.old_status, "new_value": self.new_value, "new_unit": self.new_unit,
                "new_status": self.new_status}


@dataclass(frozen=True)
class ClosingRow:
    """A current ledger value approving would close (mode ``years`` or ``all``): its key, value and origin."""

    key: str
    region: str
    year: int
    month: int | None
    value: float
    unit: str
    status: str
    batch_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "region": self.region, "year": self.year, "month": self.month,
                "value": self.value, "unit": self.unit, "status": self.status, "batch_id": self.batch_id}


@dataclass(frozen=True)
class ImportPreview:
    """What approving a batch would do to the ledger (counts, years, regions, a sample of changed values and
    every value it would close).

    ``dataset`` is None when there is nothing to preview (a rejected or discarded batch)."""

    dataset: str | None = None
    mode: str = "keys"
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    closed: int = 0
    years: tuple[int, ...] = ()
    regions: tuple[str, ...] = ()
    changes: tuple[PreviewChange, ...] = ()
    closing: tuple[ClosingRow, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ImportPreview:
        data = data or {}
        if "dataset" not in data:
            return cls()
        return cls(dataset=data["dataset"], mode=str(data.get("mode") or "years"), rows=int(data.get("rows", 0)),
                   new=int(data.get("new", 0)),
                   changed=int(data.get("changed", 0)), unchanged=int(data.get("unchanged", 0)),
                   closed=int(data.get("closed", 0)), years=tuple(int(y) for y in data.get("years", ())),
                   regions=tuple(str(r) for r in data.get("regions", ())),
                   changes=tuple(PreviewChange(**c) for c in data.get("changes", ())),
                   closing=tuple(ClosingRow(**c) for c in data.get("closing", ())))

    def __bool__(self) -> bool:
        return self.dataset is not None

    def to_dict(self) -> dict[str, Any]:
        if self.dataset is None:
            return {}
        return {"dataset": self.dataset, "mode": self.mode, "rows": self.rows, "new": self.new,
                "changed": self.changed, "unchanged": self.unchanged, "closed": self.closed,
                "years": list(self.years), "regions": list(self.regions),
                "changes": [c.to_dict() for c in self.changes], "closing": [c.to_dict() for c in self.closing]}


@dataclass(frozen=True)
class ImportBatch:
    """An uploaded table and what became of it. ``data_status`` is the status its rows get in the ledger
    (``official`` …); ``preview`` is the preview made at upload, ``preview_now`` (from :func:`get_batch`) the
    one against today's ledger."""

    id: int
    kind: str
    filename: str
    sha256: str
    size: int
    uploaded_by: str
    uploaded_at: datetime
    status: str
    problems: tuple[BatchProblem, ...]
    data_status: str
    preview: ImportPreview
    row_count: int
    mode: str
    approved_by: str | None = None
    approved_at: datetime | None = None
    reason: str | None = None
    preview_now: ImportPreview | None = field(default=None, compare=False)

    @classmethod
    def from_summary(cls, summary: dict[str, Any], preview_now: ImportPreview | None = None) -> ImportBatch:
        stored = summary.get("preview") or {}
        return cls(id=int(summary["id"]), kind=summary["kind"], filename=summary["filename"],
                   sha256=summary["sha256"], size=int(summary["size"] or 0), uploaded_by=summary["uploaded_by"],
                   uploaded_at=summary["uploaded_at"], status=summary["status"],
                   problems=tuple(BatchProblem.from_dict(p) for p in summary.get("problems") or ()),
                   data_status=str(stored.get("status", "official")), preview=ImportPreview.from_dict(stored),
                   row_count=int(summary.get("row_count") or 0), mode=summary.get("mode") or "keys",
                   approved_by=summary.get("approved_by"), approved_at=summary.get("approved_at"),
                   reason=summary.get("reason"), preview_now=preview_now)

    @property
    def problem_list(self) -> list[Problem]:
        return [p.to_problem() for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        """The batch as the API answers it (``preview_now`` only when it was computed)."""
        out = {"id": self.id, "kind": self.kind, "filename": self.filename, "sha256": self.sha256,
               "size": self.size, "uploaded_by": self.uploaded_by, "uploaded_at": self.uploaded_at,
               "status": self.status, "problems": [p.to_dict() for p in self.problems],
               "preview": {"status": self.data_status, **self.preview.to_dict()}, "row_count": self.row_count,
               "mode": self.mode, "approved_by": self.approved_by, "approved_at": self.approved_at,
               "reason": self.reason}
        if self.preview_now is not None:
            now = {"status": self.status}
            out["preview_now"] = ({**now, **self.preview_now.to_dict()} if self.preview_now
                                  else {**now, "problems": [p.to_dict() for p in self.problems]})
        return out


@dataclass(frozen=True)
class Approval:
    """An approved batch and what its ledger write did (``revision`` None: nothing changed)."""

    batch: ImportBatch
    dataset: str
    inserted: int
    superseded: int
    closed: int
    unchanged: int
    revision: int | None

    def ledger_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "inserted": self.inserted, "superseded": self.superseded,
                "closed": self.closed, "unchanged": self.unchanged, "revision": self.revision}


# -- the rules -----------------------------------------------------------------------------------------------
def require_reader(principal: Principal) -> Principal:
    """Import batches are for the city office, analysts and districts (any scope); else :class:`Forbidden`."""
    if principal.role not in IMPORT_READERS:
        raise Forbidden("数据导入仅供市双碳办、分析人员和区县使用 / imports are for the city office, analysts and "
                        "districts")
    return principal


def require_importer(principal: Principal) -> Principal:
    """Uploading needs a role that imports and a write scope; else :class:`Forbidden`."""
    if not principal.can_import_statistics():
        raise Forbidden("您的角色或令牌权限不能导入数据 / this role or token scope may not import")
    return principal


def require_approver(principal: Principal) -> Principal:
    """Approving needs an administrator with a write scope; else :class:`Forbidden`."""
    if not principal.can_approve_import():
        raise Forbidden("只有管理员（具有写权限）可以批准导入 / only administrators (with a write scope) approve "
                        "imports")
    return principal


def _may_see(principal: Principal, uploaded_by: str | None, cities: dict[str, str | None] | None = None) -> bool:
    """Whether ``principal`` sees a batch of ``uploaded_by``; ``cities`` maps uploaders to their city scope (a
    city-scoped caller sees only its own city's users' batches)."""
    if uploaded_by == principal.username:
        return True
    if not principal.city_wide:
        return False
    return principal.city is None or (cities or {}).get(uploaded_by or "") == principal.city


def _city_of(db: Database, city: str | None) -> str:
    """The city an import call works on: ``city`` or the deployment's (``db.settings.city``)."""
    return city if city is not None else str(getattr(getattr(db, "settings", None), "city", "") or "dalian")


def require_city(principal: Principal, city: str) -> Principal:
    """A caller scoped to another city than ``city`` is refused (:class:`Forbidden`, code ``city_scope``)."""
    from citycarbon.services.cities import require_city as refuse_other_city

    refuse_other_city(principal, city)
    return principal


def _uploader_cities(session: Session) -> dict[str, str | None]:
    """Every account's city scope (one query; the accounts of a deployment are few)."""
    from sqlalchemy import select

    from citycarbon.store.auth_models import User

    return {str(name): city for name, city in session.execute(select(User.username, User.city))}


def _city_regions(session: Session, city: str) -> frozenset[str]:
    """The region codes of ``city``: its own region and the regions stored under it (districts, counties,
    pilot zones, and the regions under those)."""
    from citycarbon.store import cities as store_cities
    from citycarbon.store.imports import stored_regions

    record = store_cities.plan_record(session, city)
    if record is not None:
        region = str(record.region_code)
    else:  # a store not seeded yet: the shipped plan of the city names its region, the codelist its districts
        from citycarbon.plan.load import shipped_plans
        from citycarbon.services.cities import plan_for

        if city not in shipped_plans():
            return frozenset()
        region = str(plan_for(city).meta.region_code)
    from citycarbon.codelists import load_codelist, registered_regions

    with registered_regions(stored_regions(session)):
        table = load_codelist("regions")
    parents = {_code(code): _code(parent) for code, parent in zip(table["code"], table["parent"], strict=True)}
    found, frontier = {region}, {region}
    while frontier:
        frontier = {code for code, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return frozenset(found)


def _code(value: object) -> str:
    """A region code as text, whatever dtype the codelist reader gave it (210200, 210200.0, '210200')."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") else text


def _allowed_regions(principal: Principal, city_regions: frozenset[str] | None = None) -> frozenset[str] | None:
    """The regions whose rows the caller may upload (None: every region): a district user's regions, and for a
    city-scoped caller only those of its city (``city_regions``)."""
    own = principal.regions if principal.role is Role.district else None
    if principal.city is None or city_regions is None:
        return own
    return city_regions if own is None else own & city_regions


def _uploader_regions(session: Session, username: str | None) -> frozenset[str] | None:
    """The regions the batch's uploader may import (None: every region). Approval checks them again, so a batch
    a district user uploaded before this rule existed cannot bring another district's rows into the ledger."""
    from citycarbon.store import users

    user = users.get_user(session, username) if username else None
    if user is None:  # the CLI operator, the seed, a removed account: city-wide uploads
        return None
    try:
        principal = users.principal_for_user(user)
        return _allowed_regions(principal, None if principal.city is None else _city_regions(session, principal.city))
    except ValueError:  # an account whose binding no longer makes a valid principal: nothing is its to import
        return frozenset()


def _not_found(batch_id: object) -> NotFound:
    return NotFound(f"没有编号为 {batch_id} 的导入批次 / import batch {batch_id} not found")


def _visible_summary(session: Session, principal: Principal, batch_id: int) -> dict[str, Any]:
    from citycarbon.store import imports

    if isinstance(batch_id, bool) or not isinstance(batch_id, int) or not 1 <= batch_id <= MAX_BATCH_ID:
        raise _not_found(batch_id)
    try:
        summary = imports.get(session, batch_id)
    except InputError:
        raise _not_found(batch_id) from None
    cities = _uploader_cities(session) if principal.city is not None else None
    if not _may_see(principal, summary.get("uploaded_by"), cities):
        raise _not_found(batch_id)
    return summary


def _conflict_or_input(error: InputError) -> Exception:
    """The store says "wrong state" as an input problem on the field ``status``: that is a conflict."""
    if error.first.field == "status":
        return Conflict(error.first.message)
    return error


# -- the use cases -------------------------------------------------------------------------------------------
def upload_batch(db: Database, principal: Principal, *, filename: str, content: bytes, kind: str | None = None,
                 status: str = "official", mode: str = "keys", reason: str | None = None,
                 city: str | None = None) -> ImportBatch:
    """Validate an uploaded table and keep it as a batch awaiting approval.

    Returns the batch: ``status`` ``validated`` (with the preview of what approval would change) or
    ``rejected`` (its ``problems`` name file, row and field; kept for the record, audited). Raises
    :class:`Forbidden` (role or scope), :class:`~citycarbon.errors.InputError` for an empty file, an unknown
    kind/status/mode, ``mode=all`` from a district user, or rows of another district (then nothing is stored).
    """
    from citycarbon.store import imports

    require_importer(principal)
    city = _city_of(db, city)
    require_city(principal, city)
    if not content:
        raise InputError(Problem("文件是空的 / the file is empty", file=filename))
    mode = imports.normal_mode(mode)
    if principal.role is Role.district and mode == "all":
        raise InputError(Problem("区县用户只能按键或按本辖区的年份导入（mode=keys 或 years） / district users "
                                 "import by key or replace their regions' years only (mode=keys or years)",
                                 field="mode", value=mode))
    with db.session(write=True) as session:
        city_regions = None if principal.city is None else _city_regions(session, city)
        summary = imports.create_batch(session, filename=filename, content=content, actor=principal, kind=kind,
                                       status=status, mode=mode, reason=reason,
                                       allowed_regions=_allowed_regions(principal, city_regions),
                                       refuse_foreign=True)
    return ImportBatch.from_summary(summary)


def list_batches(db: Database, principal: Principal, *, status: str | None = None,
                 limit: int = LIST_SCAN, city: str | None = None) -> list[ImportBatch]:
    """The newest ``limit`` batches the caller may see, newest first (district users: their own uploads; the
    newest :data:`LIST_SCAN` batches are searched)."""
    from citycarbon.store import imports

    require_reader(principal)
    require_city(principal, _city_of(db, city))
    if status is not None and status not in BATCH_STATUSES:
        raise InputError(Problem(f"unknown batch status '{status}'", field="status", value=status))
    with db.session() as session:
        summaries = imports.list_batches(session, status=status, limit=LIST_SCAN)
        cities = _uploader_cities(session) if principal.city is not None else None
    visible = [s for s in summaries if _may_see(principal, s.get("uploaded_by"), cities)]
    return [ImportBatch.from_summary(s) for s in visible[:max(limit, 0)]]


def get_batch(db: Database, principal: Principal, batch_id: int, *, city: str | None = None) -> ImportBatch:
    """A batch the caller may see, with ``preview_now``: what approving it would change against today's ledger
    (empty for a batch that is not awaiting approval). Unknown, out-of-range or invisible ids: :class:`NotFound`.
    """
    from citycarbon.store import imports

    require_reader(principal)
    require_city(principal, _city_of(db, city))
    with db.session() as session:
        summary = _visible_summary(session, principal, batch_id)
        now = imports.preview(session, batch_id) if summary["status"] == "validated" else {}
    return ImportBatch.from_summary(summary, preview_now=ImportPreview.from_dict(now))


def approve_batch(db: Database, principal: Principal, batch_id: int, *, reason: str | None = None,
                  city: str | None = None) -> Approval:
    """Write a validated batch into the ledger (one transaction with the batch's new status and the audit rows).

    :class:`Forbidden` unless an admin with a write scope; :class:`NotFound`; :class:`Conflict` when the batch
    is not awaiting approval. The ledger version changes: faces refresh their result caches afterwards."""
    from citycarbon.store import imports

    require_approver(principal)
    require_city(principal, _city_of(db, city))
    with db.session(write=True) as session:
        summary = _visible_summary(session, principal, batch_id)
        allowed = _uploader_regions(session, summary.get("uploaded_by"))
        try:
            written = imports.approve(session, batch_id, actor=principal, reason=reason, allowed_regions=allowed)
        except imports.RegionScopeError as error:
            mine, who = ", ".join(sorted(allowed or ())), summary["uploaded_by"]
            raise InputError([Problem(f"第 {p.row} 行：地区 {p.value} 不在上传者 {who} 的辖区（{mine}）内 / row "
                                      f"{p.row}: region {p.value} is not one of the uploader {who}'s regions "
                                      f"({mine})", file=p.file, row=p.row, field=p.field, value=p.value)
                              for p in error.problems]) from None
        except InputError as error:
            raise _conflict_or_input(error) from None
        summary = imports.get(session, batch_id)
    return Approval(batch=ImportBatch.from_summary(summary), **written)


def discard_batch(db: Database, principal: Principal, batch_id: int, *, reason: str | None = None,
                  city: str | None = None) -> ImportBatch:
    """Mark a batch that was not approved as discarded (the uploader or an admin; write scope).

    :class:`Forbidden` for a read-only caller or another uploader's batch (when the caller may see it);
    :class:`NotFound`; :class:`Conflict` for an approved or already discarded batch."""
    from citycarbon.store import imports

    require_importer(principal)
    require_city(principal, _city_of(db, city))
    with db.session(write=True) as session:
        summary = _visible_summary(session, principal, batch_id)
        if not (principal.is_admin or summary.get("uploaded_by") == principal.username):
            raise Forbidden("只有上传者或管理员可以放弃该批次 / only the uploader or an administrator may discard "
                            "this batch")
        try:
            discarded = imports.discard(session, batch_id, actor=principal, reason=reason)
        except InputError as error:
            raise _conflict_or_input(error) from None
    return ImportBatch.from_summary(discarded)


@dataclass(frozen=True)
class FileImport:
    """What :func:`import_file` did: the batch (validated or rejected) and, when approved, the ledger write."""

    batch: ImportBatch
    approval: Approval | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"batch": self.batch.to_dict(),
                "ledger": None if self.approval is None else self.approval.ledger_dict()}


def import_file(db: Database, principal: Principal, *, filename: str, content: bytes, kind: str | None = None,
                status: str = "official", mode: str = "keys", reason: str | None = None, approve: bool = False,
                progress: Progress | None = None, city: str | None = None) -> FileImport:
    """Upload a file as a batch and, with ``approve``, approve it at once: :func:`upload_batch` then
    :func:`approve_batch`, with their rules (approving needs an administrator with a write scope, checked
    before anything is stored). A rejected file is not approved (its problems are in the batch).
    ``progress`` hears (done, total, step) after validation and after approval."""
    from citycarbon.progress import or_silent

    report = or_silent(progress)
    if approve:
        require_approver(principal)
    require_city(principal, _city_of(db, city))
    total = 2 if approve else 1
    report(0, total, "validate")
    batch = upload_batch(db, principal, filename=filename, content=content, kind=kind, status=status, mode=mode,
                         reason=reason, city=city)
    report(1, total, "validate")
    if not approve or batch.status != "validated":
        return FileImport(batch)
    approval = approve_batch(db, principal, batch.id, reason=reason, city=city)
    report(2, total, "approve")
    return FileImport(approval.batch, approval)
