"""Loading the shipped reference data into the store: plan, targets, tasks, regions, factors, datasets.

:func:`seed_reference` is idempotent: each part is written only when the store does not hold it yet (a second
call changes nothing and adds no audit row). ``refresh=True`` re-applies the shipped files on top of what is
stored: changed values supersede the stored ones (the old versions stay in the ledger's history) and a new
factor load is recorded when the factor files changed. :func:`ensure_ready` is what ``citycarbon serve`` and
first start call: migrate to head, then seed an empty store, and import the monitoring registry CSV files an
earlier release kept under ``$CITYCARBON_HOME/monitoring/registry`` when the store holds no registry yet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citycarbon.codelists import load_codelist
from citycarbon.data import data_path, read_csv_file
from citycarbon.settings import Settings
from citycarbon.store import audit, ledger
from citycarbon.store.db import Database
from citycarbon.store.models import (
    FactorLoad,
    FactorRecord,
    ImportBatch,
    Observation,
    PlanRecord,
    RegionRecord,
    TargetRecord,
    TaskRecord,
)
from citycarbon.store.types import utcnow

if TYPE_CHECKING:
    from citycarbon.plan import Plan

__all__ = ["SeedReport", "ensure_ready", "reference_frames", "seed_reference"]


@dataclass
class SeedReport:
    """What a seed wrote (empty ``written`` = nothing changed)."""

    city: str
    written: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.written)

    def to_dict(self) -> dict[str, Any]:
        return {"city": self.city, "changed": self.changed, "written": self.written}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def reference_frames(city: str = "dalian") -> dict[str, tuple[pd.DataFrame, str]]:
    """The shipped long tables of ``city`` as the domain reads them, with their file names, per ledger dataset."""
    from citycarbon.datasets import load_reference
    from citycarbon.plan import load_plan
    from citycarbon.tracking.districts import check_districts
    from citycarbon.tracking.nowcast import check_monthly

    dataset = load_reference(city)
    frames = {table: (getattr(dataset, table), ledger.DATASETS[table].file) for table in ledger.REFERENCE_TABLES}
    folder = data_path(city)
    if (folder / "monthly.csv").is_file():
        frames["monthly"] = (check_monthly(read_csv_file(folder / "monthly.csv"), "monthly.csv"), "monthly.csv")
    if (folder / "districts.csv").is_file():
        region = load_plan(city).meta.region_code
        raw = read_csv_file(folder / "districts.csv", dtype={"region": str, "target_id": str})
        frames["districts"] = (check_districts(raw, region, "districts.csv"), "districts.csv")
    return frames


# ---- parts ---------------------------------------------------------------------------------------


def _seed_plan(session: Session, city: str, actor: Any, refresh: bool) -> dict[str, Any] | None:
    from citycarbon.plan import load_plan
    from citycarbon.plan.load import resolve_plan_path

    path = resolve_plan_path(city)
    document = path.read_text(encoding="utf-8")
    digest = _sha256(document.encode("utf-8"))
    existing = session.execute(select(PlanRecord).where(PlanRecord.code == city)).scalar_one_or_none()
    if existing is not None and (not refresh or existing.sha256 == digest):
        return None
    plan = load_plan(city)
    meta = plan.meta
    before = None
    if existing is not None:
        before = {"sha256": existing.sha256, "targets": len(existing_targets(session, existing.id))}
        for model in (TargetRecord, TaskRecord):
            for row in session.execute(select(model).where(model.plan_id == existing.id)).scalars():
                session.delete(row)
        session.flush()
        record = existing
    else:
        record = PlanRecord(code=city)
        session.add(record)
    record.region_code, record.city, record.city_en = meta.region_code, meta.city, meta.city_en
    record.title_zh, record.title_en, record.basis_document = meta.title_zh, meta.title_en, meta.basis_document
    record.base_year, record.source, record.status = meta.base_year, meta.source, str(meta.status)
    record.document, record.sha256, record.loaded_at = document, digest, utcnow()
    session.flush()
    add_plan_rows(session, record, plan)
    session.flush()
    after = {"sha256": digest, "file": path.name, "targets": len(plan.targets), "tasks": len(plan.tasks)}
    audit.record(session, actor, "plan.update" if before else "plan.create", "plan", city, before, after,
                 reason="seed from the shipped plan file")
    return after


def existing_targets(session: Session, plan_id: int) -> list[TargetRecord]:
    return list(session.execute(select(TargetRecord).where(TargetRecord.plan_id == plan_id)).scalars())


def _seed_regions(session: Session, actor: Any) -> dict[str, Any] | None:
    table = load_codelist("regions")
    stored = {r.code: r for r in session.execute(select(RegionRecord)).scalars()}
    added: list[str] = []
    # parents first: the codelist lists provinces before cities before districts, but do not rely on it
    rank = {"province": 0, "city": 1}
    rows = sorted(table.to_dict("records"), key=lambda r: (rank.get(str(r["level"]), 2), str(r["code"])))
    for row in rows:
        code = str(row["code"])
        if code in stored:
            continue
        parent = row.get("parent")
        parent_code = None if parent is None or pd.isna(parent) or str(parent).strip() == "" else str(parent)
        if isinstance(row.get("parent"), float) and parent_code is not None:
            parent_code = str(int(float(parent_code)))
        notes = row.get("notes")
        session.add(RegionRecord(code=code, parent_code=parent_code, name_zh=str(row["name_zh"]),
                                 name_en=str(row["name_en"]), kind=str(row["level"]),
                                 notes=None if notes is None or pd.isna(notes) else str(notes)))
        session.flush()
        added.append(code)
    if not added:
        return None
    after = {"added": len(added), "codes": added}
    audit.record(session, actor, "regions.load", "regions", None, None, after,
                 reason="seed from data/codelists/regions.csv")
    return {"added": len(added)}


def _factor_rows() -> tuple[list[dict[str, Any]], str]:
    from citycarbon.factors import load_factors

    frame = load_factors().frame
    records = []
    for row in frame.to_dict("records"):
        records.append({k: (None if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) else
                            (int(v) if k in ("year_from", "year_to", "data_year") else v))
                        for k, v in row.items()})
    digest = _sha256(audit.canonical_json(records).encode("utf-8"))
    return records, digest


def _seed_factors(session: Session, actor: Any, refresh: bool) -> dict[str, Any] | None:
    latest = session.execute(select(FactorLoad).order_by(FactorLoad.id.desc()).limit(1)).scalar_one_or_none()
    if latest is not None and not refresh:
        return None
    records, digest = _factor_rows()
    if latest is not None and latest.sha256 == digest:
        return None
    load = FactorLoad(label="shipped data/factors/*.csv", sha256=digest, row_count=len(records), loaded_at=utcnow(),
                      loaded_by=audit.actor_of(actor)[0])
    session.add(load)
    session.flush()
    columns = {c.key for c in FactorRecord.__table__.columns} - {"id", "load_id"}
    session.execute(FactorRecord.__table__.insert(),
                    [{"load_id": load.id, **{k: v for k, v in r.items() if k in columns}} for r in records])
    after = {"load_id": load.id, "rows": len(records), "sha256": digest}
    audit.record(session, actor, "factors.load", "factors", load.id,
                 None if latest is None else {"load_id": latest.id, "sha256": latest.sha256}, after,
                 reason="seed from the shipped factor tables")
    return after


def _seed_dataset(session: Session, city: str, name: str, frame: pd.DataFrame, file: str, actor: Any,
                  refresh: bool) -> dict[str, Any] | None:
    has_rows = session.execute(select(func.count()).select_from(Observation)
                               .where(Observation.dataset == name)).scalar_one() > 0
    if has_rows and not refresh:
        return None
    path = data_path(city) / file
    content = path.read_bytes()
    batch = ImportBatch(kind=name, filename=file, sha256=_sha256(content), size=len(content),
                        uploaded_by=audit.actor_of(actor)[0], uploaded_at=utcnow(), status="approved", problems=[],
                        preview={"rows": len(frame)}, row_count=len(frame), content=None,
                        content_path=f"package:citycarbon/data/{city}/{file}", mode="years",
                        approved_by=audit.actor_of(actor)[0], approved_at=utcnow(),
                        reason=f"shipped reference data ({city})")
    session.add(batch)
    session.flush()
    result = ledger.write_frame(session, name, frame, actor=actor, batch_id=batch.id, scope="years",
                                reason=f"seed from data/{city}/{file}", source=file)
    if not result.changed:
        session.delete(batch)
        session.flush()
        return None
    audit.record(session, actor, "import.seed", "import_batch", batch.id, None,
                 {"kind": name, "filename": file, "sha256": batch.sha256, **result.to_dict()},
                 reason=f"shipped reference data ({city})")
    return result.to_dict()


def seed_reference(db: Database, city: str = "dalian", actor: Any = "system", *, refresh: bool = False) -> SeedReport:
    """Load ``city``'s plan, the regions, the factor tables and the reference datasets (one transaction)."""
    report = SeedReport(city)
    frames = reference_frames(city)
    with db.session(write=True) as session:
        if (plan := _seed_plan(session, city, actor, refresh)) is not None:
            report.written["plan"] = plan
        if (regions := _seed_regions(session, actor)) is not None:
            report.written["regions"] = regions
        if (factors := _seed_factors(session, actor, refresh)) is not None:
            report.written["factors"] = factors
        for name, (frame, file) in frames.items():
            if (written := _seed_dataset(session, city, name, frame, file, actor, refresh)) is not None:
                report.written[name] = written
        if governance := seed_governance(session, city, actor):
            report.written["governance"] = governance
    return report


