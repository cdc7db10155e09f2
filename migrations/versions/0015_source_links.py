"""source links: named tracking links per event, and the tracking a registration keeps

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('source_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('utm_source', sa.String(length=200), nullable=False),
    sa.Column('utm_medium', sa.String(length=200), nullable=False),
    sa.Column('utm_campaign', sa.String(length=200), nullable=True),
    sa.Column('utm_term', sa.String(length=200), nullable=True),
    sa.Column('utm_content', sa.String(length=200), nullable=True),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_source_links_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_links')),
    sa.UniqueConstraint('event_id', 'code', name='uq_source_links_event_code')
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('utm_term', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('utm_content', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('gclid', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('fbclid', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('source_link_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_registrations_source_link_id'), ['source_link_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_registrations_source_link_id_source_links'), 'source_links', ['source_link_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_registrations_source_link_id_source_links'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_registrations_source_link_id'))
        batch_op.drop_column('source_link_id')
        batch_op.drop_column('fbclid')
        batch_op.drop_column('gclid')
        batch_op.drop_column('utm_content')
        batch_op.drop_column('utm_term')
    op.drop_table('source_links')
