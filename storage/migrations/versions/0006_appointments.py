"""Appointments: weekly templates, closed and extra days, slots, bookings

Revision ID: 0006_appointments
Revises: 0005_outbound
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_appointments'
down_revision: str | None = '0005_outbound'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table('appointment_templates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('mission', sa.String(length=40), nullable=False),
    sa.Column('service', sa.String(length=24), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts', sa.String(length=5), nullable=False),
    sa.Column('ends', sa.String(length=5), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mission', 'service', 'weekday', 'starts', name='uq_appt_template')
    )
    op.create_index('ix_appointment_templates_mission', 'appointment_templates', ['mission'])
    op.create_table('appointment_exceptions',
    sa.Column('mission', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=6), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('mission', 'day')
    )
    op.create_table('appointment_slots',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('mission', sa.String(length=40), nullable=False),
    sa.Column('service', sa.String(length=24), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mission', 'service', 'starts_at', name='uq_appt_slot')
    )
    op.create_index('ix_appt_slots_mission_start', 'appointment_slots',
                    ['mission', 'starts_at'])
    op.create_table('appointments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('mission', sa.String(length=40), nullable=False),
    sa.Column('service', sa.String(length=24), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['slot_id'], ['appointment_slots.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appointments_user_id', 'appointments', ['user_id'])
    op.create_index('ix_appointments_reminder', 'appointments',
                    ['status', 'reminded_at', 'starts_at'])
    op.create_index('uq_appointments_slot_active', 'appointments', ['slot_id'], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_index('uq_appointments_user_service_active', 'appointments',
                    ['user_id', 'service'], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index('uq_appointments_user_service_active', table_name='appointments')
    op.drop_index('uq_appointments_slot_active', table_name='appointments')
    op.drop_index('ix_appointments_reminder', table_name='appointments')
    op.drop_index('ix_appointments_user_id', table_name='appointments')
    op.drop_table('appointments')
    op.drop_index('ix_appt_slots_mission_start', table_name='appointment_slots')
    op.drop_table('appointment_slots')
    op.drop_table('appointment_exceptions')
    op.drop_index('ix_appointment_templates_mission', table_name='appointment_templates')
    op.drop_table('appointment_templates')
