"""Monitoring submissions: every batch of meter readings sent over HTTP, MQTT or a CLI file ingest, with the
rows it rejected (issue 6; models in ``store/monitoring_models.py``, writes in ``store/monitoring_submissions.py``).

Revision ID: 0003_monitoring_submissions
Revises: 0002_auth
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_monitoring_submissions"
down_revision = "0002_auth"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CHANNELS = ("http", "mqtt", "file")
_STATUSES = ("stored", "nothing_new", "refused")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "monitoring_submissions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=True),
        sa.Column("client_batch_id", sa.String(length=200), nullable=True),
        sa.Column("lake_batch_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("rows_received", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("revised", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("rejections_kept", sa.Integer(), nullable=False),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("channel", _CHANNELS), name=op.f("ck_monitoring_submissions_channel")),
        sa.CheckConstraint(_in("status", _STATUSES), name=op.f("ck_monitoring_submissions_status")),
        sa.CheckConstraint("rejections_kept <= rejected", name=op.f("ck_monitoring_submissions_kept")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_submissions")),
    )
    with op.batch_alter_table("monitoring_submissions", schema=None) as batch_op:
        batch_op.create_index("ix_monitoring_submissions_enterprise_received", ["enterprise_id", "received_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_monitoring_submissions_received_at"), ["received_at"], unique=False)

    op.create_table(
        "monitoring_rejections",
        sa.Column("submission_id", _ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.String(length=200), nullable=True),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["monitoring_submissions.id"],
                                name=op.f("fk_monitoring_rejections_submission_id_monitoring_submissions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("submission_id", "seq", name=op.f("pk_monitoring_rejections")),
    )


def downgrade() -> None:
    op.drop_table("monitoring_rejections")
    with op.batch_alter_table("monitoring_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_submissions_received_at"))
        batch_op.drop_index("ix_monitoring_submissions_enterprise_received")
    op.drop_table("monitoring_submissions")
