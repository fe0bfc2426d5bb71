"""Long polling that confirms an update to Telegram only after it was handled.

python-telegram-bot's ``Updater`` asks for the next batch (which confirms the last one) as soon
as it has queued the updates, so a crash loses every update in its queue: the Bot API will not
send them again. Here the offset moves past a batch only when every update in it went through
the handlers, whose first step is to store the inquiry; after a SIGKILL the Bot API sends the
unhandled updates again, and the inquiry log's unique update id keeps them from being answered
twice.

With a journal (``bot.log.spool.Spool``; the bot always has one, next to its database) every
fetched batch is first written to it durably (one ``fsync``), and only then confirmed to the Bot
API by the next call; finished updates are dropped from it as they complete, and at start-up
whatever it still holds is handled first. So the Bot API never has to keep unfinished updates
for us: one person's thousand queued messages do not fill the hundred-update window that every
other person's message would otherwise wait behind, and no update is fetched twice. Should the
journal fail (a full disk), the batch stays unconfirmed at the Bot API as without one.

Updates of one chat are handled in order; different chats at once, up to a bound. An update
that cannot be parsed is logged by its id and skipped instead of stalling everyone after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

from bot.log.spool import Spool

__all__ = ["Poller", "chat_key"]

logger = logging.getLogger(__name__)

# Raw getUpdates (not Bot.get_updates) so that one malformed update can be skipped alone.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]

MAX_BACKOFF = 30.0
"""Seconds between attempts while the Bot API cannot be reached, at most."""
BATCH = 100
"""The most updates one getUpdates call returns (the Bot API's limit and default)."""
IDLE_WAIT = 0.05
"""With updates in hand and nothing new, wait this long (or for one to finish) before asking."""
MAX_IN_HAND = 10_000
"""With this many journaled updates unfinished, fetching waits (memory stays bounded)."""
COMPACT_SECONDS = 1.0
"""Finished updates are dropped from the journal at least this often while any are."""


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def chat_key(update: Update) -> int:
    """Updates with the same key are handled one after another (one person's, one chat's)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


class Poller:
    """Fetches updates, hands them to the application, and confirms them once handled.

    Fetching does not wait for handling: while some updates are in hand, the next call asks
    from the oldest unfinished one (so nothing unfinished is ever confirmed), skips the ones
    already in hand, and dispatches only new ones. When nothing new came, it waits for an
    update to finish (or a moment) before asking again, so it never spins.
    """

    def __init__(
        self,
        app: TelegramApp,
        *,
        timeout: int = 30,
        concurrency: int = 64,
        allowed_updates: Sequence[str] = Update.ALL_TYPES,
        journal: Spool | None = None,
    ) -> None:
        self.app = app
        self.journal = journal
        self._journaled: dict[int, str] = {}
        """Updates in hand that the journal holds (update id -> journal id)."""
        self._finished: set[str] = set()
        """Journal ids of finished updates not yet dropped from it."""
        self._compacted = time.monotonic()
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates)
        self._slots = asyncio.Semaphore(concurrency)
        self._stop = asyncio.Event()
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._unjournaled: set[int] = set()
        """Updates in hand that only the Bot API keeps, so the offset must not pass them (a set
        kept up to date: with thousands in hand, filtering ``_in_hand`` on every turn of the
        loop cost a percent of the bot's time)."""
        self._last_of_chat: dict[int, asyncio.Task[None]] = {}
        self._dispatched = -1
        self.handled = 0
        self.skipped = 0

    @property
    def offset(self) -> int | None:
        """The next getUpdates offset: the oldest update in hand the journal does not hold,
        else the next new one."""
        if self._unjournaled:
            return min(self._unjournaled)
        return self._dispatched + 1 if self._dispatched >= 0 else None

    def stop(self) -> None:
        """Ends fetching; the updates in hand are finished by ``run`` (a signal handler calls it)."""
        self._stop.set()

    async def run(self) -> None:
        """Polls until ``stop``; raises ``InvalidToken`` at once, retries network errors."""
        backoff = 1.0
        try:
            if self.journal is not None:
                await self._replay_journal()
            while not self._stop.is_set():
                await self._compact()
                if self._window_full():
                    await self._oldest_done()
                    continue
                try:
                    waiting = bool(self._unjournaled)
                    raw = await self._fetch(0 if waiting else self.timeout)
                except InvalidToken:
                    raise
                except RetryAfter as exc:
                    await self._sleep(_seconds(exc.retry_after))
                    continue
                except (NetworkError, TelegramError) as exc:
                    logger.warning("getUpdates failed (%s); retrying in %.0f s", exc, backoff)
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                backoff = 1.0
                if raw is None:  # stopped while waiting
                    break
                fresh = [u for u in raw if int(u.get("update_id", -1)) > self._dispatched]
                kept = await self._keep(fresh)
                for data, journal_id in zip(fresh, kept, strict=True):
                    self._dispatch(data, journal_id)
                if not fresh and self._unjournaled:
                    await asyncio.wait(
                        set(self._in_hand.values()),
                        timeout=IDLE_WAIT,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
        finally:
            if self._in_hand:
                await asyncio.gather(*self._in_hand.values(), return_exceptions=True)
            await self._compact(force=True)

    async def _keep(self, fresh: list[dict[str, Any]]) -> list[str | None]:
        """Writes a fetched batch to the journal; its ids (``None`` each without one)."""
        if self.journal is None or not fresh:
            return [None] * len(fresh)
        try:
            ids: list[str] = await asyncio.to_thread(
                self.journal.append, [{"update": u} for u in fresh]
            )
            return [*ids]
        except OSError as exc:
            logger.error("update journal cannot be written (%s); confirming after handling", exc)
            return [None] * len(fresh)

    async def _replay_journal(self) -> None:
        """Handles first what the journal kept from before a crash, in order."""
        assert self.journal is not None
        try:
            records = await asyncio.to_thread(self.journal.take)
        except OSError as exc:
            logger.error("update journal cannot be read (%s)", exc)
            return
        if records:
            logger.warning("handling %d update(s) kept from before a restart", len(records))
        for record in records:
            data = record.get("update")
            if isinstance(data, dict) and isinstance(data.get("update_id"), int):
                self._dispatch(data, record["spool_id"])
            else:
                self._finished.add(record["spool_id"])

    async def _compact(self, *, force: bool = False) -> None:
        """Drops finished updates from the journal (all of them when idle, else every second)."""
        if self.journal is None or not self._finished:
            return
        due = time.monotonic() - self._compacted >= COMPACT_SECONDS
        if not (force or due or not self._in_hand):
            return
        done, self._finished = self._finished, set()
        self._compacted = time.monotonic()
        try:
            await asyncio.to_thread(self.journal.drop, done)
        except OSError as exc:  # kept: a restart handles them again, the log dedupes texts
            logger.error("update journal cannot be compacted (%s)", exc)

    def _window_full(self) -> bool:
        """True when a fetch could only return updates already in hand.

        The Bot API answers at most ``BATCH`` updates from the offset, and the offset is the
        oldest update in hand; asking again before that one finishes would move the same batch
        over the wire and through the JSON parser for nothing.
        """
        if len(self._journaled) >= MAX_IN_HAND:
            return True
        waiting = self._unjournaled
        return bool(waiting) and self._dispatched - min(waiting) + 1 >= BATCH

    async def _oldest_done(self) -> None:
        oldest = self._in_hand[min(self._unjournaled or self._in_hand)]
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({oldest, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()

    async def confirm(self) -> None:
        """Tells the Bot API that everything handled so far is done (a zero-timeout call)."""
        offset = self.offset
        if offset is None:
            return
        with contextlib.suppress(TelegramError):
            await self.app.bot.do_api_request(
                "getUpdates", api_kwargs={"offset": offset, "limit": 1, "timeout": 0}
            )

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _fetch(self, timeout: int) -> list[dict[str, Any]] | None:
        """One long-poll call; ``None`` when ``stop`` came first (nothing is confirmed then)."""
        kwargs: dict[str, Any] = {"timeout": timeout, "allowed_updates": self.allowed_updates}
        if self.offset is not None:
            kwargs["offset"] = self.offset
        call = asyncio.ensure_future(
            self.app.bot.do_api_request("getUpdates", api_kwargs=kwargs, read_timeout=timeout + 10)
        )
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({call, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not call.done():
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await call
            return None
        result = call.result()
        return list(result) if isinstance(result, list) else []

    def _dispatch(self, data: dict[str, Any], journal_id: str | None = None) -> None:
        """Starts handling one update, after the chat's previous one (one chat, in order)."""
        update_id = int(data["update_id"])
        self._dispatched = max(self._dispatched, update_id)
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception:  # noqa: BLE001 - a malformed update must not stall the rest
            self.skipped += 1
            logger.error("skipping update %s: it cannot be parsed", update_id)
            if journal_id is not None:
                self._finished.add(journal_id)
            return
        key = chat_key(update)
        before = self._last_of_chat.get(key)
        task = asyncio.create_task(self._handle(update, before))
        self._in_hand[update_id] = task
        if journal_id is not None:
            self._journaled[update_id] = journal_id
        else:
            self._unjournaled.add(update_id)
        self._last_of_chat[key] = task
        task.add_done_callback(lambda _: self._done(update_id, key, task))

    def _done(self, update_id: int, key: int, task: asyncio.Task[None]) -> None:
        self._in_hand.pop(update_id, None)
        self._unjournaled.discard(update_id)
        journal_id = self._journaled.pop(update_id, None)
        if journal_id is not None:
            self._finished.add(journal_id)
        if self._last_of_chat.get(key) is task:
            del self._last_of_chat[key]

    async def _handle(self, update: Update, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(before)
        async with self._slots:
            # process_update hands handler errors to the error handler; it does not raise.
            await self.app.process_update(update)
            self.handled += 1
