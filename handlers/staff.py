"""Specialists on Telegram: ticket cards in the staff group, replies relayed, staff commands.

Every staff command and every staff button checks the sender against ``staff.user_ids`` at the
moment it acts; callback data is never trusted on its own. Somebody who is not staff gets the
reply for an unknown command, and the attempt is logged.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import CallbackContext, ContextTypes

from bot.chat import callbacks, views
from bot.desk import cards
from bot.desk.delivery import Reach, either, reply_to_person, resolve_ticket, web_reach
from bot.desk.outbox import Outbox
from bot.desk.staff_desk import DeskError, TicketCard
from bot.log.export import export_rows
from bot.log.listing import list_demands, list_inquiries
from bot.log.models import utcnow
from bot.log.stats import compute_stats
from bot.services import Services
from bot.texts import Texts, texts
from handlers.delivery import telegram_reach
from handlers.render import edit_view, keyboard, send_parts, send_view, texts_for

__all__ = ["StaffHandlers", "StaffNotifier"]

logger = logging.getLogger(__name__)
INBOX_PAGE = 5


def _staff_texts() -> Texts:
    return texts("zh")


def _flood_wait(exc: BaseException) -> float | None:
    """The seconds a 429 asks to wait before the next send."""
    if isinstance(exc, RetryAfter):
        after = exc.retry_after
        return after.total_seconds() if isinstance(after, timedelta) else float(after)
    return None


def _temporary(exc: BaseException) -> bool:
    """A group send worth retrying: the network or a flood wait, not Telegram's refusal."""
    return isinstance(exc, RetryAfter) or (
        isinstance(exc, NetworkError) and not isinstance(exc, BadRequest | Forbidden)
    )


async def refresh_card(bot: Bot, card: TicketCard) -> None:
    """Redraws the ticket's card in the staff group (status, assignee, buttons), if it has one."""
    if card.card_chat_id is None or card.card_message_id is None:
        return
    view = cards.card(card, _staff_texts())
    try:
        await bot.edit_message_text(
            view.text,
            chat_id=card.card_chat_id,
            message_id=card.card_message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(view),
        )
    except TelegramError as exc:
        if "not modified" not in str(exc).lower():
            logger.warning("could not update the card of ticket %s: %s", card.id, exc)


class TelegramStaff:
    """The core's ``StaffChannel`` on Telegram: the staff group, through the notifier's outbox."""

    def __init__(self, notifier: StaffNotifier, bot: Bot) -> None:
        self.notifier = notifier
        self.bot = bot

    async def announce(self, ticket_id: int, text: str, *, author: str) -> None:
        await self.notifier.announce(self.bot, ticket_id, text, author=author)

    async def refresh(self, ticket_id: int) -> None:
        """Redraws the ticket's card after a specialist acted on it elsewhere (the console)."""
        await refresh_card(self.bot, await self.notifier.services.desk.card(ticket_id))

    async def redact(self, posted: list[tuple[int, int]]) -> int:
        """Overwrites the staff-group cards and relays about a forgotten person; the failures."""
        note = texts("zh").t("forget.redacted_card")
        failed = 0
        for chat_id, message_id in posted:
            try:
                await self.bot.edit_message_text(note, chat_id=chat_id, message_id=message_id)
            except TelegramError as exc:
                if "not modified" in str(exc).lower():
                    continue
                try:
                    await self.bot.delete_message(chat_id, message_id)
                except TelegramError:
                    failed += 1
                    logger.warning("could not redact staff message %s:%s", chat_id, message_id)
        return failed


