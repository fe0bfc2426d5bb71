"""The staff console's Starlette application: routes, static files, errors.

Starlette rather than FastAPI: the console is server-rendered HTML forms, with no JSON API to
describe, so FastAPI's models and OpenAPI would be weight without use. Every route calls
``signed_in`` itself (``bot/web/security.py``); there is no route that forgets to.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.chat.turns import StaffChannel
from bot.desk.delivery import Reach, either, web_reach
from bot.services import Services
from bot.web import accounts_pages, auth_pages, desk_pages, knowledge_pages, log_pages
from bot.web.chat_pages import WebChat
from bot.web.console import HERE, Console
from bot.web.security import Denied, SecurityHeaders

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

Page = Callable[[Console, Request], Awaitable[Response]]


def _guarded(console: Console, page: Page) -> Callable[[Request], Awaitable[Response]]:
    """Turns ``Denied`` into its response; anything else is logged and answered 500 plainly."""

    async def endpoint(request: Request) -> Response:
        try:
            return await page(console, request)
        except Denied as denied:
            return denied.response
        except Exception:
            logger.exception("console error on %s %s", request.method, request.url.path)
            return PlainTextResponse("internal error; it is logged", status_code=500)

    return endpoint


def _plain(
    page: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """``_guarded`` for the chat's routes (methods of ``WebChat``)."""

    async def endpoint(request: Request) -> Response:
        try:
            return await page(request)
        except Denied as denied:
            return denied.response
        except Exception:
            logger.exception("chat error on %s %s", request.method, request.url.path)
            return PlainTextResponse("internal error; it is logged", status_code=500)

    return endpoint


def create_app(
    services: Services, reach: Reach | None = None, staff: StaffChannel | None = None
) -> Starlette:
    """The console and the web chat over ``services`` (opened by the caller).

    ``reach`` delivers specialists' replies to people; ``staff`` tells the staff group about
    web-chat tickets (both ``None`` in tests and without a bot token).
    """
    console = Console(
        services, either(web_reach(services.log), reach), telegram=reach is not None, staff=staff
    )
    g = partial(_guarded, console)
    routes = [
        Route("/login", g(auth_pages.login_form), methods=["GET"]),
        Route("/login", g(auth_pages.login_submit), methods=["POST"]),
        Route("/logout", g(auth_pages.logout), methods=["POST"]),
        Route("/password", g(auth_pages.password_form), methods=["GET"]),
        Route("/password", g(auth_pages.change_password), methods=["POST"]),
        Route("/", g(desk_pages.dashboard), methods=["GET"]),
        Route("/inbox", g(desk_pages.inbox), methods=["GET"]),
        Route("/tickets/{ticket_id}", g(desk_pages.ticket_page), methods=["GET"]),
        Route("/tickets/{ticket_id}/{action}", g(desk_pages.ticket_action), methods=["POST"]),
        Route("/canned", g(desk_pages.canned_page), methods=["GET"]),
        Route("/canned", g(desk_pages.canned_save), methods=["POST"]),
        Route("/canned/remove", g(desk_pages.canned_remove), methods=["POST"]),
        Route("/inquiries", g(log_pages.inquiries_page), methods=["GET"]),
        Route("/inquiries/export", g(log_pages.export_inquiries), methods=["GET"]),
        Route("/audit", g(log_pages.audit_page), methods=["GET"]),
        Route("/accounts", g(accounts_pages.accounts_page), methods=["GET"]),
        Route("/accounts/{action}", g(accounts_pages.account_action), methods=["POST"]),
        Route("/kb", g(knowledge_pages.kb_page), methods=["GET"]),
        Route("/kb/try", g(knowledge_pages.try_page), methods=["GET"]),
        Route("/kb/{entry_id}", g(knowledge_pages.entry_page), methods=["GET"]),
        Route("/gaps", g(knowledge_pages.gaps_page), methods=["GET"]),
        Route("/gaps/add", g(knowledge_pages.add_to_entry), methods=["POST"]),
        Route("/gaps/draft", g(knowledge_pages.draft_form), methods=["GET"]),
        Route("/gaps/draft", g(knowledge_pages.draft_submit), methods=["POST"]),
        Route("/favicon.ico", lambda _: RedirectResponse("/static/favicon.svg"), methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    web = services.settings.web
    if web.chat:
        chat = WebChat(console, staff)
        routes += [
            Route("/chat", _plain(chat.page), methods=["GET"]),
            Route("/chat/send", _plain(chat.send), methods=["POST"]),
            Route("/chat/tap", _plain(chat.tap), methods=["POST"]),
            Route("/chat/phone", _plain(chat.phone), methods=["POST"]),
            Route("/chat/forget", _plain(chat.forget), methods=["POST"]),
            Route("/chat/updates", _plain(chat.updates), methods=["GET"]),
            Route("/chat/embed.js", _plain(chat.embed_script), methods=["GET"]),
        ]
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders, chat_ancestors=web.chat_origins)
    return app
