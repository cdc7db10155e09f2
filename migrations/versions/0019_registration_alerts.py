"""hot registrants: a rule's "alert on registration", a rep's meeting link, one alert per registration

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 14:50:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "alert_on_registration", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("rep_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_url", sa.String(length=500), nullable=True))
    op.create_table(
        "registration_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("why", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'none')", name=op.f("ck_registration_alerts_status")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_registration_alerts_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rep_id"],
            ["users.id"],
            name=op.f("fk_registration_alerts_rep_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_alerts")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_registration_alerts_registration_id")),
    )
    with op.batch_alter_table("registration_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_alerts_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("registration_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_alerts_status"))
    op.drop_table("registration_alerts")
    with op.batch_alter_table("rep_profiles", schema=None) as batch_op:
        batch_op.drop_column("meeting_url")
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.drop_column("alert_on_registration")
