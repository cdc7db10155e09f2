"""an event's cover image and speakers, for its landing page, social previews and search engines

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 09:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cover_image_url", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("speakers", sa.JSON(), server_default="[]", nullable=False))


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("speakers")
        batch_op.drop_column("cover_image_url")
