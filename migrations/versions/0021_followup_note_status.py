"""a follow-up note may record the status the rep set with it: one timeline of notes and verdicts

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 09:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("followup_notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("followup_notes", schema=None) as batch_op:
        batch_op.drop_column("status")
