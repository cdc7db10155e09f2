"""double opt-in: events.double_opt_in, unverified registrations with a deadline

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('confirmed', 'waitlisted', 'pending_payment', 'cancelled')"
NEW_STATUSES = "status IN ('confirmed', 'waitlisted', 'pending_payment', 'unverified', 'cancelled')"


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('double_opt_in', sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verify_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('verified_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f('ck_registrations_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_registrations_status'), NEW_STATUSES)
        batch_op.create_check_constraint(
            op.f('ck_registrations_verified_status'),
            "verified_status IS NULL OR verified_status IN ('confirmed', 'waitlisted')",
        )
        batch_op.create_check_constraint(
            op.f('ck_registrations_unverified_has_deadline'),
            "status <> 'unverified' OR (verify_by IS NOT NULL AND verified_status IS NOT NULL)",
        )
        # The expiry job's scan: unverified registrations by deadline.
        batch_op.create_index('ix_registrations_status_verify_by', ['status', 'verify_by'], unique=False)


def downgrade():
    # Registrations never verified are dropped back to cancelled: the old schema has no word
    # for them.
    op.execute("UPDATE registrations SET status = 'cancelled' WHERE status = 'unverified'")
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_registrations_status_verify_by')
        batch_op.drop_constraint(op.f('ck_registrations_unverified_has_deadline'), type_='check')
        batch_op.drop_constraint(op.f('ck_registrations_verified_status'), type_='check')
        batch_op.drop_constraint(op.f('ck_registrations_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_registrations_status'), OLD_STATUSES)
        batch_op.drop_column('verified_at')
        batch_op.drop_column('verified_status')
        batch_op.drop_column('verify_by')

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('double_opt_in')
