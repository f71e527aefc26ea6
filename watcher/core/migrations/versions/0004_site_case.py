"""one case per site: the site_case table and candidate.case_id (www. and bare name grouped)

Revision ID: 0004
Revises: 0003
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_WWW = re.compile(r"^www\d{0,2}\.(?=[^.]+\.)")


def upgrade() -> None:
    op.create_table(
        "site_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("site_key", sa.String(253), nullable=False),
        sa.Column("registrable", sa.String(253), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("joins", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brand.id"]),
        sa.ForeignKeyConstraint(["merged_into_id"], ["site_case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("site_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_case_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_case_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_case_registrable"), ["registrable"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_case_site_key"), ["site_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_site_case_status"), ["status"], unique=False)
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_candidate_case_id"), ["case_id"], unique=False)
        batch_op.create_foreign_key("fk_candidate_case_id_site_case", "site_case", ["case_id"], ["id"])
    _backfill()


def _backfill() -> None:
    """Existing candidates: one case per host without ``www.`` (the rule of watcher.core.cases)."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, domain, registrable, brand_id, first_seen_at, status FROM candidate ORDER BY id")).fetchall()
    cases: dict[str, int] = {}
    for cid, domain, registrable, brand_id, first_seen, status in rows:
        key = _WWW.sub("", domain)
        if key not in cases:
            closed = status in ("down", "dismissed")
            cases[key] = conn.execute(sa.text(
                "INSERT INTO site_case (brand_id, site_key, registrable, status, opened_at, closed_at, joins) "
                "VALUES (:b, :k, :r, :s, :o, :c, '[]') RETURNING id"),
                {"b": brand_id, "k": key, "r": registrable, "s": "closed" if closed else "open",
                 "o": first_seen, "c": first_seen if closed else None}).scalar_one()
        conn.execute(sa.text("UPDATE candidate SET case_id = :c WHERE id = :i"), {"c": cases[key], "i": cid})


def downgrade() -> None:
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_constraint("fk_candidate_case_id_site_case", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_candidate_case_id"))
        batch_op.drop_column("case_id")
    op.drop_table("site_case")
