"""Travellers: trips and followed countries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trips',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('home_contact', sa.String(length=200), nullable=True),
    sa.Column('reminder_sent', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.create_index('ix_trips_country_dates', ['country', 'starts_on', 'ends_on'],
                              unique=False)
        batch_op.create_index('ix_trips_reminder', ['reminder_sent', 'starts_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_trips_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trips_ends_on'), ['ends_on'], unique=False)

    op.create_table('country_follows',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'country')
    )
    with op.batch_alter_table('country_follows', schema=None) as batch_op:
        batch_op.create_index('ix_country_follows_country', ['country'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('country_follows', schema=None) as batch_op:
        batch_op.drop_index('ix_country_follows_country')
    op.drop_table('country_follows')
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trips_ends_on'))
        batch_op.drop_index(batch_op.f('ix_trips_user_id'))
        batch_op.drop_index('ix_trips_reminder')
        batch_op.drop_index('ix_trips_country_dates')
    op.drop_table('trips')
