"""Dialogue: officer requests, their messages, feedback on answers, question log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'question_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=True),
        sa.Column('lang', sa.String(length=2), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_question_log_created', 'question_log', ['created_at'])
    op.create_index('ix_question_log_user_id', 'question_log', ['user_id'])

    op.create_table(
        'officer_requests',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=True),
        sa.Column('lang', sa.String(length=2), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('topic', sa.String(length=64), nullable=True),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=True),
        sa.Column('thread_id', sa.Integer(), nullable=True),
        sa.Column('header_message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('first_reply_at', TZ, nullable=True),
        sa.Column('sla_flagged_at', TZ, nullable=True),
        sa.Column('closed_at', TZ, nullable=True),
        sa.Column('reopened_at', TZ, nullable=True),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['question_id'], ['question_log.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_officer_requests_user_status', 'officer_requests',
                    ['user_id', 'status'])
    op.create_index('ix_officer_requests_status_created', 'officer_requests',
                    ['status', 'created_at'])

    op.create_table(
        'request_messages',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('citizen_message_id', sa.Integer(), nullable=True),
        sa.Column('group_message_id', sa.Integer(), nullable=True),
        sa.Column('officer_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['officer_requests.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_request_messages_request_id', 'request_messages', ['request_id'])

    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.BigInteger(), nullable=True),
        sa.Column('lang', sa.String(length=2), nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('helpful', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['question_id'], ['question_log.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('question_id', name='uq_feedback_question'),
    )
    op.create_index('ix_feedback_created', 'feedback', ['created_at'])
    op.create_index('ix_feedback_user_id', 'feedback', ['user_id'])

    op.create_table(
        'job_claims',
        sa.Column('key', sa.String(length=96), nullable=False),
        sa.Column('claimed_at', TZ, nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('job_claims')
    op.drop_index('ix_feedback_user_id', table_name='feedback')
    op.drop_index('ix_feedback_created', table_name='feedback')
    op.drop_table('feedback')
    op.drop_index('ix_request_messages_request_id', table_name='request_messages')
    op.drop_table('request_messages')
    op.drop_index('ix_officer_requests_status_created', table_name='officer_requests')
    op.drop_index('ix_officer_requests_user_status', table_name='officer_requests')
    op.drop_table('officer_requests')
    op.drop_index('ix_question_log_user_id', table_name='question_log')
    op.drop_index('ix_question_log_created', table_name='question_log')
    op.drop_table('question_log')
