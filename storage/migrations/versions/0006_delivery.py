"""Deliveries claimed in batches under a lease; a partial index on pending rows

Revision ID: 0006_delivery
Revises: 0005_outbound
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_delivery'
down_revision: str | None = '0005_outbound'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("state = 'pending'")
SENDING = sa.text("state = 'sending'")


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True),
                                      nullable=True))
    # Claims walk only the rows still to send, however many a run has sent already.
    op.create_index('ix_deliveries_pending', 'deliveries', ['run_id', 'id'],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index('ix_deliveries_sending', 'deliveries', ['run_id', 'claimed_until'],
                    postgresql_where=SENDING, sqlite_where=SENDING)


def downgrade() -> None:
    op.drop_index('ix_deliveries_sending', table_name='deliveries')
    op.drop_index('ix_deliveries_pending', table_name='deliveries')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
