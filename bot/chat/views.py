"""What the bot shows on Telegram, as plain data: text (HTML) plus buttons.

Only ``handlers/`` import ``telegram``; they turn a ``View`` into a message with an inline
keyboard. Keeping the layouts here, as pure functions over the knowledge base and the locale
strings, lets every screen be tested without a bot and keeps user-facing words out of handlers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.chat import callbacks
from bot.chat.menus import categories_for, entries_page
from bot.formatting import HTML, render_answers, split_message
from bot.texts import Texts
from knowledge.loader import KnowledgeBase
from knowledge.schema import Audience, Category, Entry

__all__ = [
    "Button",
    "View",
    "answer",
    "category_page",
    "forget_confirm",
    "menu",
    "suggestions",
    "unmatched",
    "welcome",
]


@dataclass(frozen=True)
class Button:
    """An inline button: its label and its callback data."""

    text: str
    data: str


@dataclass(frozen=True)
class View:
    """One message (or several, for long text) and the buttons under the last one."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    request_contact: str | None = None
    """Label of a reply-keyboard button asking for the person's phone number, if any."""
    chunks: tuple[str, ...] = field(default=())

    def parts(self) -> list[str]:
        """The text split to fit Telegram's 4,096-character limit."""
        return list(self.chunks) if self.chunks else split_message(self.text)


def _e(text: str) -> str:
    return HTML.escape(text)


def welcome(t: Texts, office: Mapping[str, str]) -> View:
    """The /start greeting: what the bot can and cannot do, and the role choice."""
    return View(
        _e(t.t("start.welcome", office_name=office["office_name"])),
        (
            (
                Button(t.t("start.talent_button"), callbacks.encode("role", "talent")),
                Button(t.t("start.enterprise_button"), callbacks.encode("role", "enterprise")),
            ),
        ),
    )


def role_choice(t: Texts) -> View:
    """/role: ask again."""
    return View(
        _e(t.t("role.ask")),
        (
            (
                Button(t.t("start.talent_button"), callbacks.encode("role", "talent")),
                Button(t.t("start.enterprise_button"), callbacks.encode("role", "enterprise")),
            ),
        ),
    )


def menu(
    kb: KnowledgeBase, audience: Audience | None, t: Texts, *, header: str | None = None
) -> View:
    """The category menu, two buttons a row; enterprises also get the hiring-need button."""
    labels = [
        Button(t.t(f"category.{c.value}"), callbacks.encode("cat", c.value, 0))
        for c in categories_for(kb, audience)
    ]
    rows = [tuple(labels[i : i + 2]) for i in range(0, len(labels), 2)]
    if audience is Audience.ENTERPRISE:
        rows.append((Button(t.t("menu.demand_button"), callbacks.encode("demand", "start")),))
    return View(_e(header or t.t("menu.header")), tuple(rows))


def category_page(
    kb: KnowledgeBase, category: Category, audience: Audience | None, number: int, t: Texts
) -> View:
    """One page of a category: an entry per row, then paging and back."""
    page = entries_page(kb, category, audience, number)
    rows: list[tuple[Button, ...]] = [
        (Button(e.title, callbacks.encode("entry", e.id)),) for e in page.entries
    ]
    paging = []
    if page.has_previous:
        paging.append(
            Button(t.t("menu.previous"), callbacks.encode("cat", category.value, page.number - 1))
        )
    if page.has_next:
        paging.append(
            Button(t.t("menu.next"), callbacks.encode("cat", category.value, page.number + 1))
        )
    if paging:
        rows.append(tuple(paging))
    rows.append((Button(t.t("menu.back"), callbacks.encode("menu")),))
    title = t.t(
        "menu.category",
        category=t.t(f"category.{category.value}"),
        page=page.number + 1,
        pages=page.pages,
    )
    return View(_e(title), tuple(rows))


def answer(
    entry: Entry | Sequence[Entry],
    kb: KnowledgeBase,
    t: Texts,
    office: Mapping[str, str],
    inquiry_id: int | None,
    *,
    audience: Audience | None = None,
    repeated: bool = False,
    also: Sequence[Entry] = (),
) -> View:
    """An answer (or several, for a message asking several things) in HTML, with status,
    contacts and source, and the feedback buttons; ``repeated``: a pointer back to the same
    answer just given (``render_answer``); ``also``: entries the message's other questions
    only suggest, one button each under the answer."""
    entries = [entry] if isinstance(entry, Entry) else list(entry)
    text = render_answers(entries, kb, t, office, HTML, audience=audience, repeated=repeated)
    buttons: tuple[tuple[Button, ...], ...] = tuple(
        (Button(e.title, callbacks.encode("entry", e.id)),) for e in also
    )
    if also:
        text = f"{text}\n\n{_e(t.t('multi.also_header'))}"
    if inquiry_id is not None:
        buttons += (
            (
                Button(
                    t.t("answer_buttons.helpful"), callbacks.encode("feedback", inquiry_id, "y")
                ),
                Button(
                    t.t("answer_buttons.not_helpful"), callbacks.encode("feedback", inquiry_id, "n")
                ),
            ),
            (Button(t.t("answer_buttons.human"), callbacks.encode("human", inquiry_id)),),
        )
    return View(text, buttons)


def suggestions(entries: Sequence[Entry], t: Texts, *, several: bool = False) -> View:
    """ "您是不是想问" with one button per candidate; "您的问题涉及" when the message asked
    several things and these are the entries its questions touch."""
    return View(
        _e(t.t("suggest.several_header" if several else "suggest.header")),
        tuple((Button(e.title, callbacks.encode("entry", e.id)),) for e in entries),
    )


def unmatched(t: Texts, office: Mapping[str, str], *, ask_phone: bool) -> View:
    """The honest hand-over, with the share-my-phone button when we have no number yet."""
    return View(
        _e(t.t("unmatched.text", **office)),
        request_contact=t.t("contact.share_button") if ask_phone else None,
    )


def forget_confirm(t: Texts) -> View:
    """/forget: ask before deleting anything."""
    return View(
        _e(t.t("forget.confirm")),
        (
            (
                Button(t.t("forget.delete_button"), callbacks.encode("forget", "yes")),
                Button(t.t("forget.keep_button"), callbacks.encode("forget", "no")),
            ),
        ),
    )


def plain(text: str) -> View:
    """A message without buttons; ``text`` is escaped."""
    return View(_e(text))


def staff_reply(t: Texts, ticket_id: int, text: str) -> View:
    """A specialist's reply as the person sees it, with the button that ends the conversation."""
    return View(
        plain(t.t("relay.staff_reply", text=text)).text,
        ((Button(t.t("relay.end_button"), callbacks.encode("end", ticket_id)),),),
    )


def resolved(t: Texts, ticket_id: int, note: str) -> View:
    """The person is told their ticket is resolved (with the note) and asked for a rating."""
    noted = t.t("rating.note", note=note) if note else ""
    stars = tuple(Button(str(n), callbacks.encode("rate", ticket_id, n)) for n in range(1, 6))
    return View(plain(t.t("rating.resolved", ticket=ticket_id, note=noted)).text, (stars,))
