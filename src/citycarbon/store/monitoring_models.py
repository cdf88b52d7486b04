"""Store models of monitoring submissions (issue 6): one row per batch of meter readings an enterprise sent
(HTTP, MQTT, or a file through the CLI), and the rows of it that were rejected, with the reason.

The lake (``citycarbon.monitoring.lake``) keeps the readings themselves and only for batches that stored
something; these tables keep every submission, including one that stored nothing or was refused whole, so an
enterprise can see what went wrong. Migration ``0003_monitoring_submissions`` creates them; keep the two in
step. Writes and reads are in ``store/monitoring_submissions.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from citycarbon.store.base import Base
from citycarbon.store.types import BigId, UTCDateTime

#: how a batch arrived
CHANNELS: tuple[str, ...] = ("http", "mqtt", "file")
#: ``stored``: the lake holds a new batch; ``nothing_new``: every row was a duplicate or rejected;
#: ``refused``: the whole submission was refused before its rows were checked (bad JSON, too large …)
STATUSES: tuple[str, ...] = ("stored", "nothing_new", "refused")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class MonitoringSubmission(Base):
    """One batch of readings as received. ``rejected`` is always the exact count; ``rejections_kept`` how many
    of those rows are kept in ``monitoring_rejections`` (the first ones, up to a cap)."""

    __tablename__ = "monitoring_submissions"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("rejections_kept <= rejected", name="kept"),
        Index("ix_monitoring_submissions_enterprise_received", "enterprise_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: None only for an administrator's batch that was refused before its points were known
    enterprise_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    submitted_by: Mapped[str] = mapped_column(String(100), nullable=False)
    #: the API token's public prefix (``cc_<prefix>_…``), never the secret
    token_prefix: Mapped[str | None] = mapped_column(String(16), nullable=True)
    client_batch_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lake_batch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(300), nullable=False)
    rows_received: Mapped[int] = mapped_column(Integer, nullable=False)
    accepted: Mapped[int] = mapped_column(Integer, nullable=False)
    duplicate: Mapped[int] = mapped_column(Integer, nullable=False)
    revised: Mapped[int] = mapped_column(Integer, nullable=False)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False)
    rejections_kept: Mapped[int] = mapped_column(Integer, nullable=False)
    refusal: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)

    def __repr__(self) -> str:
        return (f"MonitoringSubmission(id={self.id!r}, enterprise_id={self.enterprise_id!r}, "
                f"channel={self.channel!r}, status={self.status!r})")


class MonitoringRejection(Base):
    """A rejected row of a submission: its 1-based row number in the batch, point, field and reason."""

    __tablename__ = "monitoring_rejections"

    submission_id: Mapped[int] = mapped_column(BigId, ForeignKey("monitoring_submissions.id", ondelete="CASCADE"),
                                               primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    point_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    field: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
