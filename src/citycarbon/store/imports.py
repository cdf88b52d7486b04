"""Import batches: upload → validate → preview → approve (into the ledger) or discard.

An upload is validated at once with the existing importers (:func:`citycarbon.importers.read_table`: pandera
schemas, codelists, units; problems name file, row and field) and kept with its bytes, its problems and a
preview of what approval would change. Approval re-reads the stored bytes and writes them to the ledger in the
caller's transaction: either every row, the batch status and the audit rows are stored, or nothing is.

Every importable table of the registry (``data/tables.yaml`` entries with ``import:``) goes through here; a new
table becomes importable by its registry entry alone.

Rows without ``status``/``source`` get the batch's ``status`` (default ``official``: tables come from the
statistics bureau) and ``source`` ``"import batch <id>: <filename>"``. ``mode``:

* ``keys`` (default): only the rows whose keys (the table's ``key`` columns) the upload holds are added or
  revised; nothing else is closed — a one-line GDP correction changes that one value;
* ``years``: the upload replaces the years (and months) of its regions in that table: values it no longer
  lists are closed;
* ``all``: the upload replaces the whole table (every other current value is closed).

The preview lists every value approving would close (``closing``), not a sample.
"""

from __future__ import annotations

import builtins
import hashlib
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citycarbon.codelists import nearest
from citycarbon.errors import InputError, Problem
from citycarbon.importers import read_table
from citycarbon.importers.schemas import STATUSES
from citycarbon.store import audit, ledger
from citycarbon.store.models import ImportBatch, Observation
from citycarbon.store.types import utcnow
from citycarbon.tables import import_tables

__all__ = ["KINDS", "MODES", "RegionScopeError", "approve", "create_batch", "discard", "get", "list", "list_batches",
           "normal_mode", "preview"]

#: importer table name -> ledger dataset (every table of the registry with an ``import:`` entry)
KINDS: dict[str, str] = {name: spec.name for name, spec in import_tables().items()}
#: every name a caller may give a kind by (import name, table name, aliases) -> import name
_KIND_ALIASES: dict[str, str] = {alias: name for name, spec in import_tables().items()
                                 for alias in (name, spec.name, *spec.aliases)}
#: import mode -> the ledger's write scope; ``none`` is the former name of ``keys``
MODES: dict[str, str] = {"keys": "none", "years": "years", "all": "all"}
_MODE_ALIASES = {"none": "keys"}
#: the most changed values a preview lists one by one
PREVIEW_SAMPLE = 50
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _problem_dict(problem: Problem) -> dict[str, Any]:
    value = problem.value
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    return {"message": problem.message, "file": problem.file, "row": problem.row, "field": problem.field,
            "value": value, "suggestion": problem.suggestion, "text": str(problem)}


def _safe_name(filename: str, limit: int = 200) -> str:
    """The file name the importers see (their messages name it): the upload's own name, its stem shortened
    so the UTF-8 name fits a file system's 255-byte limit."""
    name = Path(filename).name or "upload.csv"
    suffix = Path(name).suffix[:16]
    stem = name[: len(name) - len(suffix)] if suffix else name
    while len((stem + suffix).encode("utf-8")) > limit:
        stem = stem[:-1]
    return (stem or "upload") + suffix


def _unknown_kind(kind: str) -> InputError:
    return InputError(Problem(f"unknown import kind '{kind}' (expected one of {', '.join(KINDS)})", field="kind",
                              value=kind, suggestion=nearest(kind, builtins.list(_KIND_ALIASES))))


def normal_mode(mode: str) -> str:
    """``keys``, ``years`` or ``all`` (``none`` is read as ``keys``); :class:`InputError` otherwise."""
    mode = _MODE_ALIASES.get(mode, mode)
    if mode not in MODES:
        raise InputError(Problem(f"unknown mode '{mode}' (keys, years or all)", field="mode", value=mode,
                                 suggestion=nearest(mode, builtins.list(MODES))))
    return mode


#: the newest validated uploads, by (sha256, kind, file name): approval re-reads a batch's bytes, and the same
#: bytes validate to the same frame (a process that did not see the upload validates them again)
_PARSED: OrderedDict[tuple[str, str | None, str, tuple[str, ...]], tuple[str, pd.DataFrame]] = OrderedDict()
_PARSED_SIZE = 4
_PARSED_LOCK = threading.Lock()


