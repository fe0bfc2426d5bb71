"""Handlers for talent and enterprises: /start, menus, questions, feedback, hand-over, /forget.

Each handler unpacks the update, calls the core (``Services``), and sends a view. Button data
is parsed by ``bot.callbacks`` and everything it names is checked again: the category must
exist, the entry must be in the knowledge base, the inquiry must belong to the person tapping.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot import callbacks, views
from bot.assistant import Person
from bot.desk import DeskError
from bot.inquiries import FeedbackExists, InquiryNotFound
from bot.inquiry_log import NotYours, Profile
from bot.ratelimit import Verdict
from bot.services import Services
from bot.texts import Texts, texts
from handlers.render import edit_view, person_of, send_view, texts_for
from handlers.staff import StaffNotifier
from knowledge.matcher import Outcome
from knowledge.schema import Audience, Category

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
        person, _, t = await self._who(update)
        extra = " ".join(context.args or [])
        ticket = await self.services.log.request_human(person, extra or "/human")
        await self.notifier.announce(
            context.bot, ticket, extra or "/human", author=person.display_name
        )
        await send_view(message, views.plain(t.t("human.opened", ticket=ticket)))

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
        person, profile, t = await self._who(update)
        relay = await self.services.desk.relay_ticket(person.key)
        if relay is not None and self.services.limiter.check(person.key) is not Verdict.ALLOW:
            logger.info("person %s is over the rate limit; not relayed", person.key)
            relay = None  # logged below as a limited inquiry instead of flooding the staff group
        if relay is not None:
            await self.services.desk.person_message(relay.id, person.display_name, message.text)
            await self.notifier.announce(
                context.bot, relay.id, message.text, author=person.display_name
            )
            await send_view(message, views.plain(t.t("relay.forwarded", ticket=relay.id)))
            return
        reply = await self.services.assistant.ask(
            person,
            message.text,
            channel="telegram",
            chat_id=str(update.effective_chat.id),
            update_id=update.update_id,
        )
        if reply.already_replied:
            logger.info("update %s was answered before; not answering twice", update.update_id)
            return
        if reply.outcome is Outcome.LIMITED:
            if not reply.quiet:
                await send_view(message, views.plain(t.t("limits.slow_down")))
            if reply.inquiry_id is not None:
                await self.services.log.mark_replied(reply.inquiry_id)
            return
        kb = self.services.knowledge.kb
        if reply.outcome in (Outcome.ANSWERED, Outcome.MULTI) and reply.entries:
            view = views.answer(
                reply.entries,
                kb,
                t,
                self.services.office,
                reply.inquiry_id,
                audience=person.audience,
            )
        elif reply.outcome is Outcome.SUGGESTED:
            view = views.suggestions(reply.suggestions, t)
        elif reply.outcome is Outcome.SMALLTALK and reply.smalltalk:
            view = views.plain(t.t(f"smalltalk.{reply.smalltalk}"))
        elif reply.outcome is Outcome.UNCLEAR:
            view = views.plain(t.t("unclear.text"))
        elif reply.outcome is Outcome.HANDOVER and reply.ticket_id is not None:
            view = views.plain(t.t("human.opened", ticket=reply.ticket_id))
        else:
            view = views.unmatched(
                t, self.services.office, ask_phone=not (profile and profile.phone)
            )
        await send_view(message, view)
        if reply.inquiry_id is not None:
            await self.services.log.mark_replied(reply.inquiry_id)
        if reply.ticket_id is not None:
            await self.notifier.announce(
                context.bot, reply.ticket_id, message.text, author=person.display_name
            )

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any command the bot does not have."""
        assert update.effective_message is not None
        await send_view(
            update.effective_message,
            views.plain(texts_for(update.effective_user).t("unknown_command")),
        )

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every inline button of the people's side; data is parsed, then re-checked."""
        query = update.callback_query
        assert query is not None
        tap = callbacks.parse(query.data)
        person, _, t = await self._who(update)
        message = query.message if isinstance(query.message, Message) else None
        if tap is None or message is None:
            await query.answer(t.t("error.expired"))
            return
        kb = self.services.knowledge.kb
        if tap.kind == "role":
            audience = Audience(tap.args[0])
            person = Person(person.key, person.display_name, audience, person.language)
            await self.services.log.remember(person)
            await query.answer()
            label = t.t(f"audience.{audience.value}")
            await edit_view(
                message, views.menu(kb, audience, t, header=t.t("role.set", audience=label))
            )
        elif tap.kind == "menu":
            await query.answer()
            await edit_view(message, views.menu(kb, person.audience, t))
        elif tap.kind == "cat" and tap.args[0] in {c.value for c in Category}:
            await query.answer()
            page = views.category_page(
                kb, Category(tap.args[0]), person.audience, int(tap.args[1]), t
            )
            await edit_view(message, page)
        elif tap.kind == "entry" and kb.get(tap.args[0]) is not None:
            await self._open_entry(update, person, t, tap.args[0], message)
        elif tap.kind == "feedback":
            await self._feedback(
                update, context, person, t, int(tap.args[0]), tap.args[1] == "y", message
            )
        elif tap.kind == "human":
            await self._human(update, context, person, t, int(tap.args[0]), message)
        elif tap.kind == "forget":
            await self._forget(update, person, t, tap.args[0] == "yes", message)
        elif tap.kind == "rate":
            await self._rate(update, person, t, int(tap.args[0]), int(tap.args[1]), message)
        elif tap.kind == "end":
            await self._end(update, context, person, t, int(tap.args[0]), message)
        else:
            await query.answer(t.t("error.expired"))

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

    async def _open_entry(
        self, update: Update, person: Person, t: Texts, entry_id: str, message: Message
    ) -> None:
        query = update.callback_query
        assert query is not None and update.effective_chat is not None
        entry = self.services.knowledge.kb.get(entry_id)
        assert entry is not None
        recorded = await self.services.log.record_choice(
            person,
            entry.id,
            entry.title,
            via="menu",
            chat_id=str(update.effective_chat.id),
            update_id=update.update_id,
        )
        await query.answer()
        if recorded.already_replied:
            return
        await send_view(
            message,
            views.answer(
                entry,
                self.services.knowledge.kb,
                t,
                self.services.office,
                recorded.inquiry_id,
                audience=person.audience,
            ),
        )
        if recorded.inquiry_id is not None:
            await self.services.log.mark_replied(recorded.inquiry_id)

    async def _feedback(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        person: Person,
        t: Texts,
        inquiry_id: int,
        helpful: bool,
        message: Message,
    ) -> None:
        query = update.callback_query
        assert query is not None
        try:
            ticket = await self.services.log.feedback(
                inquiry_id, helpful=helpful, person_key=person.key
            )
        except (NotYours, InquiryNotFound):
            logger.warning("refused feedback on inquiry %s from %s", inquiry_id, person.key)
            await query.answer(t.t("error.expired"))
            return
        except FeedbackExists:
            await query.answer(t.t("feedback.already"))
            return
        await query.answer(t.t("feedback.thanks"))
        try:
            await message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        if ticket is not None:
            await self.notifier.announce(
                context.bot,
                ticket,
                texts("zh").t("answer_buttons.not_helpful"),
                author=person.display_name,
            )
            await send_view(message, views.plain(t.t("feedback.sorry", ticket=ticket)))

    async def _human(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        person: Person,
        t: Texts,
        inquiry_id: int,
        message: Message,
    ) -> None:
        query = update.callback_query
        assert query is not None
        try:
            ticket = await self.services.log.request_human(person, "", inquiry_id=inquiry_id)
        except (NotYours, InquiryNotFound):
            logger.warning("refused hand-over of inquiry %s from %s", inquiry_id, person.key)
            await query.answer(t.t("error.expired"))
            return
        await query.answer()
        await self.notifier.announce(
            context.bot, ticket, texts("zh").t("answer_buttons.human"), author=person.display_name
        )
        await send_view(message, views.plain(t.t("human.opened", ticket=ticket)))

    async def _forget(
        self, update: Update, person: Person, t: Texts, confirmed: bool, message: Message
    ) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        if not confirmed:
            await edit_view(message, views.plain(t.t("forget.cancelled")))
            return
        posted = await self.services.log.staff_messages_of(person.key)
        removed = await self.services.log.forget(person.key)
        if not removed:
            await edit_view(message, views.plain(t.t("forget.nothing")))
            return
        failed = await self._redact_staff_messages(update, posted)
        done = t.t("forget.done")
        if posted:
            done += "\n" + t.t("forget.redacted", count=len(posted) - failed)
        if failed:
            done += "\n" + t.t("forget.not_redacted", count=failed)
        await edit_view(message, views.plain(done))

    async def _redact_staff_messages(self, update: Update, posted: list[tuple[int, int]]) -> int:
        """Overwrites the staff-group cards and relays about a forgotten person; the failures."""
        bot = update.get_bot()
        note = texts("zh").t("forget.redacted_card")
        failed = 0
        for chat_id, message_id in posted:
            try:
                await bot.edit_message_text(note, chat_id=chat_id, message_id=message_id)
            except TelegramError as exc:
                if "not modified" in str(exc).lower():
                    continue
                try:
                    await bot.delete_message(chat_id, message_id)
                except TelegramError:
                    failed += 1
                    logger.warning("could not redact staff message %s:%s", chat_id, message_id)
        return failed

    async def _rate(
        self, update: Update, person: Person, t: Texts, ticket: int, rating: int, message: Message
    ) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await self.services.desk.rate(ticket, person.key, rating)
        except DeskError:
            logger.warning("refused rating of ticket %s from %s", ticket, person.key)
            await query.answer(t.t("error.expired"))
            return
        await query.answer(t.t("rating.thanks"))
        await edit_view(message, views.plain(t.t("rating.thanks")))

    async def _end(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        person: Person,
        t: Texts,
        ticket: int,
        message: Message,
    ) -> None:
        query = update.callback_query
        assert query is not None
        try:
            card = await self.services.desk.end_by_person(ticket, person.key)
        except DeskError:
            logger.warning("refused ending ticket %s from %s", ticket, person.key)
            await query.answer(t.t("error.expired"))
            return
        await query.answer()
        await message.edit_reply_markup(reply_markup=None)
        await send_view(message, views.plain(t.t("relay.ended")))
        await self.notifier.announce(
            context.bot, card.id, texts("zh").t("staff.ended_by_person"), author=person.display_name
        )
