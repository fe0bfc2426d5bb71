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
from bot.web.console import HERE, Console, request_texts
from bot.web.security import Denied, SecurityHeaders

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

Page = Callable[[Console, Request], Awaitable[Response]]


def _endpoint(
    page: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Turns ``Denied`` into its response in the browser's language; anything else is logged
    and answered 500 plainly (never a traceback to the browser)."""

    async def endpoint(request: Request) -> Response:
        try:
            return await page(request)
        except Denied as denied:
            if denied.location is not None:
                return RedirectResponse(denied.location, status_code=denied.status_code)
            if not denied.reason:
                return Response(status_code=denied.status_code)
            text = request_texts(request).t(f"web.denied.{denied.reason}")
            return PlainTextResponse(text, status_code=denied.status_code)
        except Exception:
            logger.exception("console error on %s %s", request.method, request.url.path)
            return PlainTextResponse(request_texts(request).t("web.denied.error"), 500)

    return endpoint


def _guarded(console: Console, page: Page) -> Callable[[Request], Awaitable[Response]]:
    """A console page, given the console, behind ``_endpoint``."""
    return _endpoint(partial(page, console))


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
            Route("/chat", _endpoint(chat.page), methods=["GET"]),
            Route("/chat/send", _endpoint(chat.send), methods=["POST"]),
            Route("/chat/tap", _endpoint(chat.tap), methods=["POST"]),
            Route("/chat/phone", _endpoint(chat.phone), methods=["POST"]),
            Route("/chat/forget", _endpoint(chat.forget), methods=["POST"]),
            Route("/chat/updates", _endpoint(chat.updates), methods=["GET"]),
            Route("/chat/embed.js", _endpoint(chat.embed_script), methods=["GET"]),
        ]
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders, chat_ancestors=web.chat_origins)
    return app
