"""The audit trail: every write to the store, append-only and hash-chained.

Each row holds who (``actor`` + ``actor_id``), when (``at``, UTC), what (``action`` on ``entity``/``entity_id``),
the state ``before`` and ``after`` (canonical JSON text) and why (``reason``). Row ``n`` stores
``hash = sha256(canonical_json(fields of row n) + prev_hash)`` where ``prev_hash`` is the hash of row ``n-1``
(:data:`GENESIS` for the first). :func:`verify` recomputes the chain: an edited row changes its own hash, a
deleted or inserted row breaks the sequence or the link, a reordering breaks the links. Triggers on both
backends refuse UPDATE and DELETE (migration ``0001_core``), so only someone able to drop the triggers can
tamper, and :func:`verify` then names the first bad ``seq``.

:func:`record` is called inside the same transaction as the write it describes: both commit or neither does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from citycarbon.store.models import AuditEntry
from citycarbon.store.types import utcnow

__all__ = ["GENESIS", "VerifyResult", "actor_of", "canonical_json", "count", "query", "record", "verify"]

#: ``prev_hash`` of the first row
GENESIS = "0" * 64
#: PostgreSQL advisory lock serialising appends to the chain (two writers never fork it)
_PG_LOCK_KEY = 4_242_001
_VERIFY_PAGE = 5000


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return {"sha256": hashlib.sha256(value).hexdigest(), "size": len(value)}
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces, UTF-8 kept) of ``value``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default,
                      allow_nan=False)


def actor_of(actor: Any) -> tuple[str, str | None]:
    """``(username, id)`` of a principal-like object (``.username`` / ``.user_id``) or a plain name."""
    if isinstance(actor, str):
        if not actor.strip():
            raise ValueError("every write names its actor")
        return actor, None
    username = getattr(actor, "username", None)
    if not username:
        raise ValueError(f"cannot tell who the actor {actor!r} is")
    user_id = getattr(actor, "user_id", None)
    return str(username), None if user_id is None else str(user_id)


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {"seq": int(entry.seq), "at": entry.at.isoformat(), "actor": entry.actor, "actor_id": entry.actor_id,
            "action": entry.action, "entity": entry.entity, "entity_id": entry.entity_id, "before": entry.before,
            "after": entry.after, "reason": entry.reason}


def entry_hash(entry: AuditEntry, prev_hash: str) -> str:
    """The hash a row must carry: sha256 over its canonical JSON fields followed by ``prev_hash``."""
    payload = canonical_json(_fields(entry)) + prev_hash
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(session: Session, actor: Any, action: str, entity: str, entity_id: Any = None, before: Any = None,
           after: Any = None, reason: str | None = None) -> AuditEntry:
    """Append one audit row in the session's transaction and return it (flushed, hash set)."""
    name, actor_id = actor_of(actor)
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (1, GENESIS) if last is None else (int(last.seq) + 1, last.hash)
    entry = AuditEntry(seq=seq, at=utcnow(), actor=name, actor_id=actor_id, action=action, entity=entity,
                       entity_id=None if entity_id is None else str(entity_id),
                       before=None if before is None else canonical_json(before),
                       after=None if after is None else canonical_json(after), reason=reason, prev_hash=prev)
    entry.hash = entry_hash(entry, prev)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``first_bad_seq`` is the first row whose hash, link or number is wrong."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "first_bad_seq": self.first_bad_seq, "reason": self.reason,
                "head_hash": self.head_hash}