def stored_regions(session: Session) -> builtins.list[dict[str, Any]]:
    """The regions stored for the deployment's cities (``regions`` table: the seeded GB/T 2260 codelist and the
    regions a new city registered with ``citycarbon city init --regions``), as codelist rows."""
    from citycarbon.store.models import RegionRecord

    return [{"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en, "level": r.kind, "parent": r.parent_code,
             "notes": r.notes} for r in session.execute(select(RegionRecord)).scalars()]


def _parse(filename: str, content: bytes, kind: str | None,
           regions: builtins.list[dict[str, Any]] | None = None) -> tuple[str, pd.DataFrame]:
    """Validate ``content`` as the importers do; returns (importer table name, frame) or raises InputError. The
    region checks accept the codelist's regions and ``regions`` (:func:`stored_regions`)."""
    from citycarbon.codelists import registered_regions

    known = tuple(sorted(str(r["code"]) for r in regions or ()))
    key = (hashlib.sha256(content).hexdigest(), kind, filename, known)
    with _PARSED_LOCK:
        if key in _PARSED:
            _PARSED.move_to_end(key)
            name, frame = _PARSED[key]
            return name, frame.copy()
    with registered_regions(regions or ()):
        name, frame = _parse_bytes(filename, content, kind)
    with _PARSED_LOCK:
        _PARSED[key] = (name, frame.copy())
        while len(_PARSED) > _PARSED_SIZE:
            _PARSED.popitem(last=False)
    return name, frame


def _parse_bytes(filename: str, content: bytes, kind: str | None) -> tuple[str, pd.DataFrame]:
    table = None if kind is None else _KIND_ALIASES.get(kind)
    if kind is not None and table is None:
        raise _unknown_kind(kind)
    safe = _safe_name(filename)
    with tempfile.TemporaryDirectory(prefix="citycarbon-import-") as folder:
        path = Path(folder) / safe
        path.write_bytes(content)
        try:
            return read_table(path, table)
        except zipfile.BadZipFile as exc:  # read_workbook lets this one through
            raise InputError(Problem(f"not a readable Excel workbook ({exc})", file=safe)) from exc


def _complete(frame: pd.DataFrame, dataset: str, status: str, source: str) -> pd.DataFrame:
    """Fill the optional provenance columns the ledger requires."""
    out = frame.copy()
    for column, default in (("status", status), ("source", source)):
        if column not in out.columns:
            out[column] = default
        else:
            blank = out[column].isna() | (out[column].astype(str).str.strip() == "")
            out[column] = out[column].astype(object).where(~blank, default)
    for column in ledger.spec_for(dataset).columns:  # optional columns the upload left out
        if column not in out.columns:
            out[column] = pd.NA
    if dataset == "balance":
        out["sector"] = out["sector"].fillna("")
    # plain objects: the ledger walks the rows one by one, which pandas' Arrow-backed text makes slow
    return out.astype({column: object for column in out.columns if pd.api.types.is_string_dtype(out[column])})


def _frame_of(session: Session, batch: ImportBatch) -> tuple[str, pd.DataFrame]:
    if batch.content is None:
        raise InputError(Problem(f"import batch {batch.id} holds no uploaded file", field="content"))
    name, frame = _parse(batch.filename, batch.content, batch.kind, stored_regions(session))
    dataset = KINDS[name]
    return dataset, _complete(frame, dataset, batch.preview.get("status", "official"),
                              f"import batch {batch.id}: {batch.filename}")


def _diff(session: Session, dataset: str, frame: pd.DataFrame, mode: str) -> dict[str, Any]:
    """What writing ``frame`` with ``mode`` would do to the current ledger: counts, a sample of changed values
    and EVERY value that would be closed (``closing``)."""
    spec = ledger.spec_for(dataset)
    mode = normal_mode(mode)
    records = ledger._records(spec, frame, "<preview>")
    current = {row.natural_key: row for row in session.execute(
        select(Observation.natural_key, Observation.region, Observation.valid_year, Observation.valid_month,
               Observation.value, Observation.unit, Observation.status, Observation.source, Observation.batch_id)
        .where(Observation.dataset == spec.name, Observation.superseded_at.is_(None)))}
    incoming = {r["natural_key"]: r for r in records}
    new, changed, unchanged, sample = 0, 0, 0, []
    for key, record in incoming.items():
        old = current.get(key)
        if old is None:
            new += 1
        elif (float(old.value), old.unit, old.status, old.source) == \
                (record["value"], record["unit"], record["status"], record["source"]):
            unchanged += 1
        else:
            changed += 1
            if len(sample) < PREVIEW_SAMPLE:
                sample.append({"key": key, "old_value": float(old.value), "old_unit": old.unit,
                               "old_status": old.status, "new_value": record["value"], "new_unit": record["unit"],
                               "new_status": record["status"]})
    slices = {(r["region"], r["valid_year"], r["valid_month"]) for r in records}
    closing = [] if mode == "keys" else [
        {"key": key, "region": old.region, "year": old.valid_year, "month": old.valid_month,
         "value": float(old.value), "unit": old.unit, "status": old.status, "batch_id": old.batch_id}
        for key, old in current.items()
        if key not in incoming and (mode == "all" or (old.region, old.valid_year, old.valid_month) in slices)]
    return {"dataset": spec.name, "mode": mode, "rows": len(records), "new": new, "changed": changed,
            "unchanged": unchanged, "closed": len(closing), "years": sorted({r["valid_year"] for r in records}),
            "regions": sorted({r["region"] for r in records}), "changes": sample, "closing": closing}


