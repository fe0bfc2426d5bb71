"""The whole turn of a conversation, for every channel: a person's message or tap in, one
``Turn`` out that says everything the adapter must show.

Before this, the Telegram handlers decided whether a message went to a specialist's open ticket
or to the matcher, announced to the staff group and marked replies sent; a second channel (the
web chat) would have had to copy that. Now Telegram, the console chat and the web chat each only
render the ``Turn`` (a new message, or the tapped message replaced; a short toast for a tap) and
call ``sent`` once it is out. Staff-group announcements go through a ``StaffChannel`` the adapter
provides (the Telegram staff group; none in a process without a bot).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bot.assistant import Person
from bot.chat import callbacks, views
from bot.chat.views import View
from bot.desk.staff_desk import DeskError
from bot.log.inquiry_log import NotYours, PersonState
from bot.log.queries import FeedbackExists, InquiryNotFound
from bot.ratelimit import Verdict
from bot.services import Services
from bot.texts import Texts, texts
from knowledge.schema import Audience, Category
from knowledge.verdict import Outcome

__all__ = ["Conversation", "StaffChannel", "Turn"]

logger = logging.getLogger(__name__)


class StaffChannel(Protocol):
    """Where specialists hear about tickets (the Telegram staff group)."""

    async def announce(self, ticket_id: int, text: str, *, author: str) -> None: ...

    async def refresh(self, ticket_id: int) -> None:
        """Redraws the ticket's card after it changed elsewhere (taken, answered, resolved)."""
        ...

    async def redact(self, posted: list[tuple[int, int]]) -> int:
        """Overwrites the staff messages about a forgotten person; returns how many failed."""
        ...


@dataclass(frozen=True)
class Turn:
    """What the person sees after their message or tap; adapters only render it."""

    view: View | None = None
    """A message to show (``None``: nothing, e.g. a redelivered update already answered)."""
    replace: bool = False
    """Show ``view`` in place of the tapped message (menus, the forget confirmation)."""
    toast: str | None = None
    """A short notice for a tap (Telegram's callback answer); ``""`` just acknowledges."""
    clear_buttons: bool = False
    """Take the buttons off the tapped message (feedback given, conversation ended)."""
    inquiry_id: int | None = None
    """Call ``Conversation.sent`` with the turn once it is out (so it is not answered twice)."""


