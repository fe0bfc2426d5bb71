"""Handlers for talent and enterprises: /start, menus, questions, feedback, hand-over, /forget.

Each handler unpacks the update, calls the core (``Services``), and sends a view. Button data
is parsed by ``bot.chat.callbacks`` and everything it names is checked again: the category must
exist, the entry must be in the knowledge base, the inquiry must belong to the person tapping.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.assistant import Person
from bot.chat import views
from bot.chat.turns import Conversation, Turn
from bot.log.inquiry_log import Profile
from bot.services import Services
from bot.texts import Texts
from handlers.render import edit_view, person_of, send_view, texts_for
from handlers.staff import StaffNotifier, TelegramStaff

__all__ = ["PeopleHandlers"]

logger = logging.getLogger(__name__)


class PeopleHandlers:
    """The bot's conversation with talent and enterprises."""

    def __init__(self, services: Services, notifier: StaffNotifier) -> None:
        self.services = services
        self.notifier = notifier

    async def _who(self, update: Update) -> tuple[Person, Profile | None, Texts]:
        user = update.effective_user
        assert user is not None, "handlers are registered for updates with a user"
        profile = await self.services.log.profile(f"telegram:{user.id}")
        return person_of(user, profile), profile, texts_for(user)

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greets, says what the bot can and cannot do, and asks for the person's role."""
        assert update.effective_message is not None
        person, _, t = await self._who(update)
        await self.services.log.remember(person)
        await send_view(
            update.effective_message,
            views.welcome(t, self.services.office),
            remove_reply_keyboard=True,
        )

    async def role(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Offers the talent / enterprise choice again."""
        assert update.effective_message is not None
        _, _, t = await self._who(update)
        await send_view(update.effective_message, views.role_choice(t))

    async def menu(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Shows the category menu."""
        assert update.effective_message is not None
        person, _, t = await self._who(update)
        await send_view(
            update.effective_message, views.menu(self.services.knowledge.kb, person.audience, t)
        )

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explains how to use the bot."""
        assert update.effective_message is not None
        _, _, t = await self._who(update)
        await send_view(update.effective_message, views.plain(t.t("help.text")))

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Nothing to cancel outside a form: say so kindly."""
        assert update.effective_message is not None
        _, _, t = await self._who(update)
        await send_view(
            update.effective_message, views.plain(t.t("cancel.done")), remove_reply_keyboard=True
        )

    async def human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Opens a ticket so a specialist follows up."""
        message = update.effective_message
        assert message is not None
        person, _, _ = await self._who(update)
        conversation = self._conversation(context)
        turn = await conversation.human(person, " ".join(context.args or []))
        await self._show(update, message, turn, conversation)

    async def forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Asks for confirmation before deleting the person's data."""
        assert update.effective_message is not None
        _, _, t = await self._who(update)
        await send_view(update.effective_message, views.forget_confirm(t))

    async def contact(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stores the phone number a person shared for a call back (their own only)."""
        message = update.effective_message
        user = update.effective_user
        assert message is not None and message.contact is not None and user is not None
        person, _, t = await self._who(update)
        if message.contact.user_id != user.id:
            await send_view(message, views.plain(t.t("contact.not_yours")))
            return
        await self.services.log.remember(person, phone=message.contact.phone_number[:32])
        await send_view(message, views.plain(t.t("contact.thanks")), remove_reply_keyboard=True)

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answers a question: the answer, "did you mean", or an honest hand-over."""
        message = update.effective_message
        assert (
            message is not None and message.text is not None and update.effective_chat is not None
        )
        user = update.effective_user
        assert user is not None
        # One query for everything the turn needs to know about the person (the hot path).
        state = await self.services.log.state(f"telegram:{user.id}")
        conversation = self._conversation(context)
        turn = await conversation.message(
            person_of(user, state.profile),
            message.text,
            channel="telegram",
            chat_id=str(update.effective_chat.id),
            update_id=update.update_id,
            state=state,
        )
        await self._show(update, message, turn, conversation)

    def _conversation(self, context: ContextTypes.DEFAULT_TYPE) -> Conversation:
        return Conversation(self.services, TelegramStaff(self.notifier, context.bot))

    async def _show(
        self, update: Update, message: Message | None, turn: Turn, conversation: Conversation
    ) -> None:
        """Renders a turn on Telegram: the tap's answer, buttons cleared, the view sent or put
        in place of the tapped message; then tells the core it went out."""
        query = update.callback_query
        if query is not None:
            await query.answer(turn.toast or None)
        if turn.clear_buttons and message is not None:
            try:
                await message.edit_reply_markup(reply_markup=None)
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    raise
        if turn.view is not None and message is not None:
            if turn.replace and query is not None:
                await edit_view(message, turn.view)
            else:
                await send_view(message, turn.view)
        await conversation.sent(turn)

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any command the bot does not have."""
        assert update.effective_message is not None
        await send_view(
            update.effective_message,
            views.plain(texts_for(update.effective_user).t("unknown_command")),
        )

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every inline button of the people's side; the core parses and re-checks the data."""
        query = update.callback_query
        assert query is not None
        person, _, t = await self._who(update)
        message = query.message if isinstance(query.message, Message) else None
        if message is None:
            await query.answer(t.t("error.expired"))
            return
        conversation = self._conversation(context)
        chat = update.effective_chat
        turn, _ = await conversation.tap(
            person,
            query.data,
            channel="telegram",
            chat_id=str(chat.id) if chat is not None else None,
            update_id=update.update_id,
        )
        await self._show(update, message, turn, conversation)

    async def stale_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answers a tap nobody handles, so the person's client stops waiting."""
        query = update.callback_query
        assert query is not None
        logger.info(
            "unhandled button %r from %s",
            (query.data or "")[:80],
            update.effective_user and update.effective_user.id,
        )
        await query.answer(texts_for(update.effective_user).t("error.expired"))
