"""Store reads and writes of the project gate (issue 15), shared by the services of ``services/projects``.

* :func:`project_data` / :func:`project_from_row`: a :class:`~citycarbon.projects.model.Project` ↔ its row
  (the fields the row has as columns, the rest in ``data``);
* :func:`next_code`: the next project code of a city and year (``XM-2026-0001``), energy projects
  (``NY-2026-0001``);
* :func:`save_project`: the conditional update every write of a project goes through (a write names the
  ``version`` it read; a stale version raises :class:`StaleVersion`, 409, nothing written) and the
  append-only version history;
* :func:`add_event`: one step of the workflow (``proj_events``);
* the replacement ledgers: :func:`source_from_row`, :func:`live_allocations`, :func:`allocate` (atomic: the
  source's ``version`` is bumped with ``UPDATE … WHERE id = :id AND version = :read``, so of two transactions
  that read the same balance exactly one allocates; the other gets :class:`StaleVersion`, and re-reading shows
  the new balance) and :func:`release`.

Audit records are the services' (they know the reason); every function here runs inside the caller's
transaction and commits nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from citycarbon.errors import Conflict, InputError, Problem
from citycarbon.projects import ledger
from citycarbon.projects.model import ProductLine, Project, ProjectKind, Quantity
from citycarbon.store.project_models import (
    EnergyProject,
    EnergyProjectVersion,
    ProjEvent,
    ProjLedgerAllocation,
    ProjLedgerSource,
    ProjProject,
    ProjProjectVersion,
)
from citycarbon.store.types import utcnow

__all__ = ["StaleVersion", "add_event", "allocate", "allocation_from_row", "live_allocations", "next_code",
           "project_data", "project_from_row", "project_snapshot", "release", "save_energy_project",
           "save_project", "source_from_row"]

#: the columns of ``proj_projects`` a Project fills (the rest of the project lives in ``data``)
PROJECT_COLUMNS = ("name", "applicant_name", "applicant_uscc", "region_code", "industry_code", "kind",
                   "application_date")


class StaleVersion(Conflict):
    """The row changed since the caller read it (another write in between): nothing was written."""

    def __init__(self, what: str, code: str, expected: int, current: int | None):
        self.what, self.code_of, self.expected, self.current = what, code, expected, current
        super().__init__(f"{code} 已被他人修改（读取时为第 {expected} 版，现为第 {current} 版），请刷新后重试 / "
                         f"{what} '{code}' changed since version {expected} was read (now version {current}): "
                         "reload and try again", code="stale_version")


# -- projects ---------------------------------------------------------------------------------------------------

def _quantities(mapping: Mapping[str, Quantity]) -> dict[str, dict[str, Any]]:
    return {fuel: {"value": q.value, "unit": q.unit} for fuel, q in mapping.items()}


def project_data(project: Project, **extra: Any) -> dict[str, Any]:
    """The ``data`` column of ``project``: products, types, energy / feedstock / renewable supply by fuel
    (``{fuel: {"value", "unit"}}``), national plan, consent, notes, and ``extra`` (investment, commissioning …)."""
    return {
        "products": [{"product": p.product, "capacity": p.capacity, "unit": p.unit,
                      "unit_consumption": p.unit_consumption, "consumption_unit": p.consumption_unit}
                     for p in project.products],
        "types": list(project.types),
        "energy": _quantities(project.energy),
        "feedstock": _quantities(project.feedstock),
        "renewable_supply": _quantities(project.renewable_supply),
        "national_plan": project.national_plan,
        "city_consent": project.city_consent,
        "notes": project.notes,
        **extra,
    }


def _read_quantities(raw: object, where: str) -> dict[str, Quantity]:
    out: dict[str, Quantity] = {}
    for fuel, value in dict(raw or {}).items():  # type: ignore[call-overload]
        try:
            out[str(fuel)] = Quantity(float(value["value"]), str(value["unit"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(Problem(f"stored {where}.{fuel} is not a quantity", field=f"{where}.{fuel}",
                                     value=value)) from exc
    return out


def project_from_row(row: ProjProject) -> Project:
    """The domain project of a stored row (``id`` is the project's code)."""
    data = dict(row.data or {})
    products = tuple(ProductLine(str(p["product"]), float(p["capacity"]), str(p["unit"]),
                                 None if p.get("unit_consumption") is None else float(p["unit_consumption"]),
                                 p.get("consumption_unit"))
                     for p in data.get("products") or [])
    return Project(id=row.code, name=row.name, applicant_name=row.applicant_name,
                   applicant_uscc=row.applicant_uscc, region_code=row.region_code,
                   industry_code=row.industry_code, kind=ProjectKind(row.kind),
                   application_date=row.application_date, products=products,
                   types=tuple(str(t) for t in data.get("types") or []),
                   energy=_read_quantities(data.get("energy"), "energy"),
                   feedstock=_read_quantities(data.get("feedstock"), "feedstock"),
                   renewable_supply=_read_quantities(data.get("renewable_supply"), "renewable_supply"),
                   national_plan=data.get("national_plan"), city_consent=data.get("city_consent"),
                   notes=str(data.get("notes") or ""))


def project_snapshot(row: ProjProject) -> dict[str, Any]:
    """Everything of a project row as JSON-ready values (the version history's snapshot)."""
    out: dict[str, Any] = {}
    for column in ProjProject.__table__.columns:
        value = getattr(row, column.key)
        out[column.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def next_code(session: Session, city: str, year: int, *, prefix: str = "XM") -> str:
    """The next free code of ``city`` for ``year``: ``XM-2026-0001`` (projects), ``NY-…`` (energy projects)."""
    model: Any = EnergyProject if prefix == "NY" else ProjProject
    stem = f"{prefix}-{year}-"
    codes = session.scalars(select(model.code).where(model.city == city, model.code.like(f"{stem}%"))).all()
    numbers = [int(c[len(stem):]) for c in codes if c[len(stem):].isdigit()]
    return f"{stem}{(max(numbers) + 1) if numbers else 1:04d}"


def save_project(session: Session, row: ProjProject, expected_version: int, values: Mapping[str, Any], *,
                 by: str, reason: str = "") -> ProjProject:
    """Write ``values`` to the stored project ``row`` if it is still at ``expected_version`` (else
    :class:`StaleVersion`, nothing written), bump its version and append the new state to the history. A new
    row (not yet flushed, ``expected_version`` 0) is inserted as version 1."""
    now = utcnow()
    if row.id is None:
        for key, value in values.items():
            setattr(row, key, value)
        row.version, row.created_at, row.updated_at = 1, now, now
        session.add(row)
        session.flush()
    else:
        changes = {**values, "version": expected_version + 1, "updated_at": now}
        result = session.execute(update(ProjProject)
                                 .where(ProjProject.id == row.id, ProjProject.version == expected_version)
                                 .values(**changes).execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = session.scalar(select(ProjProject.version).where(ProjProject.id == row.id))
            raise StaleVersion("project", row.code, expected_version, current)
        session.refresh(row)
    session.add(ProjProjectVersion(project_id=row.id, version=row.version, state=row.state,
                                   snapshot=project_snapshot(row), saved_at=now, saved_by=by, reason=reason))
    session.flush()
    return row


def add_event(session: Session, row: ProjProject, kind: str, *, by: str, body: Mapping[str, Any] | None = None,
              note: str = "", state_from: str | None = None, state_to: str | None = None) -> ProjEvent:
    event = ProjEvent(project_id=row.id, kind=kind, state_from=state_from, state_to=state_to,
                      body=dict(body or {}), note=note, at=utcnow(), actor=by)
    session.add(event)
    session.flush()
    return event


# -- energy projects --------------------------------------------------------------------------------------------

def save_energy_project(session: Session, row: EnergyProject, expected_version: int, values: Mapping[str, Any],
                        *, by: str, reason: str = "") -> EnergyProject:
    """As :func:`save_project`, for the energy-project registry."""
    now = utcnow()
    if row.id is None:
        for key, value in values.items():
            setattr(row, key, value)
        row.version, row.created_at, row.updated_at, row.updated_by = 1, now, now, by
        session.add(row)
        session.flush()
    else:
        changes = {**values, "version": expected_version + 1, "updated_at": now, "updated_by": by}
        result = session.execute(update(EnergyProject)
                                 .where(EnergyProject.id == row.id, EnergyProject.version == expected_version)
                                 .values(**changes).execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = session.scalar(select(EnergyProject.version).where(EnergyProject.id == row.id))
            raise StaleVersion("energy project", row.code, expected_version, current)
        session.refresh(row)
    snapshot = {c.key: (v.isoformat() if hasattr(v := getattr(row, c.key), "isoformat") else v)
                for c in EnergyProject.__table__.columns}
    session.add(EnergyProjectVersion(project_id=row.id, version=row.version, snapshot=snapshot, saved_at=now,
                                     saved_by=by, reason=reason))
    session.flush()
    return row


# -- the replacement ledgers ------------------------------------------------------------------------------------

def source_from_row(row: ProjLedgerSource) -> ledger.Source:
    return ledger.Source(row.code, row.kind, Decimal(row.amount), row.unit, row.product, row.plant, row.unit_name,
                         row.retired_on, row.document)


def allocation_from_row(row: ProjLedgerAllocation, source_code: str, project_code: str) -> ledger.Allocation:
    return ledger.Allocation(source_code, project_code, Decimal(row.amount), row.unit,
                             Decimal(row.requested_amount), row.requested_unit)


def live_allocations(session: Session, source_ids: Iterable[int] | None = None) -> list[ProjLedgerAllocation]:
    """Allocations not released (of ``source_ids``, or all)."""
    query = select(ProjLedgerAllocation).where(ProjLedgerAllocation.released_at.is_(None))
    if source_ids is not None:
        query = query.where(ProjLedgerAllocation.source_id.in_(list(source_ids)))
    return list(session.scalars(query.order_by(ProjLedgerAllocation.id)))


def _bump_source(session: Session, source: ProjLedgerSource, read_version: int) -> None:
    result = session.execute(update(ProjLedgerSource)
                             .where(ProjLedgerSource.id == source.id, ProjLedgerSource.version == read_version)
                             .values(version=read_version + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.scalar(select(ProjLedgerSource.version).where(ProjLedgerSource.id == source.id))
        raise StaleVersion("ledger source", source.code, read_version, current)


def allocate(session: Session, city: str, source_code: str, project: ProjProject, amount: Decimal | str | float,
             unit: str, *, by: str, note: str = "", kind: str | None = None,
             product: str | None = None) -> ProjLedgerAllocation:
    """Allocate ``amount`` (``unit``) of the source ``source_code`` to ``project``, atomically.

    The source's balance is read with its ``version``; the domain rule (:func:`citycarbon.projects.ledger.allocate`)
    refuses an unknown source, another kind or product, or more than the balance (:class:`ledger.Refused`, 409);
    then the source's version is bumped with a conditional update: a concurrent allocation that read the same
    version fails with :class:`StaleVersion` (409) and its transaction writes nothing.

    ``kind``: the kind of replacement asked for (default: the source's); ``product``: the product the project
    needs replaced (a capacity source of another product is refused; default: the source's own). The amount must
    be a finite number > 0 in a unit of the source's dimension (else :class:`InputError`): a zero or negative
    request would otherwise grow the balance."""
    source = session.scalars(select(ProjLedgerSource).where(ProjLedgerSource.city == city,
                                                            ProjLedgerSource.code == source_code)
                             .execution_options(populate_existing=True)).one_or_none()
    if source is None:
        raise ledger.Refused("ledger_unknown_source", f"替代来源 '{source_code}' 不存在",
                             f"replacement source '{source_code}' does not exist")
    read_version = source.version
    live = live_allocations(session, [source.id])
    existing = [allocation_from_row(a, source.code, str(a.project_id)) for a in live]
    asked = kind or source.kind
    if asked == "capacity" and product is None:
        product = source.product
    request = ledger.Request.from_mapping({"source_id": source.code, "project_id": project.code, "kind": asked,
                                           "amount": amount, "unit": unit,
                                           "product": product if asked == "capacity" else None})
    granted = ledger.allocate([source_from_row(source)], existing, request)
    _bump_source(session, source, read_version)
    row = ProjLedgerAllocation(source_id=source.id, project_id=project.id, amount=str(granted.amount),
                               unit=granted.unit, requested_amount=str(granted.requested_amount),
                               requested_unit=granted.requested_unit, created_at=utcnow(), created_by=by, note=note)
    session.add(row)
    session.flush()
    return row


def release(session: Session, allocation: ProjLedgerAllocation, *, by: str) -> None:
    """Give an allocation back (its project was rejected or withdrawn): the source's balance grows again."""
    if allocation.released_at is not None:
        return
    source = session.get(ProjLedgerSource, allocation.source_id, populate_existing=True)  # its version now
    assert source is not None
    _bump_source(session, source, source.version)
    allocation.released_at, allocation.released_by = utcnow(), by
    session.flush()


def source_balance(session: Session, source: ProjLedgerSource) -> Decimal:
    """The remaining amount of ``source`` in its unit (amount − live allocations), exact."""
    total = sum((Decimal(a.amount) for a in live_allocations(session, [source.id])), Decimal(0))
    return Decimal(source.amount) - total


def count_projects(session: Session, city: str) -> int:
    return int(session.scalar(select(func.count()).select_from(ProjProject).where(ProjProject.city == city)) or 0)
