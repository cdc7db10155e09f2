"""attendance previews kept a person a row: an upload is written as it is read, and preview and
apply read it back a batch at a time, not as one JSON document; a report applied at once (API,
CLI, platform pulls) is kept the same way, without an owner

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 14:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def _previews(*columns):
    # Previews live an hour: the ones waiting now are dropped with the old table, to be
    # uploaded again.
    op.create_table(
        "attendance_previews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_attendance_previews_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_attendance_previews_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_previews")),
        sa.UniqueConstraint("token", name=op.f("uq_attendance_previews_token")),
    )
    with op.batch_alter_table("attendance_previews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_previews_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attendance_previews_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attendance_previews_owner_id"), ["owner_id"], unique=False
        )


def _drop_previews():
    with op.batch_alter_table("attendance_previews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_previews_owner_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_previews_expires_at"))
        batch_op.drop_index(batch_op.f("ix_attendance_previews_event_id"))
    op.drop_table("attendance_previews")


def upgrade():
    _drop_previews()
    _previews(
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("actual_minutes", sa.Float(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=False),
    )
    op.create_table(
        "attendance_preview_attendees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preview_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("joins", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["preview_id"],
            ["attendance_previews.id"],
            name=op.f("fk_attendance_preview_attendees_preview_id_attendance_previews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_preview_attendees")),
        sa.UniqueConstraint(
            "preview_id", "email", name="uq_attendance_preview_attendees_email"
        ),
    )


def downgrade():
    op.drop_table("attendance_preview_attendees")
    _drop_previews()
    _previews(
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
    )
