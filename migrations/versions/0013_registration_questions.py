"""registration questions: an event's own questions, answered in registrations.answers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
# 0009 and 0010 come from branches merged beside this one; the lead sets this to '0010'.
down_revision = '0012'
branch_labels = None
depends_on = None

TYPES = "type IN ('text', 'textarea', 'select', 'multiselect', 'checkbox', 'number', 'country', 'hidden')"
FACTS = "maps_to IS NULL OR maps_to IN ('segment', 'company_size')"


def upgrade():
    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('help', sa.String(length=500), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('show_if', sa.JSON(), nullable=True),
    sa.Column('maps_to', sa.String(length=16), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(TYPES, name=op.f('ck_questions_type')),
    sa.CheckConstraint(FACTS, name=op.f('ck_questions_maps_to')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_questions_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions')),
    sa.UniqueConstraint('event_id', 'key', name='uq_questions_event_key')
    )


def downgrade():
    op.drop_table('questions')
