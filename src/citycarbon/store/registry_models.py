"""Store models of the monitoring registry (issue 6): key energy-using units, their metering points and products.

The registry's columns are those of :mod:`citycarbon.monitoring.registry` (docs/monitoring.md "Data model"); each
row also keeps its ``position`` in the imported table, so the store gives back the frames exactly as they were
imported. Foreign keys: a point and a product belong to an enterprise; a sub-meter's ``parent_point_id`` is a
point (NULL for a main meter; the frames carry ``""``). ``monitoring_registry_versions`` has one row per save
(who, when, from what, content hash, row counts): ``max(id)`` is the registry version, which caches compare
instead of reading the tables. Migration ``0004_monitoring_registry`` creates them; keep the two in step.
Reads and writes are in ``store/monitoring_registry.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from citycarbon.store.base import Base
from citycarbon.store.types import BigId, UTCDateTime

__all__ = ["RegistryEnterprise", "RegistryPoint", "RegistryProduct", "RegistryVersion"]


class RegistryEnterprise(Base):
    """A key energy-using unit (重点用能单位)."""

    __tablename__ = "monitoring_enterprises"
    __table_args__ = (CheckConstraint("tier IN (1, 2)", name="tier"),)

    enterprise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    uscc: Mapped[str] = mapped_column(String(18), nullable=False, unique=True)
    industry_code: Mapped[str] = mapped_column(String(8), nullable=False)
    region: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    tier: Mapped[int] = mapped_column(Integer, nullable=False)
    annual_budget_tce: Mapped[float | None] = mapped_column(Float, nullable=True)
    budget_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    annual_energy_tce: Mapped[float | None] = mapped_column(Float, nullable=True)


class RegistryProduct(Base):
    """A product of an enterprise with its energy-consumption limit (单位产品能耗限额)."""

    __tablename__ = "monitoring_products"

    product_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("monitoring_enterprises.enterprise_id"), nullable=False,
                                               index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    unit: Mapped[str] = mapped_column(String(64), nullable=False)
    product_type: Mapped[str] = mapped_column(String(64), nullable=False)
    limit_standard: Mapped[str] = mapped_column(Text, nullable=False)
    limit_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    limit_unit: Mapped[str] = mapped_column(String(64), nullable=False)


class RegistryPoint(Base):
    """A metering point; ``parent_point_id`` names a sub-meter's main meter."""

    __tablename__ = "monitoring_points"
    __table_args__ = (
        CheckConstraint("kind IN ('interval', 'cumulative')", name="kind"),
        CheckConstraint("interval_minutes IN (15, 30, 60)", name="interval_minutes"),
        CheckConstraint("multiplier >= 1", name="multiplier"),
    )

    point_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("monitoring_enterprises.enterprise_id"), nullable=False,
                                               index=True)
    energy_type: Mapped[str] = mapped_column(String(32), nullable=False)
    unit: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    multiplier: Mapped[float] = mapped_column(Float, nullable=False)
    parent_point_id: Mapped[str | None] = mapped_column(ForeignKey("monitoring_points.point_id"), nullable=True,
                                                        index=True)
    interval_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    register_max: Mapped[float | None] = mapped_column(Float, nullable=True)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)


class RegistryVersion(Base):
    """One save of the registry; ``max(id)`` is the registry version."""

    __tablename__ = "monitoring_registry_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    saved_by: Mapped[str] = mapped_column(String(100), nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    enterprises: Mapped[int] = mapped_column(Integer, nullable=False)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    products: Mapped[int] = mapped_column(Integer, nullable=False)
