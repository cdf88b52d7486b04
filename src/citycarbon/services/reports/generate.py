"""Generating, storing, listing and downloading the yearly reports (issue 16).

:func:`build_report` builds one format synchronously (the CLI), :func:`submit_report` builds several as a
background job with progress (the API); both store each file as a ``report_documents`` row with its bytes, sha256,
the ledger version it was built from, the inputs hash of its content model and the headline figures. The content
is built once per job, so the DOCX, PDF and XLSX of one job show the same figures.

Renderers: DOCX :func:`citycarbon.documents.gbt9704.render_docx`; PDF
``citycarbon.documents.gbt9704_pdf.render_pdf`` (WeasyPrint); XLSX ``citycarbon.documents.annex.render_xlsx``.

Who may do what: the city's report: generate ``can_generate_reports``, list/download ``can_read_city_report``; a
unit's report (``district``: its GB/T 2260 code or its organisation code): generate the office
(``can_generate_reports``) or the unit's own writers (``can_file_for``), list/download the unit itself
(``acts_for_org``) and the office/analysts; another unit's document answers :class:`NotFound`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from citycarbon.auth.principal import Principal
from citycarbon.documents.annex import Sheet
from citycarbon.documents.gbt9704 import OfficialDocument, Table, render_docx
from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.store import audit
from citycarbon.store import governance as gov_store
from citycarbon.store.assessment_models import ReportDocument
from citycarbon.store.db import Database

__all__ = ["FORMATS", "MEDIA_TYPES", "DocumentInfo", "ReportFile", "build_report", "get_document",
           "list_documents", "resolve_unit", "submit_report"]

FORMATS: tuple[str, ...] = ("docx", "pdf", "xlsx")
MEDIA_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DocumentInfo:
    """A stored report document without its bytes."""

    id: int
    city: str
    year: int
    scope: str  # city | unit
    org: str
    format: str
    filename: str
    media_type: str
    size: int
    sha256: str
    ledger_version: int
    inputs_hash: str
    created_by: str
    created_at: str | None
    job_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ReportFile:
    """A stored report document with its bytes and the figures it shows."""

    info: DocumentInfo
    content: bytes
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return self.info.filename

    @property
    def media_type(self) -> str:
        return self.info.media_type

    @property
    def inputs_hash(self) -> str:
        return self.info.inputs_hash


def _info(row: ReportDocument) -> DocumentInfo:
    return DocumentInfo(row.id, row.city, row.year, row.scope, row.org_code, row.format, row.filename,
                        row.media_type, row.size, row.sha256, row.ledger_version, row.inputs_hash, row.created_by,
                        row.created_at.isoformat() if row.created_at else None, row.job_id)


def _check_formats(formats: Sequence[str]) -> list[str]:
    wanted = [str(f).lower() for f in formats]
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise InputError(Problem(f"format must be one of {', '.join(FORMATS)}", field="format",
                                 value=bad[0] if bad else None, message_zh=f"格式须为 {'、'.join(FORMATS)} 之一"))
    return list(dict.fromkeys(wanted))


def resolve_unit(db: Database, principal: Principal, city: str, district: str) -> tuple[str, str | None, str]:
    """``district`` (a GB/T 2260 code or an organisation code) → (org code, region code, name); NotFound for
    none or one the caller does not speak for."""
    with db.session() as session:
        orgs = gov_store.current_orgs(session, city)
    found = next((o for o in orgs if o.code == district), None)
    if found is None:
        found = next((o for o in orgs if o.region_code == district and o.kind.value == "district"), None)
    if found is None or not principal.can_access_city(city) or not principal.acts_for_org(found.code,
                                                                                            found.region_code):
        raise NotFound("没有该单位 / no such organisation", code="not_found")
    return found.code, found.region_code, found.name_zh


def _check_year(db: Database, city: str, year: int) -> None:
    """:class:`InputError` (field ``year``) for a year the ledger has no energy balance of (the ledger's dataset
    is cached per version, so this costs a version query once warm)."""
    from citycarbon.store import ledger

    with db.session() as session:
        dataset = ledger.reference_dataset(session, city)
    years = sorted({int(y) for y in dataset.balance["year"].unique()}) if len(dataset.balance) else []
    if int(year) not in years:
        span = f"{years[0]}–{years[-1]}" if years else "none"
        raise InputError(Problem(f"no energy balance for {year} in the ledger (years: {span})", field="year",
                                 value=year, message_zh=f"台账中没有{year}年的能源平衡表（已有年份：{span}）"))


def _check_generate(db: Database, principal: Principal, city: str, district: str | None
                    ) -> tuple[str, str | None, str] | None:
    if district is None:
        if not principal.can_generate_reports(city):
            raise Forbidden("无权生成市级报告 / not allowed to generate the city's report")
        return None
    unit = resolve_unit(db, principal, city, district)
    if not (principal.can_generate_reports(city) or principal.can_file_for(unit[0], unit[1])):
        raise Forbidden("无权生成该单位报告 / not allowed to generate this unit's report")
    return unit


def _tables_as_sheets(document: OfficialDocument) -> list[Sheet]:
    sheets = []
    for index, block in enumerate((b for b in document.body if isinstance(b, Table)), start=1):
        caption = block.caption or f"表{index}"
        name = caption.split("　", 1)[-1][:31] or f"表{index}"
        sheets.append(Sheet(name, caption, list(block.header), [list(r) for r in block.rows]))
    return sheets


def _render(fmt: str, document: OfficialDocument, sheets: list[Sheet], provenance: list[tuple[str, str]]) -> bytes:
    if fmt == "docx":
        return render_docx(document)
    if fmt == "pdf":
        try:
            from citycarbon.documents.gbt9704_pdf import render_pdf  # type: ignore[import-not-found,import-untyped,unused-ignore]
        except ImportError as error:
            raise InputError(Problem("the PDF renderer is not installed (citycarbon.documents.gbt9704_pdf)",
                                     field="format", value="pdf", message_zh="PDF 渲染模块未安装")) from error
        pdf: bytes = render_pdf(document)
        return pdf
    try:
        from citycarbon.documents.annex import render_xlsx  # type: ignore[attr-defined,unused-ignore]
    except ImportError as error:
        raise InputError(Problem("the XLSX renderer is not installed (citycarbon.documents.annex.render_xlsx)",
                                 field="format", value="xlsx", message_zh="XLSX 渲染模块未安装")) from error
    xlsx: bytes = render_xlsx(sheets, title=document.title, provenance=provenance, day=document.day)
    return xlsx


def _build_many(db: Database, principal: Principal, city: str, year: int, formats: Sequence[str], *,
                  district: str | None = None, progress: Progress | None = None, ledger_version: int | None = None,
                  job_id: str | None = None, day: date | None = None) -> list[ReportFile]:
    """Build the content once and render and store each of ``formats``; ``progress(done, total, step)``."""
    from citycarbon.services.reports.content import canonical_hash, city_report, load_inputs

    wanted = _check_formats(formats)
    unit = _check_generate(db, principal, city, district)
    if ledger_version is None:
        _check_year(db, city, year)
    total = 2 + len(wanted)
    step = progress or (lambda done, total, text: None)
    step(0, total, "读取台账数据 / loading the ledger")
    inputs = load_inputs(db, city, year, ledger_version=ledger_version)
    step(1, total, "汇编报告内容 / building the content")
    run_id: int | None = None
    if unit is None:
        report = city_report(db, principal, city, year, inputs=inputs, day=day)
        document, sheets, provenance = report.document, report.sheets, report.provenance
        figures, inputs_hash, run_id = report.figures, report.inputs_hash, report.assessment_run_id
        stem = f"{inputs.status.get('city_name_zh') or city}{year}年碳达峰碳中和工作贯彻落实情况报告"
        scope, org = "city", ""
    else:
        from citycarbon.services.reports.units import unit_payload, unit_report, unit_report_document

        view = unit_report(db, principal, city, unit[0], year, inputs=inputs)
        document = unit_report_document(db, principal, city, unit[0], year, view=view, day=day)
        provenance = [("台账版本", str(inputs.ledger_version)), ("报告年度", str(year)), ("单位", unit[2])]
        sheets = _tables_as_sheets(document)
        figures = {**view.figures, "assessment": view.assessment}
        inputs_hash = canonical_hash({**unit_payload(view), "ledger_version": inputs.ledger_version})
        stem = view.governance.title_zh
        scope, org = "unit", unit[0]
    out = []
    for index, fmt in enumerate(wanted, start=2):
        step(index, total, f"生成 {fmt.upper()} / rendering {fmt}")
        content = _render(fmt, document, sheets, provenance)
        out.append(_store(db, principal, city, year, scope, org, fmt, f"{stem}.{fmt}", content,
                          inputs.ledger_version, inputs_hash, figures, run_id, job_id))
    step(total, total, "完成 / done")
    return out


def _store(db: Database, principal: Principal, city: str, year: int, scope: str, org: str, fmt: str,
           filename: str, content: bytes, ledger_version: int, inputs_hash: str, figures: dict[str, Any],
           run_id: int | None, job_id: str | None) -> ReportFile:
    digest = hashlib.sha256(content).hexdigest()
    with db.session(write=True) as session:
        row = ReportDocument(city=city, year=int(year), scope=scope, org_code=org, format=fmt, filename=filename,
                             media_type=MEDIA_TYPES[fmt], size=len(content), sha256=digest, content=content,
                             ledger_version=ledger_version, inputs_hash=inputs_hash, figures=figures,
                             assessment_run_id=run_id, job_id=job_id, created_by=principal.username)
        session.add(row)
        session.flush()
        audit.record(session, principal, "report.generate", "report_document", row.id, None,
                     {"city": city, "year": int(year), "scope": scope, "org": org, "format": fmt,
                      "sha256": digest, "ledger_version": ledger_version, "inputs_hash": inputs_hash})
        return ReportFile(_info(row), content, figures)


def build_report(db: Database, principal: Principal, city: str, year: int, fmt: str, *,
                 district: str | None = None, progress: Progress | None = None,
                 ledger_version: int | None = None) -> ReportFile:
    """The city's report (or ``district``'s own) for ``year`` as ``fmt`` (docx | pdf | xlsx), stored."""
    return _build_many(db, principal, city, year, [fmt], district=district, progress=progress,
                         ledger_version=ledger_version)[0]


def submit_report(runner: Any, db: Database, principal: Principal, city: str, year: int,
                  formats: Sequence[str] = FORMATS, *, district: str | None = None,
                  ledger_version: int | None = None) -> str:
    """Start generating ``formats`` as a background job (``runner``: the app's
    :class:`~citycarbon.services.jobs.JobRunner`); the job id. Permission and input errors are raised here,
    before a job exists; the job's result is ``{"documents": [ids], "inputs_hash", "ledger_version"}``."""
    wanted = _check_formats(formats)
    _check_generate(db, principal, city, district)
    _check_year(db, city, year)
    holder: dict[str, str] = {}

    def work(progress: Progress) -> dict[str, Any]:
        files = _build_many(db, principal, city, year, wanted, district=district, progress=progress,
                              ledger_version=ledger_version, job_id=holder.get("id"))
        return {"documents": [f.info.id for f in files], "inputs_hash": files[0].info.inputs_hash,
                "ledger_version": files[0].info.ledger_version}

    params = {"city": city, "year": int(year), "formats": wanted, "district": district,
              "ledger_version": ledger_version}
    job_id: str = runner.submit_tracked("report.annual", params, work, actor=principal)
    holder["id"] = job_id
    return job_id


