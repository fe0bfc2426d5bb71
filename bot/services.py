"""The application's long-lived parts, built once and handed to every adapter.

The Telegram handlers, the console chat and the CLI all reach the knowledge base, the inquiry
log and the conversation core through one ``Services`` object (never through untyped
``bot_data`` lookups). The log is opened inside the running event loop, by ``open``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.assistant import Assistant
from bot.desk.accounts import Accounts
from bot.desk.staff_desk import StaffDesk
from bot.log.inquiry_log import InquiryLog
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from knowledge.service import KnowledgeService

__all__ = ["Services"]


@dataclass
class Services:
    """Settings, knowledge base, inquiry log and conversation core."""

    settings: Settings
    knowledge: KnowledgeService
    _log: InquiryLog | None = field(default=None, repr=False)
    limiter: RateLimiter = field(init=False, repr=False)
    """One per process, shared by every channel: a person's budget is theirs wherever they write."""

    def __post_init__(self) -> None:
        limits = self.settings.limits
        self.limiter = RateLimiter(limits.messages_per_minute, limits.burst)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """Loads the knowledge base; raises ``KnowledgeBaseError`` if it is invalid."""
        knowledge = KnowledgeService(
            settings.knowledge.dir,
            seeds_dir=settings.knowledge.seeds_dir,
            config=settings.matching.to_config(),
            cache_dir=settings.knowledge.cache_dir,
        )
        knowledge.load()
        return cls(settings, knowledge)

    async def open(self) -> None:
        """Opens the inquiry log (upgrading its schema); call inside the event loop."""
        if self._log is None:
            database = self.settings.database
            self._log = await InquiryLog.open(
                database.url,
                echo=database.echo,
                # where inquiries wait while the database is away; default: next to it
                spool_path=getattr(database, "spool_path", None),
                store_chars=self.settings.limits.store_chars,
            )

    async def close(self) -> None:
        """Finishes pending writes and closes the log."""
        if self._log is not None:
            await self._log.close()
            self._log = None

    @property
    def log(self) -> InquiryLog:
        """The inquiry log; ``open`` must have run."""
        if self._log is None:
            raise RuntimeError("Services.open() has not run")
        return self._log

    @property
    def assistant(self) -> Assistant:
        """The conversation core over the knowledge base, recording into the log."""
        limits = self.settings.limits
        return Assistant(
            self.knowledge,
            self.log,
            follow_up_minutes=self.settings.conversation.follow_up_minutes,
            limiter=self.limiter,
            match_chars=limits.match_chars,
            store_chars=limits.store_chars,
        )

    @property
    def desk(self) -> StaffDesk:
        """Ticket operations for specialists."""
        return StaffDesk(self.log)

    @property
    def accounts(self) -> Accounts:
        """Staff accounts of the web console (one identity with Telegram when linked)."""
        return Accounts(self.log.sessions, self.settings.web)

    async def specialist(self, user_id: int | None, telegram_name: str) -> str | None:
        """The specialist's name if this Telegram user is staff, else ``None`` (every action).

        Staff are the ids in ``staff.user_ids`` (named by ``staff.names`` or their Telegram
        name) and the enabled console accounts linked to a Telegram id (named as the account,
        so the staff group, the console and the audit log speak of one person).
        """
        if user_id is None:
            return None
        account = await self.accounts.by_telegram_id(user_id)
        if account is not None:
            return account.name
        if user_id in self.settings.staff.user_ids:
            return self.settings.staff.names.get(user_id) or telegram_name
        return None

    @property
    def office(self) -> dict[str, str]:
        """Placeholder values for answers."""
        return self.settings.office.placeholders()
