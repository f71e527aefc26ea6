"""mail reports: defects of an aggregate report, failure (forensic) reports, SMTP TLS reports

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dmarc_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("defects", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.create_table(
        "dmarc_failure_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("reporter", sa.String(), nullable=False),
        sa.Column("arrival_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_ip", sa.String(), nullable=False),
        sa.Column("feedback_type", sa.String(), nullable=False),
        sa.Column("auth_failure", sa.String(), nullable=False),
        sa.Column("delivery_result", sa.String(), nullable=False),
        sa.Column("header_from", sa.String(), nullable=False),
        sa.Column("envelope_from", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw_sha256", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dmarc_failure_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dmarc_failure_report_key"), ["key"], unique=True)
        batch_op.create_index(batch_op.f("ix_dmarc_failure_report_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_dmarc_failure_report_arrival_at"), ["arrival_at"], unique=False)
    op.create_table(
        "tls_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("org_name", sa.String(), nullable=False),
        sa.Column("report_id", sa.String(), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("begin_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw_sha256", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tls_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tls_report_key"), ["key"], unique=True)
        batch_op.create_index(batch_op.f("ix_tls_report_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_tls_report_begin_at"), ["begin_at"], unique=False)


def downgrade() -> None:
    op.drop_table("tls_report")
    op.drop_table("dmarc_failure_report")
    with op.batch_alter_table("dmarc_report", schema=None) as batch_op:
        batch_op.drop_column("defects")
