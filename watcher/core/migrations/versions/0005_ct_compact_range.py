"""CT log positions: the compact range kept with the position (RFC 6962 entries verified one by one),
and since when the position lags its tree head (the watchdog)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("log_position") as batch:
        batch.add_column(sa.Column("compact_range", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("range_size", sa.Integer(), nullable=False, server_default=sa.text("-1")))
        batch.add_column(sa.Column("behind_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_position") as batch:
        batch.drop_column("behind_since")
        batch.drop_column("range_size")
        batch.drop_column("compact_range")
