"""The per-person token bucket: a burst, then the per-minute rate; one notice, then quiet."""

from __future__ import annotations

from bot.ratelimit import RateLimiter, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_notice_then_quiet_until_the_bucket_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=20, burst=5, clock=clock)
    verdicts = [limiter.check("telegram:1") for _ in range(8)]
    assert verdicts == [Verdict.ALLOW] * 5 + [Verdict.NOTICE, Verdict.QUIET, Verdict.QUIET]
    assert limiter.check("telegram:2") is Verdict.ALLOW, "others are not affected"
    clock.now += 3.0  # 20 a minute: one message every 3 s
    assert limiter.check("telegram:1") is Verdict.ALLOW
    assert limiter.check("telegram:1") is Verdict.NOTICE, "a new notice after an allowed message"


def test_a_steady_pace_within_the_rate_is_never_limited() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=20, burst=5, clock=clock)
    for _ in range(200):
        assert limiter.check("telegram:1") is Verdict.ALLOW
        clock.now += 3.0