class Conversation:
    """The conversation core over ``Services``, for one message or tap at a time."""

    def __init__(self, services: Services, staff: StaffChannel | None = None) -> None:
        self.services = services
        self.staff = staff

    async def _announce(self, ticket_id: int, text: str, author: str) -> None:
        if self.staff is not None:
            await self.staff.announce(ticket_id, text, author=author)

    async def sent(self, turn: Turn) -> None:
        """Notes that the turn's reply went out (a redelivered update is then not answered)."""
        if turn.inquiry_id is not None:
            await self.services.log.mark_replied(turn.inquiry_id)

    @staticmethod
    def texts_for(person: Person) -> Texts:
        return texts(person.language)

    # --- commands ---

    async def start(self, person: Person) -> Turn:
        await self.services.log.remember(person)
        return Turn(views.welcome(self.texts_for(person), self.services.office))

    def menu(self, person: Person) -> Turn:
        kb = self.services.knowledge.kb
        return Turn(views.menu(kb, person.audience, self.texts_for(person)))

    async def human(self, person: Person, extra: str = "") -> Turn:
        ticket = await self.services.log.request_human(person, extra or "/human")
        await self._announce(ticket, extra or "/human", person.display_name)
        return Turn(views.plain(self.texts_for(person).t("human.opened", ticket=ticket)))

    # --- a message ---

    async def message(
        self,
        person: Person,
        text: str,
        *,
        channel: str,
        chat_id: str | None = None,
        update_id: int | None = None,
        state: PersonState | None = None,
        history: bool = True,
    ) -> Turn:
        """Relays to the specialist on an open conversation, else asks the assistant.

        ``state`` is the person's state if the adapter read it already (``InquiryLog.state``);
        otherwise it is read here, once, for the whole turn. ``history``: the person's screen
        still shows the answers before (a Telegram chat does; the web chat forgets them on a
        reload), so the same answer asked for again can point back instead of repeating.
        """
        t = self.texts_for(person)
        services = self.services
        if state is None:
            state = await services.log.state(person.key)
        relay = state.relay_ticket
        if relay is not None and services.limiter.check(person.key) is not Verdict.ALLOW:
            logger.info("person %s is over the rate limit; not relayed", person.key)
            relay = None  # logged below as a limited inquiry instead of flooding the staff group
        if relay is not None:
            await services.desk.person_message(relay, person.display_name, text)
            await self._announce(relay, text, person.display_name)
            return Turn(views.plain(t.t("relay.forwarded", ticket=relay)))
        reply = await services.assistant.ask(
            person,
            text,
            channel=channel,
            chat_id=chat_id,
            update_id=update_id,
            last=state.last_entry,
        )
        if reply.already_replied:
            logger.info("update %s was answered before; not answering twice", update_id)
            return Turn()
        if reply.outcome is Outcome.LIMITED:
            view = None if reply.quiet else views.plain(t.t("limits.slow_down"))
            return Turn(view, inquiry_id=reply.inquiry_id)
        kb = services.knowledge.kb
        if reply.outcome in (Outcome.ANSWERED, Outcome.MULTI) and reply.entries:
            view = views.answer(
                reply.entries,
                kb,
                t,
                services.office,
                reply.inquiry_id,
                audience=person.audience,
                repeated=reply.repeated and history,
                also=reply.also,
            )
        elif reply.outcome is Outcome.SUGGESTED:
            view = views.suggestions(reply.suggestions, t, several=reply.match.several)
        elif reply.outcome is Outcome.SMALLTALK and reply.smalltalk:
            view = views.plain(t.t(f"smalltalk.{reply.smalltalk}"))
        elif reply.outcome is Outcome.UNCLEAR:
            view = views.plain(t.t("unclear.text"))
        elif reply.outcome is Outcome.HANDOVER and reply.ticket_id is not None:
            view = views.plain(t.t("human.opened", ticket=reply.ticket_id))
        else:
            profile = state.profile
            view = views.unmatched(t, services.office, ask_phone=not (profile and profile.phone))
        if reply.ticket_id is not None:
            await self._announce(reply.ticket_id, text, person.display_name)
        return Turn(view, inquiry_id=reply.inquiry_id)

    # --- a tap on a button ---

    async def tap(
        self,
        person: Person,
        data: str | None,
        *,
        channel: str,
        chat_id: str | None = None,
        update_id: int | None = None,
    ) -> tuple[Turn, Person]:
        """Any button of the people's side; data is parsed, then everything it names re-checked.

        Returns the turn and the person (with their new role after a role choice).
        """
        t = self.texts_for(person)
        tap = callbacks.parse(data)
        expired = Turn(toast=t.t("error.expired"))
        if tap is None:
            return expired, person
        kb = self.services.knowledge.kb
        kind, args = tap.kind, tap.args
        if kind == "role":
            person = Person(person.key, person.display_name, Audience(args[0]), person.language)
            await self.services.log.remember(person)
            label = t.t(f"audience.{args[0]}")
            header = t.t("role.set", audience=label)
            view = views.menu(kb, person.audience, t, header=header)
            return Turn(view, replace=True, toast=""), person
        if kind == "menu":
            return Turn(views.menu(kb, person.audience, t), replace=True, toast=""), person
        if kind == "cat" and args[0] in {c.value for c in Category}:
            page = views.category_page(kb, Category(args[0]), person.audience, int(args[1]), t)
            return Turn(page, replace=True, toast=""), person
        if kind == "entry" and kb.get(args[0]) is not None:
            return await self._entry(person, args[0], channel, chat_id, update_id), person
        if kind == "feedback":
            return await self._feedback(person, int(args[0]), args[1] == "y"), person
        if kind == "human":
            return await self._human(person, int(args[0])), person
        if kind == "forget":
            return await self.forget(person, confirmed=args[0] == "yes"), person
        if kind == "rate":
            return await self._rate(person, int(args[0]), int(args[1])), person
        if kind == "end":
            return await self._end(person, int(args[0])), person
        return expired, person

    async def _entry(
        self,
        person: Person,
        entry_id: str,
        channel: str,
        chat_id: str | None,
        update_id: int | None,
    ) -> Turn:
        kb = self.services.knowledge.kb
        entry = kb.get(entry_id)
        assert entry is not None
        recorded = await self.services.log.record_choice(
            person,
            entry.id,
            entry.title,
            via="menu",
            chat_id=chat_id,
            update_id=update_id,
            channel=channel,
        )
        if recorded.already_replied:
            return Turn(toast="")
        t = self.texts_for(person)
        view = views.answer(
            entry, kb, t, self.services.office, recorded.inquiry_id, audience=person.audience
        )
        return Turn(view, toast="", inquiry_id=recorded.inquiry_id)

    async def _feedback(self, person: Person, inquiry_id: int, helpful: bool) -> Turn:
        t = self.texts_for(person)
        try:
            ticket = await self.services.log.feedback(
                inquiry_id, helpful=helpful, person_key=person.key
            )
        except (NotYours, InquiryNotFound):
            logger.warning("refused feedback on inquiry %s from %s", inquiry_id, person.key)
            return Turn(toast=t.t("error.expired"))
        except FeedbackExists:
            return Turn(toast=t.t("feedback.already"))
        if ticket is None:
            return Turn(toast=t.t("feedback.thanks"), clear_buttons=True)
        await self._announce(
            ticket, texts("zh").t("answer_buttons.not_helpful"), person.display_name
        )
        view = views.plain(t.t("feedback.sorry", ticket=ticket))
        return Turn(view, toast=t.t("feedback.thanks"), clear_buttons=True)

    async def _human(self, person: Person, inquiry_id: int) -> Turn:
        t = self.texts_for(person)
        try:
            ticket = await self.services.log.request_human(person, "", inquiry_id=inquiry_id)
        except (NotYours, InquiryNotFound):
            logger.warning("refused hand-over of inquiry %s from %s", inquiry_id, person.key)
            return Turn(toast=t.t("error.expired"))
        await self._announce(ticket, texts("zh").t("answer_buttons.human"), person.display_name)
        return Turn(views.plain(t.t("human.opened", ticket=ticket)), toast="")

    async def forget(self, person: Person, *, confirmed: bool) -> Turn:
        """Deletes everything about the person (after they confirmed) and says what remains."""
        t = self.texts_for(person)
        if not confirmed:
            return Turn(views.plain(t.t("forget.cancelled")), replace=True, toast="")
        posted = await self.services.log.staff_messages_of(person.key)
        removed = await self.services.log.forget(person.key)
        if not removed:
            return Turn(views.plain(t.t("forget.nothing")), replace=True, toast="")
        failed = await self.staff.redact(posted) if self.staff is not None and posted else 0
        if posted and self.staff is None:
            failed = len(posted)
        done = t.t("forget.done")
        if posted:
            done += "\n" + t.t("forget.redacted", count=len(posted) - failed)
        if failed:
            done += "\n" + t.t("forget.not_redacted", count=failed)
        return Turn(views.plain(done), replace=True, toast="")

    async def _rate(self, person: Person, ticket: int, rating: int) -> Turn:
        t = self.texts_for(person)
        try:
            await self.services.desk.rate(ticket, person.key, rating)
        except DeskError:
            logger.warning("refused rating of ticket %s from %s", ticket, person.key)
            return Turn(toast=t.t("error.expired"))
        thanks = t.t("rating.thanks")
        return Turn(views.plain(thanks), replace=True, toast=thanks)

    async def _end(self, person: Person, ticket: int) -> Turn:
        t = self.texts_for(person)
        try:
            card = await self.services.desk.end_by_person(ticket, person.key)
        except DeskError:
            logger.warning("refused ending ticket %s from %s", ticket, person.key)
            return Turn(toast=t.t("error.expired"))
        await self._announce(card.id, texts("zh").t("staff.ended_by_person"), person.display_name)
        return Turn(views.plain(t.t("relay.ended")), toast="", clear_buttons=True)
