"""Signing in and out, and changing the one-time password."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.desk.accounts import AccountError, LoginRefused, Refusal
from bot.web.console import Console
from bot.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    form_of,
    set_cookie,
    signed_in,
)

__all__ = ["change_password", "login_form", "login_submit", "logout", "password_form"]


def _safe_next(target: str | None) -> str:
    """Only a path on this site (``/inbox``), never ``//evil.example`` or a full URL."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(
    console: Console, request: Request, *, error: str = "", status_code: int = 200
) -> Response:
    token = secrets.token_urlsafe(32)
    response = console.page(
        request,
        "login.html",
        None,
        status_code=status_code,
        login_csrf=token,
        error=error,
        next=_safe_next(request.query_params.get("next")),
    )
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


async def login_form(console: Console, request: Request) -> Response:
    return _login_page(console, request)


async def login_submit(console: Console, request: Request) -> Response:
    form = await form_of(request)
    check_csrf(form, request.cookies.get(LOGIN_CSRF_COOKIE))
    name = str(form.get("name") or "").strip()[:100]
    password = str(form.get("password") or "")[:1000]
    try:
        token = await console.accounts.sign_in(name, password)
    except LoginRefused as refused:
        key = {
            Refusal.BAD: "web.login.bad",
            Refusal.LOCKED: "web.login.locked",
            Refusal.DISABLED: "web.login.disabled",
        }[refused.reason]
        return _login_page(console, request, error=key, status_code=401)
    response = RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)
    set_cookie(
        response,
        request,
        SESSION_COOKIE,
        token,
        max_age=int(console.services.settings.web.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def logout(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts, allow_temporary=True)
    check_csrf(await form_of(request), staff.session.csrf_token)
    await console.accounts.sign_out(staff.token, actor=staff.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def password_form(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts, allow_temporary=True)
    return console.page(request, "password.html", staff, error="")


async def change_password(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts, allow_temporary=True)
    form = await form_of(request)
    check_csrf(form, staff.session.csrf_token)
    new = str(form.get("new") or "")
    if new != str(form.get("repeat") or ""):
        return console.page(
            request, "password.html", staff, error="web.password.mismatch", status_code=400
        )
    try:
        await console.accounts.change_password(
            staff.session.account.id, str(form.get("current") or ""), new
        )
    except AccountError:
        return console.page(
            request, "password.html", staff, error="web.password.refused", status_code=400
        )
    return RedirectResponse("/", status_code=303)