def seed_governance(session: Session, city: str, actor: Any) -> dict[str, int]:
    """The starting organisation registry and responsibility matrix (issue 14) of a city that ships
    ``data/<city>/governance/`` and has none stored yet; idempotent."""
    folder = data_path(city) / "governance"
    if not (folder / "organisations.csv").is_file():
        return {}
    from citycarbon.governance.defaults import default_measures, organisations_from_rows
    from citycarbon.store import governance

    plan = session.scalars(select(PlanRecord).where(PlanRecord.code == city)).one_or_none()
    if plan is None:
        return {}
    tasks = [{"number": t.number, "text_zh": t.text_zh}
             for t in session.scalars(select(TaskRecord).where(TaskRecord.plan_id == plan.id))]
    # dtype=str: region codes stay "210202" (a column with blanks would read as floats, "210202.0")
    orgs = organisations_from_rows(read_csv_file(folder / "organisations.csv", dtype=str).to_dict("records"))
    leads_file = folder / "task_leads.csv"
    leads = read_csv_file(leads_file).to_dict("records") if leads_file.is_file() else []
    return governance.seed_defaults(session, city, orgs, default_measures(tasks, leads), actor=actor,
                                    source=f"data/{city}/governance")


def ensure_ready(settings: Settings, *, actor: Any = "system") -> Database:
    """Migrate to head and seed the configured city when the store holds no plan yet; return the database."""
    db = Database(settings)
    db.upgrade()
    with db.session() as session:
        empty = session.execute(select(func.count()).select_from(PlanRecord)).scalar_one() == 0
    if empty:
        seed_reference(db, settings.city, actor)
    else:  # a store from before issue 14: give its city the starting governance registry once
        with db.session(write=True) as session:
            seed_governance(session, settings.city, actor)
    _adopt_registry_files(db, settings, actor)
    return db


