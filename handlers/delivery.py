"""The Telegram ``Reach``: how a specialist's reply or a resolution gets to a Telegram user.

Used by the staff group's handlers and, through ``bot/app.py``, by the web console and the CLI,
so that a reply is delivered the same way wherever a specialist writes it.
"""

from __future__ import annotations

from telegram import Bot

from bot.chat.views import View
from bot.desk.delivery import Reach
from bot.desk.staff_desk import TicketCard
from handlers.render import send_parts, with_retries

__all__ = ["telegram_reach"]


def telegram_reach(bot: Bot) -> Reach:
    """Delivers to the ticket's Telegram user; ``False`` for a person of another channel."""

    async def reach(card: TicketCard, view: View) -> bool:
        if card.telegram_user_id is None:
            return False
        user_id = card.telegram_user_id
        await with_retries(lambda: send_parts(bot, user_id, view))
        return True

    return reach
