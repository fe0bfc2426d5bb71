"""Who is asking, decided on the server for every request: sessions, CSRF, security headers.

Pages redirect an anonymous browser to the sign-in page; actions (POST) answer 401 without a
session and 403 with a wrong or missing CSRF token or without the rights. The session cookie is
``HttpOnly`` and ``SameSite=Lax``, ``Secure`` over https; its value is a random token whose
SHA-256 names the server-side session (``bot/desk/accounts.py``). Nothing is decided by a
hidden field: the acting specialist is always the session's account.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.desk.accounts import Accounts, SignedIn

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "Denied",
    "SecurityHeaders",
    "check_csrf",
    "set_cookie",
    "signed_in",
]

SESSION_COOKIE = "tb_session"
LOGIN_CSRF_COOKIE = "tb_login_csrf"
MAX_FORM_BYTES = 64 * 1024
"""A console form is a reply or a few fields; anything bigger is refused before parsing."""

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class Denied(Exception):
    """The request may not do this: a redirect (``location``), or a status with the reason as
    a locale key (``web.denied.<reason>``), put into words by the endpoint wrapper."""

    def __init__(self, status_code: int, reason: str = "", *, location: str | None = None) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.reason = reason
        self.location = location


@dataclass(frozen=True)
class Staff:
    """The signed-in specialist of a request."""

    session: SignedIn
    token: str

    @property
    def name(self) -> str:
        return self.session.account.name

    @property
    def is_admin(self) -> bool:
        return self.session.account.is_admin


async def signed_in(
    request: Request, accounts: Accounts, *, admin: bool = False, allow_temporary: bool = False
) -> Staff:
    """The request's specialist, or ``Denied``: pages redirect to sign-in, actions get 401/403.

    An account with a temporary password may only change it.
    """
    token = request.cookies.get(SESSION_COOKIE)
    session = await accounts.session(token)
    is_page = request.method in ("GET", "HEAD")
    if session is None or token is None:
        if is_page:
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            raise Denied(303, location=f"/login?next={target}")
        raise Denied(401, "sign_in")
    if session.account.password_temporary and not allow_temporary:
        if is_page:
            raise Denied(303, location="/password")
        raise Denied(403, "temporary_password")
    if admin and not session.account.is_admin:
        raise Denied(403, "admins_only")
    return Staff(session, token)


async def form_of(request: Request) -> FormData:
    """The posted form, refused (413) when larger than a console form can be."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_FORM_BYTES:
        raise Denied(413, "form_too_large")
    return await request.form()


def check_csrf(form: FormData, expected: str | None) -> None:
    """The form's ``csrf`` field must equal the session's (or the sign-in cookie's) token."""
    given = form.get("csrf")
    if not expected or not isinstance(given, str) or not secrets.compare_digest(given, expected):
        raise Denied(403, "csrf")


def set_cookie(response: Response, request: Request, name: str, value: str, **extra: Any) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
        **extra,
    )


class SecurityHeaders:
    """Adds the content security policy and friends to every response.

    The console may never be framed; the chat (``/chat``) may be, by this site and the sites
    in ``web.chat_origins`` (an office's website embedding it).
    """

    def __init__(self, app: ASGIApp, chat_ancestors: list[str] | None = None) -> None:
        self.app = app
        ancestors = " ".join(["'self'", *(chat_ancestors or [])])
        self.chat_csp = CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                chat = str(scope.get("path", "")).startswith("/chat")
                headers += [
                    (b"content-security-policy", (self.chat_csp if chat else CSP).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not chat:
                    headers.append((b"x-frame-options", b"DENY"))
                if scope.get("scheme") == "https":
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


Endpoint = Callable[[Request], Awaitable[Response]]