def _visible(principal: Principal, city: str, row: ReportDocument, regions: dict[str, str | None]) -> bool:
    if row.scope == "city":
        return principal.can_read_city_report(city)
    return (principal.can_access_city(city) and row.org_code in regions
            and principal.acts_for_org(row.org_code, regions[row.org_code]))


def _regions(db: Database, city: str) -> dict[str, str | None]:
    with db.session() as session:
        return {o.code: o.region_code for o in gov_store.current_orgs(session, city)}


def list_documents(db: Database, principal: Principal, city: str, *, year: int | None = None) -> list[DocumentInfo]:
    """The stored documents the caller may read, newest first (``year``: that year's)."""
    if not principal.can_access_city(city):
        raise Forbidden("无权访问该城市 / not allowed for this city")
    regions = _regions(db, city)
    statement = select(ReportDocument).where(ReportDocument.city == city)
    if year is not None:
        statement = statement.where(ReportDocument.year == int(year))
    with db.session() as session:
        rows = session.scalars(statement.order_by(ReportDocument.id.desc())).all()
        return [_info(r) for r in rows if _visible(principal, city, r, regions)]


def get_document(db: Database, principal: Principal, city: str, doc_id: int) -> ReportFile:
    """A stored document with its bytes; :class:`NotFound` for none or one the caller may not read."""
    with db.session() as session:
        row = session.get(ReportDocument, int(doc_id))
        if row is None or row.city != city or not _visible(principal, city, row, _regions(db, city)):
            raise NotFound("没有该报告 / no such report document", code="not_found")
        return ReportFile(_info(row), bytes(row.content), dict(row.figures or {}))
