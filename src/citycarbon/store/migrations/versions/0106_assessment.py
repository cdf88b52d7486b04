"""Assessment (考核) and the yearly reports (issue 16).

* ``assess_schemes``: assessment schemes as versioned YAML text per city;
* ``assess_runs``, ``assess_scores``: an assessment of a year (draft → published, frozen with its ledger version)
  and each unit's score with the evidence behind every point;
* ``assess_adjustments``, ``assess_objections``: the office's qualitative values (with reasons) and the units'
  objections with the office's answers;
* ``jobs.progress``: how far a running job is (report generation shows it);
* ``report_documents``, ``report_narratives``: generated reports (bytes, ledger version, inputs hash) and the
  editable narrative sections of the drafts.

See ``store/assessment_models.py``.

Revision ID: 0106_assessment
Revises: 0105_projects
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0106_assessment'
down_revision = '0105_projects'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress", sa.JSON(), nullable=True))
    op.create_table('assess_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('city', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=False),
    sa.Column('scheme_version', sa.Integer(), nullable=False),
    sa.Column('scheme_sha256', sa.String(length=64), nullable=False),
    sa.Column('ledger_version', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('objection_until', sa.Date(), nullable=True),
    sa.Column('inputs_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=128), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('publish_note', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id',
        name=op.f('pk_assess_runs'))
    )
    with op.batch_alter_table('assess_runs', schema=None) as batch_op:
        batch_op.create_index('ix_assess_runs_city_year', ['city', 'year', 'scheme_code'], unique=False)

    op.create_table('assess_schemes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('city', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id',
        name=op.f('pk_assess_schemes')),
    sa.UniqueConstraint('city', 'code', 'version',
        name=op.f('uq_assess_schemes_city_code_version'))
    )
    op.create_table('report_narratives',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('city', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('org_code', sa.String(length=64), nullable=False),
    sa.Column('section', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id',
        name=op.f('pk_report_narratives')),
    sa.UniqueConstraint('city', 'year', 'org_code', 'section',
        name=op.f('uq_report_narratives_city_year_org_code_section'))
    )
    op.create_table('assess_adjustments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('points', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('adjusted_by', sa.String(length=128), nullable=False),
    sa.Column('adjusted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['assess_runs.id'],
        name=op.f('fk_assess_adjustments_run_id_assess_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id',
        name=op.f('pk_assess_adjustments'))
    )
    with op.batch_alter_table('assess_adjustments', schema=None) as batch_op:
        batch_op.create_index('ix_assess_adjustments_run_unit', ['run_id', 'unit_code'], unique=False)

    op.create_table('assess_objections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('filed_by', sa.String(length=128), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_by', sa.String(length=128), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['assess_runs.id'],
        name=op.f('fk_assess_objections_run_id_assess_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id',
        name=op.f('pk_assess_objections'))
    )
    with op.batch_alter_table('assess_objections', schema=None) as batch_op:
        batch_op.create_index('ix_assess_objections_run_unit', ['run_id', 'unit_code'], unique=False)

    op.create_table('assess_scores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('unit_kind', sa.String(length=32), nullable=False),
    sa.Column('unit_name_zh', sa.String(length=300), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=True),
    sa.Column('total', sa.String(length=16), nullable=False),
    sa.Column('grade', sa.String(length=32), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('estimate', sa.Boolean(), nullable=False),
    sa.Column('vetoed', sa.Boolean(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['assess_runs.id'],
        name=op.f('fk_assess_scores_run_id_assess_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id',
        name=op.f('pk_assess_scores')),
    sa.UniqueConstraint('run_id', 'unit_code',
        name=op.f('uq_assess_scores_run_id_unit_code'))
    )
    with op.batch_alter_table('assess_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assess_scores_run_id'), ['run_id'], unique=False)

    op.create_table('report_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('city', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('org_code', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('media_type', sa.String(length=128), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('ledger_version', sa.Integer(), nullable=False),
    sa.Column('inputs_hash', sa.String(length=64), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('assessment_run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_run_id'], ['assess_runs.id'],
        name=op.f('fk_report_documents_assessment_run_id_assess_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id',
        name=op.f('pk_report_documents'))
    )
    with op.batch_alter_table('report_documents', schema=None) as batch_op:
        batch_op.create_index('ix_report_documents_scope', ['city', 'year', 'scope', 'org_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_report_documents_scope')

    op.drop_table('report_documents')
    with op.batch_alter_table('assess_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assess_scores_run_id'))

    op.drop_table('assess_scores')
    with op.batch_alter_table('assess_objections', schema=None) as batch_op:
        batch_op.drop_index('ix_assess_objections_run_unit')

    op.drop_table('assess_objections')
    with op.batch_alter_table('assess_adjustments', schema=None) as batch_op:
        batch_op.drop_index('ix_assess_adjustments_run_unit')

    op.drop_table('assess_adjustments')
    op.drop_table('report_narratives')
    op.drop_table('assess_schemes')
    with op.batch_alter_table('assess_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_assess_runs_city_year')

    op.drop_table('assess_runs')
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("progress")
