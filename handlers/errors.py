"""The one error handler: log with the update, tell the person politely, never loop on a block."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError, TimedOut
from telegram.ext import ContextTypes

from bot.services import Services
from handlers.render import texts_for, update_person_key

__all__ = ["ErrorHandler"]

logger = logging.getLogger(__name__)


class ErrorHandler:
    """Logs every exception with its update; Forbidden means the person blocked the bot."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Handles an exception raised while processing ``update``."""
        error = context.error
        if not isinstance(update, Update):
            logger.error("error outside an update: %s", error, exc_info=error)
            return
        key = update_person_key(update)
        if isinstance(error, Forbidden):
            logger.warning("person %s blocked the bot; not retrying", key)
            if key is not None:
                await self.services.log.mark_blocked(key)
            return
        if isinstance(error, TimedOut):
            # Telegram was slow to confirm a send it may well have stored: a second message
            # ("something went wrong") would be wrong as often as right, so say nothing more.
            logger.warning("a send for update %s timed out; it may have arrived", update.update_id)
            return
        logger.error(
            "error while handling update %s from %s", update.update_id, key, exc_info=error
        )
        chat = update.effective_chat
        if chat is None:
            return
        try:
            await chat.send_message(texts_for(update.effective_user).t("error.generic"))
        except TelegramError as exc:
            logger.warning("could not tell %s about the error: %s", key, exc)
