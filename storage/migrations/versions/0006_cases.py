"""Cases: applications a citizen can look up and follow, their steps, lookups and notices

Revision ID: 0006_cases
Revises: 0006_appointments
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_cases'
down_revision: str | None = '0006_journeys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('service', sa.String(length=24), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('mission', sa.String(length=40), nullable=False),
    sa.Column('factor', sa.String(length=4), nullable=False),
    sa.Column('factor_salt', sa.String(length=32), nullable=False),
    sa.Column('factor_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_closed_at', ['closed_at'], unique=False)

    op.create_table('case_steps',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_steps_case_id'), ['case_id'], unique=False)

    op.create_table('case_followers',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'user_id')
    )
    with op.batch_alter_table('case_followers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_followers_user_id'), ['user_id'], unique=False)

    op.create_table('case_lookups',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_lookups', schema=None) as batch_op:
        batch_op.create_index('ix_case_lookups_user_at', ['user_id', 'at'], unique=False)
        batch_op.create_index('ix_case_lookups_case_at', ['case_id', 'at'], unique=False)

    op.create_table('case_notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['step_id'], ['case_steps.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('step_id', 'user_id', name='uq_case_notices_step_user')
    )
    with op.batch_alter_table('case_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notices_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notices_user_id'))
    op.drop_table('case_notices')
    with op.batch_alter_table('case_lookups', schema=None) as batch_op:
        batch_op.drop_index('ix_case_lookups_case_at')
        batch_op.drop_index('ix_case_lookups_user_at')
    op.drop_table('case_lookups')
    with op.batch_alter_table('case_followers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_followers_user_id'))
    op.drop_table('case_followers')
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_steps_case_id'))
    op.drop_table('case_steps')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_closed_at')
    op.drop_table('cases')
