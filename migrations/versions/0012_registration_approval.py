"""registration approval: events.requires_approval, approval_holds_seat and show_seats_left;
pending_approval and declined registrations

Revision ID: 0012
Revises: 0011 (until the branches adding 0009 to 0011 land; then 0011)
Create Date: 2026-12-02 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OLD_STATUSES = (
    "status IN ('confirmed', 'waitlisted', 'pending_payment', 'unverified', 'cancelled',"
    " 'walk_in')"
)
NEW_STATUSES = (
    "status IN ('confirmed', 'waitlisted', 'pending_payment', 'unverified', 'cancelled',"
    " 'walk_in', 'pending_approval', 'declined')"
)


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('requires_approval', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column('approval_holds_seat', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column('show_seats_left', sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('approval_seat', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f('ck_registrations_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_registrations_status'), NEW_STATUSES)
        batch_op.create_check_constraint(
            op.f('ck_registrations_approval_seat_pending'),
            "NOT approval_seat OR status = 'pending_approval'",
        )


def downgrade():
    # The old schema has no word for a registration awaiting or refused approval: both are
    # dropped back to cancelled, and a seat held for a pending one is given back.
    op.execute(
        "UPDATE events SET seats_taken = seats_taken - (SELECT count(*) FROM registrations"
        " WHERE registrations.event_id = events.id AND registrations.approval_seat)"
    )
    op.execute(
        "UPDATE registrations SET status = 'cancelled', approval_seat = false"
        " WHERE status IN ('pending_approval', 'declined')"
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_registrations_approval_seat_pending'), type_='check')
        batch_op.drop_constraint(op.f('ck_registrations_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_registrations_status'), OLD_STATUSES)
        batch_op.drop_column('decided_at')
        batch_op.drop_column('approval_seat')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('show_seats_left')
        batch_op.drop_column('approval_holds_seat')
        batch_op.drop_column('requires_approval')
