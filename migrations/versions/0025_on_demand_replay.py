"""on-demand replay: registrations made through a past event's replay form (status on_demand)
and the on-demand attendance of every registration (on_demand_at, on_demand_views)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 09:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

OLD_STATUSES = (
    "status IN ('confirmed', 'waitlisted', 'pending_payment', 'unverified', 'cancelled',"
    " 'walk_in', 'pending_approval', 'declined')"
)
NEW_STATUSES = (
    "status IN ('confirmed', 'waitlisted', 'pending_payment', 'unverified', 'cancelled',"
    " 'walk_in', 'pending_approval', 'declined', 'on_demand')"
)


def upgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("on_demand_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("on_demand_views", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.drop_constraint(op.f("ck_registrations_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_registrations_status"), NEW_STATUSES)


def downgrade():
    # The old schema has no word for a replay-only registration: it becomes cancelled.
    op.execute("UPDATE registrations SET status = 'cancelled' WHERE status = 'on_demand'")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_registrations_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_registrations_status"), OLD_STATUSES)
        batch_op.drop_column("on_demand_views")
        batch_op.drop_column("on_demand_at")
