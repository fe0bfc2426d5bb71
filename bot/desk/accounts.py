"""Staff accounts for the web console: passwords, sign-in with lockout, server-side sessions.

Why server-side sessions: a signed cookie alone cannot be taken back, and the office must be able
to end a specialist's access at once (logout, an admin disabling the account). The cookie holds a
random token; the table holds only its SHA-256, so a copy of the database opens nothing.
Passwords are argon2id hashes (argon2-cffi, the OWASP recommendation), hashed off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.log.models import AuditEntry, StaffAccount, WebSession, utcnow
from bot.settings import WebSettings
from bot.texts import Texts

__all__ = [
    "MIN_PASSWORD_CHARS",
    "Account",
    "AccountError",
    "Accounts",
    "LoginRefused",
    "Refusal",
    "SignedIn",
]

MIN_PASSWORD_CHARS = 10
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a real password, for timing")


class AccountError(Exception):
    """A staff-account operation that cannot be done (unknown name, name taken, weak password).

    ``reason`` names the locale text ``accounts.error.<reason>``, formatted with ``params``, so
    the CLI and the console say it in the person's language.
    """

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params

    def said(self, t: Texts) -> str:
        return t.t(f"accounts.error.{self.reason}", **self.params)


class Refusal(StrEnum):
    BAD = "bad"  # unknown name or wrong password (never said which)
    LOCKED = "locked"
    DISABLED = "disabled"


class LoginRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    telegram_user_id: int | None
    is_admin: bool
    disabled: bool
    password_temporary: bool

    @classmethod
    def of(cls, row: StaffAccount) -> Account:
        return cls(
            row.id,
            row.name,
            row.telegram_user_id,
            row.is_admin,
            row.disabled,
            row.password_temporary,
        )


@dataclass(frozen=True)
class SignedIn:
    """A live session: who, and the token forms must echo (CSRF)."""

    account: Account
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A one-time password a person can type: 16 characters from an unambiguous alphabet."""
    alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


