"""Staff desk on Telegram: ticket cards in the staff group, reminders, daily digests.

``ticket_links`` maps every staff-group message the bot posted about a ticket (the card, relayed
messages, reminders) to that ticket, so a specialist can reply to any of them.
``staff_digests`` records which days' digests went out, so a restart neither skips nor repeats one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("card_chat_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("card_message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "ticket_links",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True),
        sa.Column("message_id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
    )
    op.create_table(
        "staff_digests",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_digests")
    op.drop_table("ticket_links")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("reminded_at")
        batch.drop_column("card_message_id")
        batch.drop_column("card_chat_id")
