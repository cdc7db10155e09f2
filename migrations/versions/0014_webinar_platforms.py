"""webinar platforms: events linked to a webinar, registrants synced, attendance pulled

Revision ID: 0014
Revises: 0013 (the lead re-chains it after 0009)
Create Date: 2026-12-02 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('platform_webinar_id', sa.String(length=100), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_events_platform'), "platform IS NULL OR platform IN ('zoom', 'goto')"
        )
        batch_op.create_check_constraint(
            op.f('ck_events_platform_has_webinar'),
            "platform IS NULL OR platform_webinar_id IS NOT NULL",
        )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_url', sa.String(length=1000), nullable=True))

    op.create_table('platform_registrants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('webinar_id', sa.String(length=100), nullable=False),
    sa.Column('want', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('registrant_id', sa.String(length=100), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease', sa.String(length=32), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'synced', 'cancelled', 'failed')", name=op.f('ck_platform_registrants_status')),
    sa.CheckConstraint("want IN ('registered', 'cancelled')", name=op.f('ck_platform_registrants_want')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_platform_registrants_attempts_not_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_platform_registrants_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_platform_registrants_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_registrants')),
    sa.UniqueConstraint('registration_id', name=op.f('uq_platform_registrants_registration_id'))
    )
    with op.batch_alter_table('platform_registrants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_registrants_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_platform_registrants_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('platform_attendance_pulls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease', sa.String(length=32), nullable=True),
    sa.Column('pulled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'done', 'failed')", name=op.f('ck_platform_attendance_pulls_status')),
    sa.CheckConstraint("reason IN ('ended', 'requested', 'schedule')", name=op.f('ck_platform_attendance_pulls_reason')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_platform_attendance_pulls_attempts_not_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_platform_attendance_pulls_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_attendance_pulls')),
    sa.UniqueConstraint('event_id', name=op.f('uq_platform_attendance_pulls_event_id'))
    )
    with op.batch_alter_table('platform_attendance_pulls', schema=None) as batch_op:
        batch_op.create_index('ix_platform_attendance_pulls_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('platform_webhook_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('delivery_key', sa.String(length=100), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_webhook_receipts')),
    sa.UniqueConstraint('platform', 'delivery_key', name=op.f('uq_platform_webhook_receipts_platform'))
    )


def downgrade():
    op.drop_table('platform_webhook_receipts')
    with op.batch_alter_table('platform_attendance_pulls', schema=None) as batch_op:
        batch_op.drop_index('ix_platform_attendance_pulls_status_next_attempt_at')
    op.drop_table('platform_attendance_pulls')
    with op.batch_alter_table('platform_registrants', schema=None) as batch_op:
        batch_op.drop_index('ix_platform_registrants_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_platform_registrants_event_id'))
    op.drop_table('platform_registrants')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_column('join_url')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_events_platform_has_webinar'), type_='check')
        batch_op.drop_constraint(op.f('ck_events_platform'), type_='check')
        batch_op.drop_column('platform_webinar_id')
        batch_op.drop_column('platform')
