"""Replying to a person and resolving their ticket, from any staff adapter, the same way.

The Telegram staff group, the web console and the CLI all call these: the desk stores the reply
or the resolution, then the person's channel delivers what they see (``bot/chat/views.py``). A
channel is a ``Reach``: given the ticket and the view, it delivers and says whether it did. The
Telegram one lives in ``handlers/delivery.py``; a process without a bot token has none, and the
reply is stored for the record (and said to be undelivered).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.chat import views
from bot.chat.views import View
from bot.desk.staff_desk import StaffDesk, TicketCard
from bot.log.inquiry_log import InquiryLog
from bot.log.models import WebMessage
from bot.texts import texts

__all__ = ["Delivered", "Reach", "either", "reply_to_person", "resolve_ticket", "web_reach"]

logger = logging.getLogger(__name__)

Reach = Callable[[TicketCard, View], Awaitable[bool]]
"""Delivers a view to the ticket's person; ``False`` when their channel cannot be reached."""


def web_reach(log: InquiryLog) -> Reach:
    """Delivers to a web-chat visitor: the view waits in ``web_messages`` for their page."""

    async def reach(card: TicketCard, view: View) -> bool:
        if not card.person_key.startswith("web:"):
            return False
        buttons = [[{"text": b.text, "data": b.data} for b in row] for row in view.buttons]
        async with log.sessions.begin() as session:
            session.add(WebMessage(person_key=card.person_key, text=view.text, buttons=buttons))
        return True

    return reach


def either(*reaches: Reach | None) -> Reach:
    """The first of ``reaches`` that can deliver to the person (by their channel)."""

    async def reach(card: TicketCard, view: View) -> bool:
        for one in reaches:
            if one is not None and await one(card, view):
                return True
        return False

    return reach


@dataclass(frozen=True)
class Delivered:
    card: TicketCard
    delivered: bool


async def _deliver(reach: Reach | None, card: TicketCard, view: View) -> bool:
    if reach is None:
        return False
    try:
        return await reach(card, view)
    except Exception:  # the reply is stored either way; the specialist is told it did not arrive
        logger.exception("could not deliver to ticket %s's person", card.id)
        return False


async def reply_to_person(
    desk: StaffDesk, reach: Reach | None, ticket_id: int, staff: str, text: str
) -> Delivered:
    """Stores a specialist's reply on the ticket and delivers it; raises ``DeskError``."""
    card = await desk.reply(ticket_id, staff, text)
    view = views.staff_reply(texts(card.language), card.id, text)
    return Delivered(card, await _deliver(reach, card, view))


async def resolve_ticket(
    desk: StaffDesk, reach: Reach | None, ticket_id: int, staff: str, note: str = ""
) -> Delivered:
    """Resolves the ticket; the person is told (with the note) and asked for a rating."""
    card = await desk.resolve(ticket_id, staff, note)
    view = views.resolved(texts(card.language), card.id, note)
    return Delivered(card, await _deliver(reach, card, view))
