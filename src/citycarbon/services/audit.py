"""The audit log as a service: filtered, paged entries and the hash-chain check, for the API (``/audit``), the
web's admin pages (``/admin/audit``) and ``citycarbon audit list|verify``.

Who may: reading the log and checking its chain is for administrators (:meth:`Principal.can_read_audit`),
applied here once; anyone else is :class:`~citycarbon.errors.Forbidden`. The CLI acts as
:func:`citycarbon.services.users.cli_principal` (an administrator). Reads write nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from citycarbon.auth.principal import Principal
from citycarbon.errors import Forbidden, InputError, Problem
from citycarbon.store import audit
from citycarbon.store.audit import VerifyResult
from citycarbon.store.backup import read_manifest

if TYPE_CHECKING:
    from citycarbon.store.db import Database

__all__ = ["AuditPage", "ChainCheck", "VerifyResult", "list_entries", "verify_chain"]


@dataclass(frozen=True)
class AuditPage:
    """Entries matching the filters, newest first (``before``/``after`` as plain values), and the total."""

    entries: list[dict[str, Any]]
    total: int


@dataclass(frozen=True)
class ChainCheck:
    """The chain check (:class:`VerifyResult`: ``ok``, rows checked, the first bad seq and why), and the backup
    whose audit head was required to still be in the chain (``anchor``: seq, hash, file), when one was given."""

    result: VerifyResult
    anchor: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.result.ok

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``citycarbon audit verify`` and the API have always answered (``anchor`` only with a backup)."""
        document = asdict(self.result)
        if self.anchor is not None:
            document["anchor"] = dict(self.anchor)
        return document


def _require_reader(principal: Principal, db: Database) -> None:
    """Administrators; the log is the deployment's, not split by city, so a caller scoped to a city other than
    the deployment's (``db.settings.city``) is refused like on every other face (city scope)."""
    if not principal.can_read_audit():
        raise Forbidden("审计日志仅限管理员 / the audit log is for administrators")
    from citycarbon.services.cities import require_city

    require_city(principal, str(getattr(getattr(db, "settings", None), "city", "") or "dalian"))


def list_entries(db: Database, principal: Principal, *, actor: str | None = None, entity: str | None = None,
                 action: str | None = None, entity_id: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 50, offset: int = 0) -> AuditPage:
    """Audit entries matching every given filter (``since`` inclusive, ``until`` exclusive), newest first, from
    ``offset``, at most ``limit``; and how many match in all."""
    _require_reader(principal, db)
    filters: dict[str, Any] = {"actor": actor, "entity": entity, "action": action, "entity_id": entity_id,
                               "since": since, "until": until}
    with db.session() as session:
        total = audit.count(session, **filters)
        entries = audit.query(session, limit=limit, offset=offset, **filters)
    return AuditPage(entries=entries, total=total)


def verify_chain(db: Database, principal: Principal, *, against: str | Path | None = None) -> ChainCheck:
    """Walk the hash chain from its first row. ``against``: a backup archive whose audit head must still be in
    the chain (so removing the newest rows is detected too); an archive without one is an :class:`InputError`
    naming the file."""
    _require_reader(principal, db)
    anchor: tuple[int, str] | None = None
    if against is not None:
        try:
            head = read_manifest(against)["audit"]
            anchor = (int(head["checked"]), head["head_hash"] or "")
        except KeyError as error:
            raise InputError(Problem(f"the backup names no audit head ({error})", file=str(against),
                                     field="audit")) from error
    with db.session() as session:
        result = audit.verify(session, anchor)
    shown = None if anchor is None else {"seq": anchor[0], "hash": anchor[1], "from": str(against)}
    return ChainCheck(result=result, anchor=shown)
