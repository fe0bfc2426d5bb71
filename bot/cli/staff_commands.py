"""``talentbot staff``: console accounts — add (printing a one-time password), list, disable,
enable, reset a password. Admins do this on the server; every change is in the audit log."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.common import err, get_settings, open_log
from bot.desk.accounts import AccountError, Accounts
from bot.texts import texts

__all__ = ["staff_app"]

T = TypeVar("T")
staff_app = typer.Typer(
    help="Staff accounts of the web console: add, list, disable, enable, reset-password.",
    no_args_is_help=True,
)
out = Console(highlight=False)


def _actor() -> str:
    """Who ran the command, for the audit log (the operating-system user)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _with_accounts(work: Callable[[Accounts], Awaitable[T]]) -> T:
    settings = get_settings()

    async def run() -> T:
        log = await open_log(settings)
        try:
            return await work(Accounts(log.sessions, settings.web))
        finally:
            await log.close()

    try:
        return asyncio.run(run())
    except AccountError as exc:
        err.print(texts().t("accounts.problem", problem=exc.said(texts())), markup=False)
        raise typer.Exit(1) from None


@staff_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The specialist's name, as colleagues know it.")],
    telegram_id: Annotated[
        int | None, typer.Option("--telegram-id", help="Their Telegram user id (same person).")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May manage accounts, read audit.")] = (
        False
    ),
) -> None:
    """Add an account; its one-time password is printed once (changed at first sign-in)."""
    account, password = _with_accounts(
        lambda accounts: accounts.add(
            name, telegram_user_id=telegram_id, admin=admin, actor=_actor()
        )
    )
    t = texts()
    out.print(t.t("accounts.added", name=account.name), markup=False)
    out.print(t.t("accounts.one_time", password=password), markup=False)


@staff_app.command("list")
def list_accounts() -> None:
    """List the accounts (never their passwords)."""
    accounts = _with_accounts(lambda a: a.all())
    t = texts()
    table = Table(title=t.t("accounts.title", count=len(accounts)))
    for column in ("name", "telegram", "admin", "state"):
        table.add_column(t.t(f"accounts.column.{column}"))
    for account in accounts:
        table.add_row(
            account.name,
            str(account.telegram_user_id or "—"),
            t.t("accounts.yes") if account.is_admin else "",
            t.t("accounts.disabled" if account.disabled else "accounts.enabled"),
        )
    out.print(table)


@staff_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Disable an account: its sessions end at once, it can no longer sign in or act."""
    _with_accounts(lambda a: a.set_disabled(name, True, actor=_actor()))
    out.print(texts().t("accounts.disabled_now", name=name), markup=False)


@staff_app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Enable a disabled account again."""
    _with_accounts(lambda a: a.set_disabled(name, False, actor=_actor()))
    out.print(texts().t("accounts.enabled_now", name=name), markup=False)


@staff_app.command("reset-password")
def reset_password(name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """A new one-time password (sessions end, a lockout is lifted); printed once."""
    password = _with_accounts(lambda a: a.reset_password(name, actor=_actor()))
    out.print(texts().t("accounts.one_time", password=password), markup=False)