def _summary(batch: ImportBatch) -> dict[str, Any]:
    return {"id": batch.id, "kind": batch.kind, "filename": batch.filename, "sha256": batch.sha256,
            "size": batch.size, "uploaded_by": batch.uploaded_by, "uploaded_at": batch.uploaded_at,
            "status": batch.status, "problems": batch.problems, "preview": batch.preview,
            "row_count": batch.row_count, "mode": batch.mode, "approved_by": batch.approved_by,
            "approved_at": batch.approved_at, "reason": batch.reason}


class RegionScopeError(InputError):
    """Rows of regions outside the caller's (a district user's) regions; each problem names row and region."""


def _check_regions(frame: pd.DataFrame, allowed: frozenset[str] | None, filename: str) -> None:
    """A district user may upload only rows of its own regions: every other row is a problem (row, field)."""
    if allowed is None:
        return
    mine = ", ".join(sorted(allowed))
    problems = [Problem(f"地区 {region} 不在您的辖区（{mine}）内，不能导入 / region {region} is not one of yours "
                        f"({mine})", file=filename, row=position, field="region", value=str(region))
                # rows as the spreadsheet shows them: the header is row 1 (citycarbon.importers.schemas.FIRST_DATA_ROW)
                for position, region in enumerate(frame["region"].astype(str), start=2) if region not in allowed]
    if problems:
        raise RegionScopeError(problems[:50])


def create_batch(session: Session, *, filename: str, content: bytes, actor: Any, kind: str | None = None,
                 status: str = "official", mode: str = "keys", reason: str | None = None,
                 allowed_regions: Iterable[str] | None = None, refuse_foreign: bool = False) -> dict[str, Any]:
    """Store an upload with its validation result; ``status`` of the batch is ``validated`` or ``rejected``.

    ``kind`` (an import name of the registry: ``energy_balance``, ``statistics``, ``capacity``, ``monthly`` …, or
    a table name or alias) is detected from the columns when omitted. ``allowed_regions`` (a
    district user's region codes) rejects rows of any other region; with ``refuse_foreign`` such rows raise
    :class:`RegionScopeError` instead (the caller's transaction rolls back: nothing is stored, not even the
    rejected batch). Returns the batch summary (:func:`get`). Problems are data, not exceptions: a rejected
    upload is kept so the user sees why.
    """
    if status not in STATUSES:
        raise InputError(Problem(f"unknown status '{status}'", field="status", value=status))
    mode = normal_mode(mode)
    if kind is not None and kind not in _KIND_ALIASES:
        raise _unknown_kind(kind)
    if len(content) > MAX_UPLOAD_BYTES:
        raise InputError(Problem(f"file larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MiB", file=filename))
    name, _ = audit.actor_of(actor)
    batch = ImportBatch(kind=_KIND_ALIASES.get(kind or "", kind or "unknown"), filename=Path(filename).name[-255:],
                        sha256=hashlib.sha256(content).hexdigest(), size=len(content), uploaded_by=name,
                        uploaded_at=utcnow(), status="rejected", problems=[], preview={"status": status},
                        row_count=0, content=content, mode=mode, reason=reason)
    session.add(batch)
    session.flush()
    try:
        table, frame = _parse(filename, content, kind, stored_regions(session))
        batch.kind = table
        dataset = KINDS[table]
        _check_regions(frame, None if allowed_regions is None else frozenset(map(str, allowed_regions)),
                       batch.filename)
        completed = _complete(frame, dataset, status, f"import batch {batch.id}: {batch.filename}")
        batch.preview = {"status": status, **_diff(session, dataset, completed, mode)}
        batch.row_count = len(completed)
        batch.status = "validated"
    except InputError as error:
        if refuse_foreign and isinstance(error, RegionScopeError):
            raise
        batch.problems = [_problem_dict(p) for p in error.problems]
        batch.status = "rejected"
    session.flush()
    audit.record(session, actor, "import.upload", "import_batch", batch.id, None,
                 {"kind": batch.kind, "filename": batch.filename, "sha256": batch.sha256, "status": batch.status,
                  "rows": batch.row_count, "problems": len(batch.problems)}, reason=reason)
    return _summary(batch)


