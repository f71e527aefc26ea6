"""owned inventory: per-source sightings, gone names, certificates for our names

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("owned_domain", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_by", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "owned_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("apex", sa.String(length=253), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("issuer_org", sa.String(length=255), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("log", sa.String(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.Column("precert", sa.Boolean(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brand.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "fingerprint", name="uq_owned_certificate_name_fp"),
    )
    for col in ("name", "apex", "brand_id", "issuer_org"):
        op.create_index(f"ix_owned_certificate_{col}", "owned_certificate", [col], unique=False)


def downgrade() -> None:
    for col in ("name", "apex", "brand_id", "issuer_org"):
        op.drop_index(f"ix_owned_certificate_{col}", table_name="owned_certificate")
    op.drop_table("owned_certificate")
    with op.batch_alter_table("owned_domain", schema=None) as batch_op:
        batch_op.drop_column("gone_at")
        batch_op.drop_column("seen_by")
