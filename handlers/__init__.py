"""Telegram adapters: unpack an update, call the core, send the reply.

``build_handlers`` is the one place that decides which handler sees which update.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.services import Services
from handlers.demand import build_demand_conversation
from handlers.errors import ErrorHandler
from handlers.people import PeopleHandlers

__all__ = ["ErrorHandler", "build_handlers"]


def build_handlers(services: Services) -> list[BaseHandler[Any, Any, Any]]:
    """The people's handlers, in the order python-telegram-bot must try them."""
    people = PeopleHandlers(services)
    private = filters.ChatType.PRIVATE
    return [
        # Note: Order matters! The /demand form comes first so that, while it is open, its
        # steps receive the person's text and /cancel before the general handlers below.
        build_demand_conversation(services),
        CommandHandler("start", people.start, filters=private),
        CommandHandler("menu", people.menu, filters=private),
        CommandHandler("role", people.role, filters=private),
        CommandHandler("help", people.help, filters=private),
        CommandHandler("human", people.human, filters=private),
        CommandHandler("forget", people.forget, filters=private),
        CommandHandler("cancel", people.cancel, filters=private),
        MessageHandler(private & filters.CONTACT, people.contact),
        # Free text last: anything that is not a command is a question.
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, people.text),
        # Buttons of the people's side (the form's own buttons are caught by it above).
        CallbackQueryHandler(people.button, pattern=r"^(role|menu|cat|e|fb|hu|fg)(:|$)"),
        # Any other button (stale, forged, from an old form): answer it so the client stops waiting.
        CallbackQueryHandler(people.stale_button),
    ]