def _batch(session: Session, batch_id: int) -> ImportBatch:
    batch = session.get(ImportBatch, int(batch_id))
    if batch is None:
        raise InputError(Problem(f"no import batch {batch_id}", field="batch_id", value=batch_id))
    return batch


def get(session: Session, batch_id: int) -> dict[str, Any]:
    """A batch's summary (without the uploaded bytes)."""
    return _summary(_batch(session, batch_id))


def content(session: Session, batch_id: int) -> bytes | None:
    """The uploaded bytes of a batch."""
    return _batch(session, batch_id).content


def list_batches(session: Session, *, status: str | None = None, kind: str | None = None, limit: int = 50,
                 offset: int = 0) -> builtins.list[dict[str, Any]]:
    """Batches, newest first, optionally by status and kind."""
    statement = select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit).offset(offset)
    if status:
        statement = statement.where(ImportBatch.status == status)
    if kind:
        statement = statement.where(ImportBatch.kind == _KIND_ALIASES.get(kind, kind))
    return [_summary(b) for b in session.execute(statement).scalars()]


list = list_batches  # the name the API and web use (imports.list); shadows the builtin in this module


def preview(session: Session, batch_id: int) -> dict[str, Any]:
    """What approving the batch would change now (recomputed: the ledger may have moved since upload)."""
    batch = _batch(session, batch_id)
    if batch.status != "validated":
        return {"status": batch.status, "problems": batch.problems}
    dataset, frame = _frame_of(session, batch)
    return {"status": batch.status, **_diff(session, dataset, frame, batch.mode)}


def _require(batch: ImportBatch, allowed: tuple[str, ...], action: str) -> None:
    if batch.status not in allowed:
        raise InputError(Problem(f"import batch {batch.id} is {batch.status}; only a batch that is "
                                 f"{' or '.join(allowed)} can be {action}", field="status", value=batch.status))


def approve(session: Session, batch_id: int, *, actor: Any, reason: str | None = None,
            allowed_regions: Iterable[str] | None = None) -> dict[str, Any]:
    """Write a validated batch into the ledger (same transaction as the caller's session) and mark it approved.

    ``allowed_regions`` (the approver's regions, for a district user) refuses a batch with rows of other
    regions. Returns the ledger write result. Any failure raises and, with :meth:`Database.session`, stores
    nothing.
    """
    batch = _batch(session, batch_id)
    _require(batch, ("validated",), "approved")
    dataset, frame = _frame_of(session, batch)
    _check_regions(frame, None if allowed_regions is None else frozenset(map(str, allowed_regions)), batch.filename)
    scope = MODES[normal_mode(batch.mode or "years")]
    result = ledger.write_frame(session, dataset, frame, actor=actor, batch_id=batch.id, scope=scope,  # type: ignore[arg-type]
                                reason=reason or f"import batch {batch.id} approved", source=batch.filename)
    _mark_approved(session, batch, actor, reason)
    audit.record(session, actor, "import.approve", "import_batch", batch.id, {"status": "validated"},
                 {"status": "approved", **result.to_dict()}, reason=reason)
    return result.to_dict()


def _mark_approved(session: Session, batch: ImportBatch, actor: Any, reason: str | None) -> None:
    batch.status = "approved"
    batch.approved_by = audit.actor_of(actor)[0]
    batch.approved_at = utcnow()
    if reason:
        batch.reason = reason
    session.flush()


def discard(session: Session, batch_id: int, *, actor: Any, reason: str | None = None) -> dict[str, Any]:
    """Mark a batch that was not approved as discarded (its bytes stay for the record)."""
    batch = _batch(session, batch_id)
    _require(batch, ("validated", "rejected"), "discarded")
    before = batch.status
    batch.status = "discarded"
    if reason:
        batch.reason = reason
    session.flush()
    audit.record(session, actor, "import.discard", "import_batch", batch.id, {"status": before},
                 {"status": "discarded"}, reason=reason)
    return _summary(batch)
