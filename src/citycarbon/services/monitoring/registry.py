"""The monitoring registry (key units: enterprises, metering points, products) in the store: read it, and import
a validated one (``citycarbon monitoring registry import|export``, and every command that reads the store's
registry).

The store keeps the registry versioned (:mod:`citycarbon.store.monitoring_registry`: PostgreSQL in production, the
SQLite file of ``CITYCARBON_HOME`` embedded); an import is validated whole (errors name file, row and field) and
written in one audited transaction, or not at all; identical content writes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from citycarbon.errors import InputError, Problem
from citycarbon.monitoring.registry import Registry
from citycarbon.store import monitoring_registry as stored
from citycarbon.store.monitoring_registry import SaveReport

if TYPE_CHECKING:
    from citycarbon.store.db import Database

__all__ = ["SaveReport", "import_registry", "stored_registry"]


def stored_registry(db: Database) -> Registry:
    """The store's registry; an :class:`InputError` naming the database when it holds none yet."""
    loaded = stored.load_registry_from_db(db)
    if loaded is None:
        raise InputError(Problem("the store holds no registry; run 'citycarbon monitoring registry import FILES' "
                                 "or pass --registry DIR", file=db.settings.redacted_url()))
    return loaded


def import_registry(db: Database, source: Any, actor: Any, *, label: str | None = None) -> SaveReport:
    """Validate ``source`` (files or a folder :func:`citycarbon.monitoring.registry.load_registry` takes, or a
    :class:`Registry`) and make it the store's registry (audited under ``actor``; nothing written when refused
    or unchanged). Returns the version now current and whether anything was written."""
    return stored.save_registry(db, source, actor, label=label)
