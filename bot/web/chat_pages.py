"""The public web chat: the same assistant as on Telegram, for people who do not use it.

No sign-in: an anonymous signed cookie says who is chatting (``bot/web/chat_identity.py``). Every
message and tap goes through the conversation core (``bot/chat/turns.py``), exactly as on
Telegram, and the reply is the same view rendered as HTML: answers with their source and service
channels, "您是不是想问" choices and 有帮助 / 没帮助 / 转人工 as buttons. A specialist's reply and a
resolution's rating request wait in ``web_messages`` until the page fetches them (it polls).

Abuse: per-person limits come from the core (as on Telegram); per network address here; the
message length is capped; every post carries the page's CSRF token; the page's content security
policy allows this site's own script and style only, and framing only by ``web.chat_origins``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.assistant import Person
from bot.chat import views
from bot.chat.turns import Conversation, StaffChannel, Turn
from bot.chat.views import Button, View
from bot.log.models import WebMessage
from bot.ratelimit import RateLimiter, Verdict
from bot.texts import Texts, language_for, texts
from bot.web.chat_identity import CHAT_COOKIE, ChatIdentity
from bot.web.console import Console, request_texts
from bot.web.security import Denied, form_of, set_cookie

__all__ = ["WebChat", "view_html"]

_TAG = re.compile(r"(<[^>]*>)")
_ALLOWED = {"<b>", "</b>", "<i>", "</i>"}
PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,30}$")


def view_html(view: View) -> Markup:
    """A core view as web HTML: its Telegram-HTML text (already escaped by the formatting
    functions) with only <b> and <i> let through, line breaks, and its buttons."""
    parts = []
    for piece in _TAG.split(view.text):
        if _TAG.fullmatch(piece):
            parts.append(piece if piece in _ALLOWED else html.escape(piece))
        else:
            parts.append(piece.replace("<", "&lt;").replace(">", "&gt;"))
    body = "".join(parts).replace("\n", "<br>")
    rows = "".join(
        '<div class="choices">'
        + "".join(
            f'<button type="button" data-tap="{html.escape(b.data)}">{html.escape(b.text)}</button>'
            for b in row
        )
        + "</div>"
        for row in view.buttons
    )
    # Safe (bandit B704): every piece of text was escaped just above; only <b>/<i> pass.
    return Markup(f"<div class='text'>{body}</div>{rows}")  # nosec B704


@dataclass
class Visitor:
    person: Person
    new_cookie: str | None
    t: Texts


class WebChat:
    """The chat's routes over the console's services."""

    def __init__(self, console: Console, staff: StaffChannel | None) -> None:
        self.console = console
        self.services = console.services
        self.identity = ChatIdentity(self.services.settings)
        self.conversation = Conversation(self.services, staff)
        web = self.services.settings.web
        per_minute = web.chat_per_address_per_minute
        self.per_address = RateLimiter(per_minute, burst=max(1, int(min(20, per_minute))))

    async def _visitor(self, request: Request) -> Visitor:
        t = request_texts(request)
        key = self.identity.person_key(request.cookies.get(CHAT_COOKIE))
        cookie = None
        if key is None:
            cookie, key = self.identity.new_cookie()
        profile = await self.services.log.profile(key)
        audience = profile.audience if profile else None
        name = t.t("webchat.visitor", id=key[-4:])
        return Visitor(Person(key, name, audience, t.language), cookie, t)

    def _respond(
        self, request: Request, visitor: Visitor, content: str, **headers: str
    ) -> Response:
        response = HTMLResponse(content, headers=headers)
        if visitor.new_cookie is not None:
            set_cookie(response, request, CHAT_COOKIE, visitor.new_cookie, max_age=180 * 24 * 3600)
        return response

    def _bubble(self, view: View, *, who: str = "bot") -> str:
        return f'<li class="{who}">{view_html(view)}</li>'

    async def _checked(self, request: Request, visitor: Visitor) -> dict[str, str]:
        form = await form_of(request)
        if not self.identity.csrf_ok(visitor.person.key, form.get("csrf")):
            raise Denied(403, "csrf")
        return {k: str(v) for k, v in form.items()}

    def _address(self, request: Request) -> str:
        return request.client.host if request.client else "?"

    # --- routes ---

    async def page(self, request: Request) -> Response:
        visitor = await self._visitor(request)
        t = visitor.t
        welcome = views.welcome(t, self.services.office)
        waiting, after = await self._waiting(visitor.person.key, 0)
        settings = self.services.settings.web
        # Safe (bandit B704): both are bubbles that view_html escaped.
        welcome_html = Markup(self._bubble(welcome))  # nosec B704
        waiting_html = Markup(waiting)  # nosec B704
        html_page = self.console.env.get_template("chat.html").render(
            t=t.t,
            lang=t.language,
            csrf=self.identity.csrf(visitor.person.key),
            welcome=welcome_html,
            waiting=waiting_html,
            after=after,
            max_chars=settings.chat_max_chars,
            poll_ms=int(settings.chat_poll_seconds * 1000),
            embedded=request.query_params.get("embed") == "1",
        )
        return self._respond(request, visitor, html_page)

    async def send(self, request: Request) -> Response:
        visitor = await self._visitor(request)
        form = await self._checked(request, visitor)
        t = visitor.t
        text = form.get("text", "").strip()
        if not text:
            return self._respond(request, visitor, "")
        if self.per_address.check(self._address(request)) is not Verdict.ALLOW:
            notice = views.plain(t.t("limits.slow_down"))
            return self._respond(request, visitor, self._bubble(notice, who="notice"))
        limit = self.services.settings.web.chat_max_chars
        if len(text) > limit:
            notice = views.plain(t.t("webchat.too_long", limit=limit))
            return self._respond(request, visitor, self._bubble(notice, who="notice"))
        # The page shows no transcript after a reload: every answer is given whole.
        turn = await self.conversation.message(visitor.person, text, channel="web", history=False)
        mine = self._bubble(views.plain(text), who="me")
        return self._respond(request, visitor, mine + self._turn_html(turn, visitor))

    def _turn_html(self, turn: Turn, visitor: Visitor) -> str:
        if turn.view is None:
            return ""
        view = turn.view
        if view.request_contact:
            view = View(view.text, ((Button(view.request_contact, "phone:ask"),), *view.buttons))
        return self._bubble(view)

    async def tap(self, request: Request) -> Response:
        visitor = await self._visitor(request)
        form = await self._checked(request, visitor)
        data = form.get("data", "")[:64]
        if data == "phone:ask":
            return self._respond(request, visitor, "", **{"X-Show-Phone": "1"})
        turn, _ = await self.conversation.tap(visitor.person, data, channel="web")
        await self.conversation.sent(turn)
        headers = {}
        if turn.replace:
            headers["X-Replace"] = "1"
        if turn.clear_buttons:
            headers["X-Clear-Buttons"] = "1"
        if turn.toast:
            headers["X-Toast"] = quote(turn.toast)
        return self._respond(request, visitor, self._turn_html(turn, visitor), **headers)

    async def phone(self, request: Request) -> Response:
        visitor = await self._visitor(request)
        form = await self._checked(request, visitor)
        number = form.get("phone", "").strip()
        t = visitor.t
        if not PHONE.match(number):
            bubble = self._bubble(views.plain(t.t("webchat.bad_phone")), who="notice")
            return self._respond(request, visitor, bubble)
        await self.services.log.remember(visitor.person, phone=number[:32])
        return self._respond(request, visitor, self._bubble(views.plain(t.t("contact.thanks"))))

    async def forget(self, request: Request) -> Response:
        visitor = await self._visitor(request)
        await self._checked(request, visitor)
        turn = await self.conversation.forget(visitor.person, confirmed=True)
        response = self._respond(request, visitor, self._turn_html(turn, visitor))
        response.delete_cookie(CHAT_COOKIE, path="/")
        return response

    async def updates(self, request: Request) -> Response:
        """What specialists sent since ``after`` (a web_messages id), as bubbles."""
        # Every open page asks every few seconds: the cookie alone, no profile look-up.
        key = self.identity.person_key(request.cookies.get(CHAT_COOKIE))
        if key is None:
            raise Denied(204)
        raw = request.query_params.get("after", "0")
        after = int(raw) if raw.isdigit() and len(raw) < 12 else 0
        content, last = await self._waiting(key, after)
        return HTMLResponse(content, headers={"X-After": str(last)})

    async def _waiting(self, person_key: str, after: int) -> tuple[str, int]:
        async with self.services.log.sessions() as session:
            rows = list(
                await session.scalars(
                    select(WebMessage)
                    .where(WebMessage.person_key == person_key, WebMessage.id > after)
                    .order_by(WebMessage.id)
                    .limit(50)
                )
            )
        bubbles = []
        for row in rows:
            buttons = tuple(
                tuple(Button(str(b["text"]), str(b["data"])) for b in line)
                for line in row.buttons
                if isinstance(line, list)
            )
            bubbles.append(self._bubble(View(row.text, buttons), who="staff"))
        return "".join(bubbles), (rows[-1].id if rows else after)

    async def embed_script(self, request: Request) -> Response:
        """One <script> tag for an office's website: a button that opens the chat in a frame."""
        base = str(request.base_url).rstrip("/")
        t = texts(language_for(request.headers.get("accept-language", "")[:2] or None))
        label = t.t("webchat.open")
        script = self.console.env.get_template("embed.js").render(
            base=base, label=label, title=t.t("webchat.title")
        )
        return Response(
            script,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=3600"},
        )