class StaffNotifier:
    """Posts tickets to the staff group and relays people's messages to their ticket's thread."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.outbox = Outbox(_temporary, wait_asked=_flood_wait)
        """Group sends go through here, so no person's reply waits for the staff group."""
        self._missing: set[int] = set()
        """Tickets whose missing card is queued (the periodic check does not queue it twice)."""

    @property
    def chat_id(self) -> int | None:
        """The staff group, if one is configured."""
        return self.services.settings.staff.chat_id

    async def announce(self, bot: Bot, ticket_id: int, text: str, *, author: str = "") -> None:
        """Queues the ticket's card (or, once it has one, the message as a reply to it).

        Returns at once: the outbox posts in order and retries until the group has it.
        """
        if self.chat_id is None:
            return
        self.outbox.put(
            f"staff-group post for ticket {ticket_id}",
            lambda: self._post(bot, ticket_id, text, author),
        )

    def post_missing_card(self, bot: Bot, ticket_id: int) -> None:
        """Queues the ticket's card, posted only if it still has none when its turn comes."""
        if self.chat_id is None or ticket_id in self._missing:
            return
        self._missing.add(ticket_id)

        async def post() -> None:
            try:
                await self._post_card(bot, await self.services.desk.card(ticket_id))
            finally:
                self._missing.discard(ticket_id)

        self.outbox.put(f"missing card of ticket {ticket_id}", post)

    async def _post_card(self, bot: Bot, card: TicketCard) -> bool:
        """Posts the card if the ticket has none yet; whether it did."""
        assert self.chat_id is not None
        if card.card_message_id is not None:
            return False
        view = cards.card(card, _staff_texts())
        sent = await bot.send_message(
            self.chat_id, view.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(view)
        )
        await self.services.desk.link(card.id, self.chat_id, sent.message_id, is_card=True)
        return True

    async def _post(self, bot: Bot, ticket_id: int, text: str, author: str) -> None:
        assert self.chat_id is not None
        desk = self.services.desk
        card = await desk.card(ticket_id)
        t = _staff_texts()
        if await self._post_card(bot, card):
            return
        relayed = views.plain(
            t.t("staff.relayed", ticket=ticket_id, name=author or card.person_name, text=text)
        )
        sent = await send_parts(
            bot,
            self.chat_id,
            relayed,
            reply_to_message_id=card.card_message_id,
            allow_sending_without_reply=True,
        )
        await desk.link(ticket_id, self.chat_id, sent.message_id)

    async def remind(self, bot: Bot, card: TicketCard) -> None:
        """Re-announces a ticket open longer than the SLA."""
        if self.chat_id is None:
            return
        view = cards.card(
            card, _staff_texts(), reminder_hours=self.services.settings.staff.sla_hours
        )
        sent = await bot.send_message(
            self.chat_id,
            view.text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(view),
            reply_to_message_id=card.card_message_id,
            allow_sending_without_reply=True,
        )
        await self.services.desk.link(card.id, self.chat_id, sent.message_id)
        await self.services.desk.mark_reminded(card.id)


