"""takedown requests: mode, the desk's ticket, replies for a person; blocklist submissions

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("takedown_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mode", sa.String(32), nullable=False, server_default="suspend"))
        batch_op.add_column(sa.Column("ticket", sa.String(200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("ticket_message_id", sa.String(255), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("needs_person", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "blocklist_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_to_listed_seconds", sa.Float(), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("blocklist_submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blocklist_submission_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_blocklist_submission_service"), ["service"], unique=False)
        batch_op.create_index(batch_op.f("ix_blocklist_submission_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("blocklist_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blocklist_submission_status"))
        batch_op.drop_index(batch_op.f("ix_blocklist_submission_service"))
        batch_op.drop_index(batch_op.f("ix_blocklist_submission_candidate_id"))
    op.drop_table("blocklist_submission")
    with op.batch_alter_table("takedown_request", schema=None) as batch_op:
        batch_op.drop_column("needs_person")
        batch_op.drop_column("ticket_message_id")
        batch_op.drop_column("ticket")
        batch_op.drop_column("mode")