def _adopt_registry_files(db: Database, settings: Settings, actor: Any) -> None:
    """Move a monitoring registry that an earlier release kept as CSV files under the home into an empty store
    (no shipped city has a demo registry). A refused folder is logged with file, row and field; the store then
    holds no registry and the monitoring pages say so."""
    import logging

    from citycarbon.errors import InputError
    from citycarbon.store.monitoring_registry import adopt_registry_files

    try:
        adopt_registry_files(db, settings.home, actor)
    except InputError as error:
        logging.getLogger("citycarbon.store").error("the registry files under %s were not imported: %s",
                                                    settings.home, error)


def add_plan_rows(session: Session, record: PlanRecord, plan: Plan) -> None:
    """The plan's targets and tasks as rows of the stored plan ``record`` (seeding and ``city init``)."""
    for target in plan.targets:
        session.add(TargetRecord(
            plan_id=record.id, code=target.id, indicator=target.indicator, year=target.year, value=target.value,
            unit=target.unit, comparison=str(target.comparison), base_year=target.base_year,
            tolerance=target.tolerance, parameter=target.parameter, clause=target.clause,
            clause_ref=target.clause_ref, title_zh=target.title_zh, title_en=target.title_en, note=target.note))
    for task in plan.tasks:
        session.add(TaskRecord(plan_id=record.id, number=task.number, group_number=task.group,
                               title_zh=task.title_zh, title_en=task.title_en, text_zh=task.text_zh,
                               indicators=list(task.indicators), keywords=list(task.keywords)))
