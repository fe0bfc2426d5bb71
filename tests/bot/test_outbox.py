"""The outbox: sends that must not hold up a person's reply, retried until they go through."""

from __future__ import annotations

from bot.desk.outbox import Outbox


class FloodWait(Exception):
    """A refusal that says how long to wait, as Telegram's 429 does."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood wait {seconds}")
        self.seconds = seconds


async def test_a_flood_wait_is_waited_out_as_asked_not_with_the_outboxs_own_backoff() -> None:
    attempts: list[str] = []

    async def post() -> None:
        attempts.append("try")
        if len(attempts) == 1:
            raise FloodWait(0.05)

    outbox = Outbox(
        lambda exc: isinstance(exc, FloodWait),
        wait_asked=lambda exc: exc.seconds if isinstance(exc, FloodWait) else None,
        first_backoff=600,  # were it used, the job would still be waiting when settled returns
    )
    outbox.put("card", post)
    await outbox.settled(timeout=10)
    assert attempts == ["try", "try"] and (outbox.sent, outbox.failed) == (1, 0)


async def test_a_refusal_is_not_retried_and_later_jobs_still_run() -> None:
    done: list[str] = []

    async def refused() -> None:
        raise ValueError("bad request")

    async def fine() -> None:
        done.append("posted")

    outbox = Outbox(lambda exc: not isinstance(exc, ValueError), first_backoff=600)
    outbox.put("refused", refused)
    outbox.put("fine", fine)
    await outbox.settled(timeout=10)
    assert done == ["posted"] and (outbox.sent, outbox.failed) == (1, 1)
