"""rdap answers: the RDAP/WHOIS answer cache shared by every host

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rdap_answer",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=253), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    with op.batch_alter_table("rdap_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rdap_answer_fetched_at"), ["fetched_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rdap_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rdap_answer_fetched_at"))
    op.drop_table("rdap_answer")
