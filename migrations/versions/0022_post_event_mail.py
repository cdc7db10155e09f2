"""post-event emails: each event's own wording, and a lead's one-click unsubscribe

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 09:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "post_event_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('post_event_thanks', 'post_event_missed', 'post_event_recording')",
            name=op.f("ck_post_event_templates_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_post_event_templates_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_event_templates")),
        sa.UniqueConstraint("event_id", "kind", name=op.f("uq_post_event_templates_event_id")),
    )


def downgrade():
    op.drop_table("post_event_templates")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("unsubscribed_at")
