"""Sending the core's views on Telegram: HTML, inline keyboards, long text split, retries.

Also turns a Telegram user into the core's ``Person``. Network errors while sending are retried
a few times with a short back-off; 429 flood waits are handled by python-telegram-bot's
``AIORateLimiter`` configured in ``bot/app.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.assistant import Person
from bot.chat.views import View
from bot.log.inquiry_log import Profile
from bot.texts import Texts, language_for, texts

__all__ = ["keyboard", "person_of", "send_view", "texts_for"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
SEND_ATTEMPTS = 3


def texts_for(user: User | None) -> Texts:
    """The interface language for this Telegram user."""
    return texts(language_for(user.language_code if user else None))


def person_of(user: User, profile: Profile | None) -> Person:
    """The core's view of a Telegram user, with the role we remember for them."""
    return Person(
        key=f"telegram:{user.id}",
        display_name=user.full_name,
        audience=profile.audience if profile else None,
        language=language_for(user.language_code),
    )


def keyboard(view: View) -> InlineKeyboardMarkup | None:
    """The view's buttons as an inline keyboard."""
    if not view.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in view.buttons]
    )


def configure_sending(retries: int) -> None:
    """Sets how often a failed send is retried (``telegram.send_retries``)."""
    global SEND_ATTEMPTS
    SEND_ATTEMPTS = retries + 1


def never_arrived(exc: NetworkError) -> bool:
    """True when the request most likely did not reach Telegram, so sending again is safe.

    A refusal (BadRequest, Forbidden) is final. A connection that could not be opened, one
    dropped without any answer, or a 5xx from a gateway delivered nothing. A timeout while
    waiting for the answer is different: Telegram is slow but may well have stored the message,
    and sending again would deliver it twice, so that send is given up (and logged) instead.
    """
    if isinstance(exc, BadRequest | Forbidden):
        return False
    return not isinstance(exc, TimedOut)


async def with_retries(send: Callable[[], Awaitable[T]]) -> T:
    """Retries a send while it certainly did not arrive (see ``never_arrived``)."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await send()
        except RetryAfter:
            raise
        except NetworkError as exc:
            if attempt == SEND_ATTEMPTS or not never_arrived(exc):
                raise
            logger.warning("send failed (%s), retrying (%d/%d)", exc, attempt, SEND_ATTEMPTS)
            await asyncio.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


async def send_view(
    message: Message, view: View, *, remove_reply_keyboard: bool = False
) -> Message:
    """Sends ``view`` in reply to ``message``'s chat; buttons go under the last part."""
    parts = view.parts()
    sent = message
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None
        if last and view.request_contact:
            markup = ReplyKeyboardMarkup(
                [[KeyboardButton(view.request_contact, request_contact=True)]],
                resize_keyboard=True,
                one_time_keyboard=True,
            )
        elif last:
            markup = keyboard(view)
            if markup is None and remove_reply_keyboard:
                markup = ReplyKeyboardRemove()
        sent = await with_retries(
            lambda part=part, markup=markup: message.chat.send_message(  # type: ignore[misc]
                part, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
            )
        )
    return sent


async def send_parts(bot: Bot, chat_id: int, view: View, **kwargs: Any) -> Message:
    """Sends ``view`` to a chat by id, split to Telegram's limit; buttons under the last part.

    ``kwargs`` (a reply target) apply to the first part. Returns the last message sent.
    """
    parts = view.parts()
    sent: Message | None = None
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        extra = kwargs if number == 0 else {}
        sent = await bot.send_message(
            chat_id,
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(view) if last else None,
            disable_web_page_preview=True,
            **extra,
        )
    assert sent is not None
    return sent


async def edit_view(message: Message, view: View) -> None:
    """Replaces a menu message in place (falls back to a new message if it cannot be edited)."""
    try:
        await with_retries(
            lambda: message.edit_text(
                view.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(view)
            )
        )
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return
        await send_view(message, view)  # too old or not ours to edit: send it anew


def update_person_key(update: Update) -> str | None:
    """``telegram:<id>`` of whoever sent the update."""
    user = update.effective_user
    return f"telegram:{user.id}" if user else None