def verify(session: Session, anchor: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the chain from ``seq`` 1 and report the first row that does not hold.

    Detects an edited row (its hash no longer matches its fields), a deleted row (a missing ``seq``, or the
    next row's ``prev_hash`` no longer matching), an inserted row (a duplicate or out-of-place ``seq``, or a
    broken link) and reordered rows (broken links). Deleting the newest rows leaves a shorter valid chain:
    ``anchor`` = ``(seq, hash)`` known from elsewhere (a backup manifest's ``audit.checked``/``head_hash``)
    must still be in the chain, which detects that too.
    """
    hashes: dict[int, str] = {}
    result = _walk(session, hashes, anchor[0] if anchor else None)
    if not result.ok or anchor is None:
        return result
    seq, expected = int(anchor[0]), anchor[1]
    if seq == 0:
        return result
    found = hashes.get(seq)
    if found is None:
        return VerifyResult(False, result.checked, result.checked + 1,
                            f"the chain ends at seq {result.checked} but the anchor is seq {seq}: newer rows "
                            "were removed", result.head_hash)
    if found != expected:
        return VerifyResult(False, result.checked, seq, f"seq {seq} differs from the anchor's hash: the log was "
                                                        "rewritten from there on", result.head_hash)
    return result


def _walk(session: Session, hashes: dict[int, str], keep: int | None) -> VerifyResult:
    expected_seq, prev, checked = 1, GENESIS, 0
    last_seq = 0
    while True:  # keyset pages: bounded memory, no server-side cursor left open on an early return
        page = session.execute(select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq)
                               .limit(_VERIFY_PAGE)).scalars().all()
        if not page:
            break
        for entry in page:
            seq = int(entry.seq)
            if seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, f"seq {expected_seq} is missing (next row is "
                                                                  f"{seq}): a row was deleted or renumbered")
            if entry.prev_hash != prev:
                return VerifyResult(False, checked, seq, f"seq {seq}: prev_hash does not match the hash of seq "
                                                         f"{seq - 1} (a row was deleted, inserted or moved)")
            if entry_hash(entry, prev) != entry.hash:
                return VerifyResult(False, checked, seq,
                                    f"seq {seq}: the row's contents do not match its hash (edited)")
            prev, expected_seq, checked = entry.hash, seq + 1, checked + 1
            if keep is not None and seq == keep:
                hashes[seq] = entry.hash
        last_seq = int(page[-1].seq)
    return VerifyResult(True, checked, None, None, prev if checked else None)


def _filtered(statement, actor: str | None, entity: str | None, action: str | None, entity_id: str | None,
              since: datetime | None, until: datetime | None):
    if actor:
        statement = statement.where(AuditEntry.actor == actor)
    if entity:
        statement = statement.where(AuditEntry.entity == entity)
    if action:
        statement = statement.where(AuditEntry.action == action)
    if entity_id is not None:
        statement = statement.where(AuditEntry.entity_id == str(entity_id))
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    if until is not None:
        statement = statement.where(AuditEntry.at < until)
    return statement


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    """An audit row for display and JSON: ``before``/``after`` parsed back from their JSON text."""
    return {"seq": int(entry.seq), "at": entry.at.isoformat(), "actor": entry.actor, "actor_id": entry.actor_id,
            "action": entry.action, "entity": entry.entity, "entity_id": entry.entity_id,
            "before": None if entry.before is None else json.loads(entry.before),
            "after": None if entry.after is None else json.loads(entry.after), "reason": entry.reason,
            "prev_hash": entry.prev_hash, "hash": entry.hash}


def query(session: Session, *, actor: str | None = None, entity: str | None = None, action: str | None = None,
          entity_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
          limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Audit rows matching every given filter, newest first (``since`` inclusive, ``until`` exclusive)."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must be ≥ 0")
    statement = _filtered(select(AuditEntry), actor, entity, action, entity_id, since, until)
    statement = statement.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)
    return [as_dict(e) for e in session.execute(statement).scalars()]


def count(session: Session, *, actor: str | None = None, entity: str | None = None, action: str | None = None,
          entity_id: str | None = None, since: datetime | None = None, until: datetime | None = None) -> int:
    """How many rows :func:`query` would page through with these filters."""
    statement = _filtered(select(func.count()).select_from(AuditEntry), actor, entity, action, entity_id, since,
                          until)
    return int(session.execute(statement).scalar_one())
