"""walk-ins: registrations.status gains walk_in; events.ended_at, the webinar's actual end

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('confirmed', 'waitlisted', 'pending_payment', 'unverified', 'cancelled')"
NEW_STATUSES = (
    "status IN ('confirmed', 'waitlisted', 'pending_payment', 'unverified', 'cancelled', 'walk_in')"
)


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_registrations_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_registrations_status'), NEW_STATUSES)


def downgrade():
    # The old schema has no word for a walk-in: they were never registered, so their rows go
    # (their leads and follow-ups stay).
    op.execute("DELETE FROM registrations WHERE status = 'walk_in'")
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_registrations_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_registrations_status'), OLD_STATUSES)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('ended_at')
