"""Taught examples: questions editors filed under a topic (or out of scope) for the model

Revision ID: 0006_teach
Revises: 0006_answers
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_teach'
down_revision: str | None = '0006_answers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('taught_examples',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('taught_by', sa.BigInteger(), nullable=True),
    sa.Column('source_question_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_question_id'], ['question_log.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_question_id', name='uq_taught_source')
    )
    op.create_index('ix_taught_created', 'taught_examples', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_taught_created', table_name='taught_examples')
    op.drop_table('taught_examples')
