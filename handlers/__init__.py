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
from handlers.staff import StaffHandlers, StaffNotifier

__all__ = ["STAFF_COMMANDS", "ErrorHandler", "StaffHandlers", "build_handlers"]


STAFF_COMMANDS = ("inbox", "ticket", "take", "reply", "resolve", "stats", "export", "reload")


def build_handlers(services: Services) -> tuple[list[BaseHandler[Any, Any, Any]], StaffHandlers]:
    """Every handler in the order python-telegram-bot must try them, and the staff side (for jobs)."""
    notifier = StaffNotifier(services)
    people = PeopleHandlers(services, notifier)
    staff = StaffHandlers(services, notifier)
    # An edited message is not a new question: answering it again would answer twice.
    fresh = ~filters.UpdateType.EDITED
    private = filters.ChatType.PRIVATE & fresh
    staff_chat = services.settings.staff.chat_id
    handlers: list[BaseHandler[Any, Any, Any]] = [
        # Note: Order matters! Staff commands are matched for everyone and the sender is checked
        # inside, so that a non-staff attempt gets the unknown-command reply and is logged.
        CommandHandler(list(STAFF_COMMANDS), staff.command, filters=fresh),
        CallbackQueryHandler(staff.button, pattern=r"^st:"),
    ]
    if staff_chat is not None:
        # A specialist answers a ticket by replying to its card in the staff group.
        handlers.append(
            MessageHandler(
                filters.Chat(staff_chat) & fresh & filters.REPLY & filters.TEXT & ~filters.COMMAND,
                staff.reply_to_card,
            )
        )
    handlers += [
        # The /demand form comes next so that, while it is open, its steps receive the
        # person's text and /cancel before the general handlers below.
        build_demand_conversation(services, notifier),
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
        CallbackQueryHandler(people.button, pattern=r"^(role|menu|cat|e|fb|hu|fg|rt|end)(:|$)"),
        # Any other button (stale, forged, from an old form): answer it so the client stops waiting.
        CallbackQueryHandler(people.stale_button),
        # Any other command, in a private chat: say so (staff commands from non-staff end here too).
        MessageHandler(private & filters.COMMAND, people.unknown_command),
    ]
    return handlers, staff
