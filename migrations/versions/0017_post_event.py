"""after the event: a recording, post-event emails and their call to action

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 14:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recording_url', sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column('post_event_emails', sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column('cta_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('cta_label', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('cta_label')
        batch_op.drop_column('cta_url')
        batch_op.drop_column('post_event_emails')
        batch_op.drop_column('recording_url')
