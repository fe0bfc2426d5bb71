"""/demand: an enterprise registers a recruitment need, step by step (ConversationHandler).

Each step validates its answer with ``bot.demand_form`` and re-asks with a clear message; the
draft lives in ``context.user_data`` until the person confirms, then it is stored with its own
ticket for the office's service commissioners. /cancel leaves at any step.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Message, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks, views
from bot.demand_form import DemandDraft, clean_count, clean_phone, clean_text
from bot.services import Services
from bot.texts import Texts
from bot.views import Button, View
from handlers.render import person_of, send_view, texts_for
from handlers.staff import StaffNotifier
from knowledge.schema import Audience

__all__ = ["build_demand_conversation"]

COMPANY, CONTACT_NAME, CONTACT_PHONE, TITLE, COUNT, REQUIREMENT, PAY, MORE, NEEDED_BY, CONFIRM = (
    range(10)
)
DRAFT = "demand_draft"


def _draft(context: ContextTypes.DEFAULT_TYPE) -> DemandDraft:
    data: dict[Any, Any] = context.user_data if context.user_data is not None else {}
    draft = data.get(DRAFT)
    if not isinstance(draft, DemandDraft):
        draft = DemandDraft()
        data[DRAFT] = draft
    return draft


def _ask(t: Texts, key: str, **values: object) -> View:
    return views.plain(t.t(key, **values))


class DemandConversation:
    """The states of the /demand form."""

    def __init__(self, services: Services, notifier: StaffNotifier) -> None:
        self.services = services
        self.notifier = notifier

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Checks the person is an enterprise and asks for the company name."""
        message = update.effective_message
        user = update.effective_user
        assert message is not None and user is not None
        t = texts_for(user)
        if update.callback_query is not None:
            await update.callback_query.answer()
        profile = await self.services.log.profile(f"telegram:{user.id}")
        if profile is None or profile.audience is not Audience.ENTERPRISE:
            await send_view(message, _ask(t, "demand.enterprise_only"))
            return ConversationHandler.END
        if context.user_data is not None:
            context.user_data[DRAFT] = DemandDraft()
        await send_view(message, _ask(t, "demand.start"))
        return COMPANY

    @staticmethod
    def _text(update: Update) -> tuple[Message, Texts, str | None]:
        message = update.effective_message
        assert message is not None
        return message, texts_for(update.effective_user), message.text

    async def company(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Stores the company name (2-100 characters)."""
        message, t, text = self._text(update)
        value = clean_text(text, low=2, high=100)
        if value is None:
            await send_view(message, _ask(t, "demand.company_invalid"))
            return COMPANY
        _draft(context).company = value
        await send_view(message, _ask(t, "demand.contact_name"))
        return CONTACT_NAME

    async def contact_name(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Stores the contact person's name."""
        message, t, text = self._text(update)
        value = clean_text(text, high=50)
        if value is None:
            await send_view(message, _ask(t, "demand.contact_name_invalid"))
            return CONTACT_NAME
        _draft(context).contact_name = value
        await send_view(message, _ask(t, "demand.contact_phone"))
        return CONTACT_PHONE

    async def contact_phone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Stores a valid mobile or landline number."""
        message, t, text = self._text(update)
        value = clean_phone(text)
        if value is None:
            await send_view(message, _ask(t, "demand.contact_phone_invalid"))
            return CONTACT_PHONE
        draft = _draft(context)
        draft.contact_phone = value
        draft.positions.clear()
        await send_view(message, _ask(t, "demand.position_title", number=1))
        return TITLE

    async def title(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Starts a position with its title."""
        message, t, text = self._text(update)
        value = clean_text(text, high=50)
        if value is None:
            await send_view(message, _ask(t, "demand.position_title_invalid"))
            return TITLE
        _draft(context).current.title = value
        await send_view(message, _ask(t, "demand.position_count"))
        return COUNT

    async def count(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Stores how many people the position needs."""
        message, t, text = self._text(update)
        value = clean_count(text)
        if value is None:
            await send_view(message, _ask(t, "demand.position_count_invalid"))
            return COUNT
        _draft(context).current.count = value
        await send_view(message, _ask(t, "demand.position_requirement"))
        return REQUIREMENT

    async def requirement(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Stores the education or skill required."""
        message, t, text = self._text(update)
        value = clean_text(text)
        if value is None:
            await send_view(message, _ask(t, "demand.text_invalid"))
            return REQUIREMENT
        _draft(context).current.requirement = value
        await send_view(message, _ask(t, "demand.position_pay"))
        return PAY

    async def pay(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Stores the pay range and asks whether there are more positions."""
        message, t, text = self._text(update)
        value = clean_text(text, high=50)
        if value is None:
            await send_view(message, _ask(t, "demand.text_invalid"))
            return PAY
        _draft(context).current.pay = value
        more = View(
            views.plain(t.t("demand.more")).text,
            (
                (
                    Button(t.t("demand.more_button"), callbacks.encode("demand", "more")),
                    Button(t.t("demand.done_button"), callbacks.encode("demand", "done")),
                ),
            ),
        )
        await send_view(message, more)
        return MORE

    async def more(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Another position, or on to the date."""
        query = update.callback_query
        assert query is not None and isinstance(query.message, Message)
        t = texts_for(update.effective_user)
        await query.answer()
        await query.message.edit_reply_markup(reply_markup=None)
        draft = _draft(context)
        if query.data == callbacks.encode("demand", "more"):
            draft.positions.append(type(draft.current)())
            await send_view(
                query.message, _ask(t, "demand.position_title", number=len(draft.positions))
            )
            return TITLE
        await send_view(query.message, _ask(t, "demand.needed_by"))
        return NEEDED_BY

    async def needed_by(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Stores when the people are needed and shows the summary to confirm."""
        message, t, text = self._text(update)
        value = clean_text(text, high=50)
        if value is None:
            await send_view(message, _ask(t, "demand.text_invalid"))
            return NEEDED_BY
        draft = _draft(context)
        draft.needed_by = value
        summary = View(
            views.plain(f"{t.t('demand.summary_header')}\n{draft.summary(t)}").text,
            (
                (
                    Button(t.t("demand.confirm_button"), callbacks.encode("demand", "confirm")),
                    Button(t.t("demand.edit_button"), callbacks.encode("demand", "edit")),
                ),
            ),
        )
        await send_view(message, summary)
        return CONFIRM

    async def confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Saves the need (and its ticket), or starts over to edit."""
        query = update.callback_query
        user = update.effective_user
        assert query is not None and isinstance(query.message, Message) and user is not None
        t = texts_for(user)
        await query.answer()
        await query.message.edit_reply_markup(reply_markup=None)
        if query.data == callbacks.encode("demand", "edit"):
            if context.user_data is not None:
                context.user_data[DRAFT] = DemandDraft()
            await send_view(query.message, _ask(t, "demand.start"))
            return COMPANY
        draft = _draft(context)
        profile = await self.services.log.profile(f"telegram:{user.id}")
        summary = draft.summary(texts_for(None))
        demand_id, ticket = await self.services.log.add_demand(
            person_of(user, profile),
            company=draft.company,
            contact_name=draft.contact_name,
            contact_phone=draft.contact_phone,
            positions=[p.as_dict() for p in draft.positions],
            needed_by=draft.needed_by,
            summary=summary,
        )
        if ticket is not None:
            await self.notifier.announce(context.bot, ticket, summary, author=draft.contact_name)
        if context.user_data is not None:
            context.user_data.pop(DRAFT, None)
        await send_view(query.message, _ask(t, "demand.saved", id=demand_id))
        return ConversationHandler.END

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Leaves the form without saving."""
        message = update.effective_message
        assert message is not None
        if context.user_data is not None:
            context.user_data.pop(DRAFT, None)
        await send_view(message, _ask(texts_for(update.effective_user), "demand.cancelled"))
        return ConversationHandler.END


def build_demand_conversation(
    services: Services, notifier: StaffNotifier
) -> ConversationHandler[Any]:
    """The /demand ConversationHandler (also started by the enterprise menu's button)."""
    form = DemandConversation(services, notifier)
    text = filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():
        # PTB notes that button taps are tracked per chat, not per message: that is intended.
        warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)
        return _conversation(form, text)


def _conversation(form: DemandConversation, text: filters.BaseFilter) -> ConversationHandler[Any]:
    return ConversationHandler(
        entry_points=[
            CommandHandler("demand", form.start),
            CallbackQueryHandler(form.start, pattern=f"^{callbacks.encode('demand', 'start')}$"),
        ],
        states={
            COMPANY: [MessageHandler(text, form.company)],
            CONTACT_NAME: [MessageHandler(text, form.contact_name)],
            CONTACT_PHONE: [MessageHandler(text, form.contact_phone)],
            TITLE: [MessageHandler(text, form.title)],
            COUNT: [MessageHandler(text, form.count)],
            REQUIREMENT: [MessageHandler(text, form.requirement)],
            PAY: [MessageHandler(text, form.pay)],
            MORE: [CallbackQueryHandler(form.more, pattern=r"^dm:(more|done)$")],
            NEEDED_BY: [MessageHandler(text, form.needed_by)],
            CONFIRM: [CallbackQueryHandler(form.confirm, pattern=r"^dm:(confirm|edit)$")],
        },
        fallbacks=[CommandHandler("cancel", form.cancel)],
        name="demand",
        allow_reentry=True,
    )