class Accounts:
    """Everything about staff accounts and their sessions; every change is audited."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], web: WebSettings) -> None:
        self.sessions = sessions
        self.web = web

    # --- administration (CLI and the console's admin pages) ---

    async def add(
        self, name: str, *, telegram_user_id: int | None = None, admin: bool = False, actor: str
    ) -> tuple[Account, str]:
        """Creates an account; returns it and its one-time password (shown once, never stored)."""
        name = name.strip()
        if not name or len(name) > 100:
            raise AccountError("bad_name")
        password = new_password()
        hashed = await asyncio.to_thread(_HASHER.hash, password)
        async with self.sessions.begin() as session:
            if await session.scalar(select(StaffAccount.id).where(StaffAccount.name == name)):
                raise AccountError("name_taken", name=name)
            if telegram_user_id is not None and await session.scalar(
                select(StaffAccount.id).where(StaffAccount.telegram_user_id == telegram_user_id)
            ):
                raise AccountError("telegram_taken", telegram_id=telegram_user_id)
            row = StaffAccount(
                name=name,
                telegram_user_id=telegram_user_id,
                is_admin=admin,
                disabled=False,
                password_hash=hashed,
                password_temporary=True,
                failed_logins=0,
            )
            session.add(row)
            await session.flush()
            session.add(
                AuditEntry(actor=actor, action="account.add", target=name, detail=_flags(row))
            )
            return Account.of(row), password

    async def set_disabled(self, name: str, disabled: bool, *, actor: str) -> Account:
        """Disables (ending every session at once) or re-enables an account."""
        async with self.sessions.begin() as session:
            row = await self._named(session, name)
            row.disabled = disabled
            if disabled:
                await session.execute(delete(WebSession).where(WebSession.account_id == row.id))
            action = "account.disable" if disabled else "account.enable"
            session.add(AuditEntry(actor=actor, action=action, target=name, detail=""))
            return Account.of(row)

    async def reset_password(self, name: str, *, actor: str) -> str:
        """A new one-time password; the account's sessions end and its lockout is lifted."""
        password = new_password()
        hashed = await asyncio.to_thread(_HASHER.hash, password)
        async with self.sessions.begin() as session:
            row = await self._named(session, name)
            row.password_hash = hashed
            row.password_temporary = True
            row.failed_logins = 0
            row.locked_until = None
            await session.execute(delete(WebSession).where(WebSession.account_id == row.id))
            session.add(AuditEntry(actor=actor, action="account.reset", target=name, detail=""))
        return password

    async def all(self) -> list[Account]:
        async with self.sessions() as session:
            rows = await session.scalars(select(StaffAccount).order_by(StaffAccount.name))
            return [Account.of(row) for row in rows]

    async def by_telegram_id(self, telegram_user_id: int) -> Account | None:
        """The enabled account linked to this Telegram user: the same specialist there."""
        async with self.sessions() as session:
            row = await session.scalar(
                select(StaffAccount).where(
                    StaffAccount.telegram_user_id == telegram_user_id,
                    StaffAccount.disabled.is_(False),
                )
            )
            return Account.of(row) if row is not None else None

    # --- signing in ---

    async def sign_in(self, name: str, password: str, *, now: datetime | None = None) -> str:
        """Checks the password; returns a new session token or raises ``LoginRefused``.

        A wrong password counts towards the lockout; at ``lockout_attempts`` in a row the
        account is held off for ``lockout_minutes`` whatever is typed. An unknown name costs
        the same hashing time as a known one, so timing does not tell names apart.
        """
        now = now or utcnow()
        async with self.sessions.begin() as session:
            row = await session.scalar(select(StaffAccount).where(StaffAccount.name == name))
            if row is None:
                await asyncio.to_thread(_verify, _DUMMY_HASH, password)
                raise LoginRefused(Refusal.BAD)
            if row.locked_until is not None and row.locked_until > now:
                session.add(AuditEntry(actor=name, action="login.locked", target=name, detail=""))
                await session.commit()
                raise LoginRefused(Refusal.LOCKED)
            ok = await asyncio.to_thread(_verify, row.password_hash, password)
            if not ok:
                row.failed_logins += 1
                detail = f"attempt {row.failed_logins}"
                if row.failed_logins >= self.web.lockout_attempts:
                    row.locked_until = now + timedelta(minutes=self.web.lockout_minutes)
                    row.failed_logins = 0
                    detail += ", locked"
                session.add(
                    AuditEntry(actor=name, action="login.failed", target=name, detail=detail)
                )
                await session.commit()
                raise LoginRefused(Refusal.BAD)
            if row.disabled:
                raise LoginRefused(Refusal.DISABLED)
            row.failed_logins = 0
            row.locked_until = None
            token = secrets.token_urlsafe(32)
            session.add(
                WebSession(
                    id=_digest(token),
                    account_id=row.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + timedelta(hours=self.web.session_hours),
                )
            )
            session.add(AuditEntry(actor=name, action="login", target=name, detail=""))
            return token

    async def session(self, token: str | None, *, now: datetime | None = None) -> SignedIn | None:
        """The live session for a cookie's token: not expired, account not disabled."""
        if not token or len(token) > 200:
            return None
        now = now or utcnow()
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(WebSession, StaffAccount)
                    .join(StaffAccount, StaffAccount.id == WebSession.account_id)
                    .where(WebSession.id == _digest(token))
                )
            ).one_or_none()
            if row is None:
                return None
            web_session, account = row
            if web_session.expires_at <= now or account.disabled:
                return None
            return SignedIn(Account.of(account), web_session.csrf_token)

    async def sign_out(self, token: str | None, *, actor: str) -> None:
        if not token:
            return
        async with self.sessions.begin() as session:
            await session.execute(delete(WebSession).where(WebSession.id == _digest(token)))
            session.add(AuditEntry(actor=actor, action="logout", target=actor, detail=""))

    async def change_password(self, account_id: int, current: str, new: str) -> None:
        """Sets a new password after checking the current one (a temporary one included)."""
        if len(new) < MIN_PASSWORD_CHARS:
            raise AccountError("short_password", chars=MIN_PASSWORD_CHARS)
        async with self.sessions() as session:
            row = await session.get(StaffAccount, account_id)
            if row is None or not await asyncio.to_thread(_verify, row.password_hash, current):
                raise AccountError("wrong_password")
        hashed = await asyncio.to_thread(_HASHER.hash, new)
        async with self.sessions.begin() as session:
            row = await session.get(StaffAccount, account_id)
            assert row is not None
            row.password_hash = hashed
            row.password_temporary = False
            session.add(
                AuditEntry(actor=row.name, action="account.password", target=row.name, detail="")
            )

    @staticmethod
    async def _named(session: AsyncSession, name: str) -> StaffAccount:
        row = await session.scalar(select(StaffAccount).where(StaffAccount.name == name))
        if row is None:
            raise AccountError("unknown_name", name=name)
        return row


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _flags(row: StaffAccount) -> str:
    flags = ["admin"] if row.is_admin else []
    if row.telegram_user_id is not None:
        flags.append(f"telegram {row.telegram_user_id}")
    return ", ".join(flags)
