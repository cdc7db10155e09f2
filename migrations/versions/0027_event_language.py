"""event language: the language an event's public pages, registrants' emails and invites
are written in (en, de, fr, es)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), server_default="en", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_events_language"), "language IN ('en', 'de', 'fr', 'es')"
        )


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_events_language"), type_="check")
        batch_op.drop_column("language")