class StaffHandlers:
    """Staff commands, the staff buttons, replies to cards, reminders and the digest."""

    def __init__(self, services: Services, notifier: StaffNotifier) -> None:
        self.services = services
        self.notifier = notifier

    async def _refuse(self, update: Update) -> None:
        """Non-staff: the unknown-command reply, and a note in the log."""
        user = update.effective_user
        logger.warning(
            "refused staff action from user %s: %s", user.id if user else None, _what(update)
        )
        if update.callback_query is not None:
            await update.callback_query.answer(texts_for(user).t("unknown_command"))
        elif update.effective_chat is not None and update.effective_chat.type != ChatType.PRIVATE:
            return  # in a group the bot stays silent: no reply to strangers' attempts
        elif update.effective_message is not None:
            await send_view(
                update.effective_message, views.plain(texts_for(user).t("unknown_command"))
            )

    def _reach(self, bot: Bot) -> Reach:
        """A person on Telegram, or a web-chat visitor (whose page fetches the reply)."""
        return either(web_reach(self.services.log), telegram_reach(bot))

    async def _name(self, update: Update) -> str:
        """The acting specialist's name (``_allowed`` has passed)."""
        user = update.effective_user
        assert user is not None
        return await self.services.specialist(user.id, user.full_name) or user.full_name

    async def _allowed(self, update: Update) -> bool:
        """A specialist, in the staff group or in their own private chat with the bot.

        Anywhere else (a public group, someone else's group) a staff command would post the
        inquiry log or a person's phone number to strangers, so it does nothing there.
        """
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None:
            return False
        if await self.services.specialist(user.id, user.full_name) is None:
            return False
        return chat.type == ChatType.PRIVATE or chat.id == self.services.settings.staff.chat_id

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Dispatches /inbox /ticket /take /reply /resolve /stats /export /reload after the check."""
        message = update.effective_message
        assert message is not None and message.text is not None
        if not await self._allowed(update):
            await self._refuse(update)
            return
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        args = context.args or []
        handler = {
            "inbox": self._inbox,
            "ticket": self._ticket,
            "take": self._take,
            "reply": self._reply,
            "resolve": self._resolve,
            "stats": self._stats,
            "export": self._export,
            "reload": self._reload,
        }[name]
        await handler(update, context, message, args)

    @staticmethod
    def _number(args: list[str]) -> int | None:
        return callbacks.parse_id(args[0]) if args else None

    async def _inbox(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, args: list[str]
    ) -> None:
        tickets, total = await self.services.desk.inbox(page=0, size=INBOX_PAGE)
        await send_view(message, cards.inbox(tickets, total, 0, INBOX_PAGE, _staff_texts()))

    async def _ticket(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, args: list[str]
    ) -> None:
        t = _staff_texts()
        number = self._number(args)
        if number is None:
            await send_view(message, views.plain(t.t("staff.usage_ticket")))
            return
        try:
            card, items = await self.services.desk.history(number)
        except DeskError:
            await send_view(message, views.plain(t.t("staff.not_found", ticket=number)))
            return
        await send_view(message, cards.card(card, t))
        await send_view(
            message, cards.history(card, items, t, self.services.settings.staff.timezone)
        )

    async def _take(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, args: list[str]
    ) -> None:
        t = _staff_texts()
        number = self._number(args)
        if number is None:
            await send_view(message, views.plain(t.t("staff.usage_take")))
            return
        await self._do_take(update, context.bot, number, message)

    async def _do_take(self, update: Update, bot: Bot, number: int, message: Message) -> None:
        t = _staff_texts()
        staff = await self._name(update)
        try:
            card = await self.services.desk.take(number, staff)
        except DeskError:
            await send_view(message, views.plain(t.t("staff.not_found", ticket=number)))
            return
        await self._refresh_card(bot, card)
        await send_view(message, views.plain(t.t("staff.taken", ticket=number, staff=staff)))

    async def _reply(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, args: list[str]
    ) -> None:
        t = _staff_texts()
        number = self._number(args)
        text = " ".join(args[1:]).strip()
        if number is None or not text:
            await send_view(message, views.plain(t.t("staff.usage_reply")))
            return
        await self._relay_to_person(update, context.bot, number, text, message)

    async def _relay_to_person(
        self, update: Update, bot: Bot, number: int, text: str, message: Message
    ) -> None:
        t = _staff_texts()
        try:
            done = await reply_to_person(
                self.services.desk, self._reach(bot), number, await self._name(update), text
            )
        except DeskError:
            await send_view(message, views.plain(t.t("staff.not_found", ticket=number)))
            return
        await self._refresh_card(bot, done.card)
        said = "staff.replied" if done.delivered else "staff.reply_undelivered"
        await send_view(message, views.plain(t.t(said, ticket=number)))

    async def _resolve(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, args: list[str]
    ) -> None:
        t = _staff_texts()
        number = self._number(args)
        if number is None:
            await send_view(message, views.plain(t.t("staff.usage_resolve")))
            return
        await self._do_resolve(update, context.bot, number, " ".join(args[1:]).strip(), message)

    async def _do_resolve(
        self, update: Update, bot: Bot, number: int, note: str, message: Message
    ) -> None:
        t = _staff_texts()
        try:
            done = await resolve_ticket(
                self.services.desk, self._reach(bot), number, await self._name(update), note
            )
        except DeskError:
            await send_view(message, views.plain(t.t("staff.not_found", ticket=number)))
            return
        await self._refresh_card(bot, done.card)
        await send_view(message, views.plain(t.t("staff.resolved", ticket=number)))

    async def _refresh_card(self, bot: Bot, card: TicketCard) -> None:
        await refresh_card(bot, card)

    async def _stats(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, args: list[str]
    ) -> None:
        await send_view(message, views.plain(await self.stats_text()))

    async def stats_text(self, *, day: date | None = None) -> str:
        """The given day (default today) and the 7 days ending with it, in the office's time zone."""
        timezone = self.services.settings.staff.timezone
        zone = ZoneInfo(timezone)
        day = day or utcnow().astimezone(zone).date()
        start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        end = start + timedelta(days=1)
        async with self.services.log.sessions() as session:
            today = await compute_stats(session, since=start, until=end, timezone=timezone)
            week = await compute_stats(
                session, since=start - timedelta(days=6), until=end, timezone=timezone
            )
        return cards.stats_text(today, week, _staff_texts())

    async def _export(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, args: list[str]
    ) -> None:
        t = _staff_texts()
        days = (callbacks.parse_id(args[0]) or 0) if args else 30
        if not 1 <= days <= 365:
            await send_view(message, views.plain(t.t("staff.export_usage")))
            return
        since = utcnow() - timedelta(days=days)
        async with self.services.log.sessions() as session:
            rows = await list_inquiries(session, since=since, limit=None)
            demands = await list_demands(session, since=since)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"talentbot-{utcnow():%Y%m%d}.xlsx"
            export_rows(
                rows,
                path,
                fmt="xlsx",
                t=t,
                timezone=self.services.settings.staff.timezone,
                demands=demands,
            )
            data = path.read_bytes()
        await message.chat.send_document(
            io.BytesIO(data),
            filename=path.name,
            caption=t.t("staff.export_caption", days=days, rows=len(rows)),
        )

    async def _reload(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, args: list[str]
    ) -> None:
        t = _staff_texts()
        problems = await self.services.knowledge.reload_async()
        if not problems:
            await send_view(
                message,
                views.plain(t.t("staff.reload_ok", entries=len(self.services.knowledge.kb))),
            )
            return
        listed = "\n".join(str(p) for p in problems[:30])
        more = f"\n… (+{len(problems) - 30})" if len(problems) > 30 else ""
        await send_view(message, views.plain(f"{t.t('staff.reload_failed')}\n{listed}{more}"))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """认领 / 已解决 / 查看记录 and inbox paging; the sender is checked now, not trusted."""
        query = update.callback_query
        assert query is not None
        if not await self._allowed(update):
            await self._refuse(update)
            return
        tap = callbacks.parse(query.data)
        message = query.message if isinstance(query.message, Message) else None
        if tap is None or message is None:
            await query.answer(_staff_texts().t("error.expired"))
            return
        await query.answer()
        if tap.kind == "inbox":
            page = int(tap.args[0])
            tickets, total = await self.services.desk.inbox(page=page, size=INBOX_PAGE)
            await edit_view(message, cards.inbox(tickets, total, page, INBOX_PAGE, _staff_texts()))
            return
        action, number = tap.args[0], int(tap.args[1])
        if action == "take":
            await self._do_take(update, context.bot, number, message)
        elif action == "resolve":
            await self._do_resolve(update, context.bot, number, "", message)
        else:
            await self._ticket(update, context, message, [str(number)])

    async def reply_to_card(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A specialist replied to a card (or a relayed message): send it to the person."""
        message = update.effective_message
        assert (
            message is not None
            and message.reply_to_message is not None
            and message.text is not None
        )
        if not await self._allowed(update):
            user = update.effective_user
            logger.warning(
                "ignored a reply in the staff group from non-staff %s", user.id if user else None
            )
            return
        desk = self.services.desk
        replied_to = message.reply_to_message.message_id
        ticket = await desk.ticket_for_message(message.chat.id, replied_to)
        if ticket is None and self.notifier.outbox.pending:
            # The message may have just been posted and not yet linked to its ticket.
            await self.notifier.outbox.settled(timeout=5)
            ticket = await desk.ticket_for_message(message.chat.id, replied_to)
        if ticket is None:
            return
        await self._relay_to_person(update, context.bot, ticket, message.text, message)

    async def remind_job(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        """JobQueue: post cards still missing; re-announce tickets open longer than the SLA.

        A card is missing when a ticket opened before the previous check has none (state in
        the database, so a restart or a lost queue changes nothing).
        """
        settings = self.services.settings.staff
        before = utcnow() - timedelta(seconds=settings.reminder_check_seconds)
        for ticket_id in await self.services.desk.without_card(opened_before=before):
            self.notifier.post_missing_card(context.bot, ticket_id)
        sla = timedelta(hours=settings.sla_hours)
        for card in await self.services.desk.due_for_reminder(sla=sla):
            try:
                await self.notifier.remind(context.bot, card)
            except TelegramError as exc:
                logger.error("SLA reminder for ticket %s failed: %s", card.id, exc)

    async def digest_job(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        """JobQueue: yesterday's digest, once (a restart after the time catches up)."""
        chat = self.notifier.chat_id
        if chat is None:
            return
        zone = ZoneInfo(self.services.settings.staff.timezone)
        yesterday = (utcnow().astimezone(zone) - timedelta(days=1)).date()
        if await self.services.desk.digest_sent(yesterday):
            return
        t = _staff_texts()
        text = f"{t.t('staff.digest_header', day=yesterday.isoformat())}\n{await self.stats_text(day=yesterday)}"
        await context.bot.send_message(chat, views.plain(text).text, parse_mode=ParseMode.HTML)
        await self.services.desk.mark_digest(yesterday)


def _what(update: Update) -> str:
    """What was attempted, for the log: the button's data or the command word and the chat.

    The rest of a message (a ``/reply`` carries an answer meant for a person) is logged only
    when debug logging is on: logs carry ids, not message text.
    """
    if update.callback_query is not None:
        return f"button {(update.callback_query.data or '')[:64]!r}"
    message = update.effective_message
    if message is None:
        return "update"
    text = message.text or ""
    if logger.isEnabledFor(logging.DEBUG):
        return f"message {text!r} in chat {message.chat_id}"
    words = text.split(maxsplit=1)
    word = words[0][:40] if words and words[0].startswith("/") else "a message"
    return f"{word} in chat {message.chat_id}"
