"""languages offered: an event may offer languages besides its main one, and each registration
keeps the language its registrant registered in (its emails, invites and pages speak it)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 14:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("other_languages", sa.JSON(), server_default="[]", nullable=False)
        )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), server_default="en", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_registrations_language"), "language IN ('en', 'de', 'fr', 'es')"
        )
    # Everyone registered so far read their event's one language.
    op.execute(
        "UPDATE registrations SET language = "
        "(SELECT events.language FROM events WHERE events.id = registrations.event_id)"
    )


def downgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_registrations_language"), type_="check")
        batch_op.drop_column("language")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("other_languages")
