"""A queue of sends that must not hold up a person's reply, retried until they go through.

Staff-group cards are limited by Telegram to about 20 a minute per group; awaited inside the
handling of a person's message, thirty unmatched questions at once made everyone wait half a
minute. Here they are queued and sent one after another by a background task, in order (a
ticket's card before the messages relayed to it), each retried with back-off while the error
is temporary (waiting as long as a flood wait asks), so a 502 or a dropped connection no
longer leaves a ticket without its card. What is still queued when the process ends, or gave up
for good, is not lost either: the staff desk's periodic check posts every card still missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["Outbox"]

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class Outbox:
    """Runs queued jobs one at a time in the background, retrying temporary failures."""

    def __init__(
        self,
        retryable: Callable[[BaseException], bool],
        *,
        wait_asked: Callable[[BaseException], float | None] = lambda _: None,
        first_backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_attempts: int = 50,
    ) -> None:
        self.retryable = retryable
        self.wait_asked = wait_asked
        """The wait a failure itself asks for (a flood wait's ``retry_after``), if any."""
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.max_attempts = max_attempts
        self._queue: asyncio.Queue[tuple[str, Job]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0

    def put(self, label: str, job: Job) -> None:
        """Queues ``job`` (``label`` names it in logs: ids, never message text)."""
        self._queue.put_nowait((label, job))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="outbox")

    @property
    def pending(self) -> int:
        """Jobs queued or in progress."""
        return self._queue.qsize() + (0 if self._idle() else 1)

    def _idle(self) -> bool:
        return self._worker is None or self._worker.done()

    async def settled(self, timeout: float) -> None:
        """Waits up to ``timeout`` seconds until everything queued so far has been handled."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout)

    async def drain(self, timeout: float) -> None:
        """Waits up to ``timeout`` seconds for the queue to empty, then stops the worker."""
        if self._worker is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout)
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        if not self._queue.empty():
            logger.error("%d staff-group sends not done at shutdown", self._queue.qsize())

    async def _work(self) -> None:
        while True:
            label, job = await self._queue.get()
            try:
                await self._run(label, job)
            finally:
                self._queue.task_done()

    async def _run(self, label: str, job: Job) -> None:
        backoff = self.first_backoff
        for attempt in range(1, self.max_attempts + 1):
            try:
                await job()
            except Exception as exc:  # noqa: BLE001 - the predicate decides; nothing escapes the worker
                if not self.retryable(exc) or attempt == self.max_attempts:
                    self.failed += 1
                    logger.error("%s failed for good after %d attempt(s): %s", label, attempt, exc)
                    return
                asked = self.wait_asked(exc)
                wait = backoff if asked is None else asked
                logger.warning("%s failed (%s); retrying in %.0f s", label, exc, wait)
                await asyncio.sleep(wait)
                backoff = min(backoff * 2, self.max_backoff)
            else:
                self.sent += 1
                return
