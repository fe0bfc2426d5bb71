"""Staff accounts in the console, for admins: add, disable, enable, reset a password.

The same operations as ``talentbot staff`` (``bot/desk/accounts.py``); a one-time password is
shown once, on the page that created it, and never stored.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.desk.accounts import AccountError
from bot.web.console import Console, request_texts
from bot.web.security import Denied, Staff, check_csrf, form_of, signed_in

__all__ = ["account_action", "accounts_page"]


async def _page(
    console: Console,
    request: Request,
    staff: Staff,
    *,
    password: str = "",
    for_name: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    return console.page(
        request,
        "accounts.html",
        staff,
        accounts=await console.accounts.all(),
        password=password,
        for_name=for_name,
        error=error,
        status_code=status_code,
    )


async def accounts_page(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts, admin=True)
    return await _page(console, request, staff)


async def account_action(console: Console, request: Request) -> Response:
    staff = await signed_in(request, console.accounts, admin=True)
    form = await form_of(request)
    check_csrf(form, staff.session.csrf_token)
    action = str(request.path_params.get("action", ""))
    name = str(form.get("name") or "").strip()[:100]
    accounts = console.accounts
    actor = staff.name
    try:
        if action == "add":
            raw_id = str(form.get("telegram_id") or "").strip()
            if raw_id and not (raw_id.isdigit() and len(raw_id) <= 15):
                raise AccountError("bad_telegram_id")
            account, password = await accounts.add(
                name,
                telegram_user_id=int(raw_id) if raw_id else None,
                admin=form.get("admin") == "on",
                actor=actor,
            )
            return await _page(console, request, staff, password=password, for_name=account.name)
        if action == "reset":
            password = await accounts.reset_password(name, actor=actor)
            return await _page(console, request, staff, password=password, for_name=name)
        if action in ("disable", "enable"):
            if name == staff.name:
                raise AccountError("own_account")
            await accounts.set_disabled(name, action == "disable", actor=actor)
            return RedirectResponse("/accounts", status_code=303)
    except AccountError as exc:
        error = exc.said(request_texts(request))
        return await _page(console, request, staff, error=error, status_code=400)
    raise Denied(400, "bad_action")
