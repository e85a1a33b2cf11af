"""Journeys: a trip's legs (countries with their dates) and travelling companions; every
existing trip becomes a one-leg journey

Revision ID: 0006_journeys
Revises: 0005_outbound
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_journeys'
down_revision: str | None = '0006_appointments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'trip_legs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('trip_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('reminder_sent', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['trip_id'], ['trips.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('trip_id', 'position', name='uq_trip_legs_position'),
    )
    op.create_index('ix_trip_legs_country_dates', 'trip_legs',
                    ['country', 'starts_on', 'ends_on'])
    op.create_index('ix_trip_legs_trip_id', 'trip_legs', ['trip_id'])
    op.create_index('ix_trip_legs_user_id', 'trip_legs', ['user_id'])
    op.create_table(
        'trip_companions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('trip_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['trip_id'], ['trips.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_trip_companions_trip_id', 'trip_companions', ['trip_id'])
    op.create_index('ix_trip_companions_user_id', 'trip_companions', ['user_id'])
    op.execute(
        "INSERT INTO trip_legs (trip_id, user_id, position, country, starts_on, ends_on, "
        "reminder_sent) SELECT id, user_id, 0, country, starts_on, ends_on, reminder_sent "
        "FROM trips")


def downgrade() -> None:
    op.drop_index('ix_trip_companions_user_id', table_name='trip_companions')
    op.drop_index('ix_trip_companions_trip_id', table_name='trip_companions')
    op.drop_table('trip_companions')
    op.drop_index('ix_trip_legs_user_id', table_name='trip_legs')
    op.drop_index('ix_trip_legs_trip_id', table_name='trip_legs')
    op.drop_index('ix_trip_legs_country_dates', table_name='trip_legs')
    op.drop_table('trip_legs')
