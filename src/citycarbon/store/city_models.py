"""Store models of explicit cities (migration ``0103_city_targets``).

``city_profiles``   one row per city created with ``citycarbon city init`` (or seeded): its accounting profile
                    (the mapping of ``data/<city>/accounting.yaml``'s ``options``), who created it and when.
``users.city``      (a column of ``auth_models.User``) the one city a user is scoped to; NULL: every city of
                    the deployment (the deployment's administrators).

Target values set in the platform and their district allocations are not tables of their own: they are the
ledger datasets ``target_values`` and ``target_allocations`` (``data/tables.yaml``), versioned and audited
like every other dataset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from citycarbon.store.base import Base
from citycarbon.store.types import UTCDateTime, utcnow

__all__ = ["CityProfile"]


class CityProfile(Base):
    """A city's accounting profile (options mapping; None = the documented defaults) and its origin."""

    __tablename__ = "city_profiles"

    code: Mapped[str] = mapped_column(ForeignKey("plans.code", ondelete="CASCADE"), primary_key=True)
    accounting: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    accounting_source: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
