"""/demand: an enterprise registers a recruitment need, step by step (ConversationHandler).

Each step validates its answer with ``bot.chat.demand_form`` and re-asks with a clear message; the
draft lives in ``context.user_data`` until the person confirms, then it is stored with its own
ticket for the office's service commissioners. /cancel leaves at any step.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
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

from bot.chat import callbacks, views
from bot.chat.demand_form import DemandDraft, Position, clean_count, clean_phone, clean_text
from bot.chat.views import Button, View
from bot.services import Services
from bot.texts import Texts
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


def _prompt(key: str, **values: object) -> Callable[[DemandDraft, Texts], View]:
    return lambda _draft, t: _ask(t, key, **values)


def _next_position(draft: DemandDraft, t: Texts) -> View:
    return _ask(t, "demand.position_title", number=len(draft.positions))


def _more_or_done(_draft: DemandDraft, t: Texts) -> View:
    return View(
        views.plain(t.t("demand.more")).text,
        (
            (
                Button(t.t("demand.more_button"), callbacks.encode("demand", "more")),
                Button(t.t("demand.done_button"), callbacks.encode("demand", "done")),
            ),
        ),
    )


def _summary(draft: DemandDraft, t: Texts) -> View:
    return View(
        views.plain(f"{t.t('demand.summary_header')}\n{draft.summary(t)}").text,
        (
            (
                Button(t.t("demand.confirm_button"), callbacks.encode("demand", "confirm")),
                Button(t.t("demand.edit_button"), callbacks.encode("demand", "edit")),
            ),
        ),
    )


def _set_phone(draft: DemandDraft, value: Any) -> None:
    draft.contact_phone = value
    draft.positions.clear()
    draft.positions.append(Position())


@dataclass(frozen=True)
class Step:
    """One question of the form: how to clean the answer, where to keep it, what comes next."""

    state: int
    clean: Callable[[str | None], Any]
    invalid: str
    store: Callable[[DemandDraft, Any], None]
    next_state: int
    next_view: Callable[[DemandDraft, Texts], View]


STEPS = (
    Step(COMPANY, lambda v: clean_text(v, low=2, high=100), "demand.company_invalid",
         lambda d, v: setattr(d, "company", v), CONTACT_NAME, _prompt("demand.contact_name")),
    Step(CONTACT_NAME, lambda v: clean_text(v, high=50), "demand.contact_name_invalid",
         lambda d, v: setattr(d, "contact_name", v), CONTACT_PHONE, _prompt("demand.contact_phone")),
    Step(CONTACT_PHONE, clean_phone, "demand.contact_phone_invalid", _set_phone, TITLE, _next_position),
    Step(TITLE, lambda v: clean_text(v, high=50), "demand.position_title_invalid",
         lambda d, v: setattr(d.current, "title", v), COUNT, _prompt("demand.position_count")),
    Step(COUNT, clean_count, "demand.position_count_invalid",
         lambda d, v: setattr(d.current, "count", v), REQUIREMENT, _prompt("demand.position_requirement")),
    Step(REQUIREMENT, clean_text, "demand.text_invalid",
         lambda d, v: setattr(d.current, "requirement", v), PAY, _prompt("demand.position_pay")),
    Step(PAY, lambda v: clean_text(v, high=50), "demand.text_invalid",
         lambda d, v: setattr(d.current, "pay", v), MORE, _more_or_done),
    Step(NEEDED_BY, lambda v: clean_text(v, high=50), "demand.text_invalid",
         lambda d, v: setattr(d, "needed_by", v), CONFIRM, _summary),
)  # fmt: skip
"""The typed steps of the form, in order; buttons handle MORE and CONFIRM."""


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

    def step_handler(
        self, step: Step
    ) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, int]]:
        """A state's handler: validate the answer, re-ask clearly, or store it and ask the next."""

        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
            message, t, text = self._text(update)
            value = step.clean(text)
            if value is None:
                await send_view(message, _ask(t, step.invalid))
                return step.state
            draft = _draft(context)
            step.store(draft, value)
            await send_view(message, step.next_view(draft, t))
            return step.next_state

        return handle

    async def more(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Another position, or on to the date."""
        query = update.callback_query
        assert query is not None and isinstance(query.message, Message)
        t = texts_for(update.effective_user)
        await query.answer()
        await query.message.edit_reply_markup(reply_markup=None)
        draft = _draft(context)
        if query.data == callbacks.encode("demand", "more"):
            draft.positions.append(Position())
            await send_view(
                query.message, _ask(t, "demand.position_title", number=len(draft.positions))
            )
            return TITLE
        await send_view(query.message, _ask(t, "demand.needed_by"))
        return NEEDED_BY

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
        return _conversation(
            form, text, persistent=services.settings.telegram.state_file is not None
        )


def _conversation(
    form: DemandConversation, text: filters.BaseFilter, *, persistent: bool
) -> ConversationHandler[Any]:
    return ConversationHandler(
        entry_points=[
            CommandHandler("demand", form.start),
            CallbackQueryHandler(form.start, pattern=f"^{callbacks.encode('demand', 'start')}$"),
        ],
        states={
            **{step.state: [MessageHandler(text, form.step_handler(step))] for step in STEPS},
            MORE: [CallbackQueryHandler(form.more, pattern=r"^dm:(more|done)$")],
            CONFIRM: [CallbackQueryHandler(form.confirm, pattern=r"^dm:(confirm|edit)$")],
        },
        fallbacks=[CommandHandler("cancel", form.cancel)],
        name="demand",
        persistent=persistent,
        allow_reentry=True,
    )
