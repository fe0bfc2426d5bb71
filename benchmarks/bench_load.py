"""End-to-end load: the real ``talentbot run`` long-polling the project's fake Bot API server.

Simulated people (default 1,000 × 10 messages) talk to the bot at once, each waiting for the
reply before the next message as a person does: plain questions, a vague one that gets choices,
follow-ups, a tap on 有帮助 and an unmatched question that opens a ticket (its card goes to the
staff group). Everything runs on 127.0.0.1; the run is bounded by the message count and by
``--deadline`` seconds and stops by itself.

Printed per database (SQLite file, throwaway PostgreSQL): messages answered per second, p50 /
p95 / p99 from a person's message to the bot's first reply, errors (no reply within
``--reply-timeout``), inquiries stored against text messages sent, the bot's peak resident
memory (VmHWM) and its CPU time per reply (steadier than messages a second on a shared VM); then
the harness's own CPU per reply and how busy the whole machine was (the fake server and the
simulated people share its two cores with the bot and PostgreSQL).
Telegram's own sending limits (``telegram.max_messages_per_second``,
``limits.messages_per_minute``) are lifted through the environment so the bot's own capacity is
measured; production keeps Telegram's published limits.

``--rate R`` paces the burst: messages start ``1 / R`` seconds apart overall (each person still
waits for the reply before the next), so latency is measured at an offered load rather than
with a thousand people queueing at once.

``--soak SECONDS --rate 50`` instead sends at a fixed rate for that long and prints resident
memory every 30 s and its growth from the first minute to the end.

Goals on the 2-core machine: >= 200 messages a second, p99 < 500 ms, nothing lost, < 300 MB.

Run: ``.venv/bin/python -m benchmarks.bench_load`` (``--people 100 --messages 5`` for a quick
look, ``--db sqlite``, ``--soak 600``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import os
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.fakegram.people import FakeUser
from tests.fakegram.server import FakeTelegram
from tests.pgserver import ThrowawayPostgres

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STAFF_CHAT = -100_777_000
SCRIPT = (
    ("ask", "人才公寓怎么申请"),
    ("ask", "需要什么材料"),
    ("tap", "👍 有帮助"),
    ("ask", "补贴"),
    ("ask", "工匠奖金多少"),
    ("ask", "有房补吗"),
    ("ask", "企业招聘能免费发布岗位吗"),
    ("ask", "那孩子上学呢"),
    ("ask", "What is the talent green card?"),
    ("ask", "火星上的签证怎么办理"),
)
"""One person's turns, cycled: answers, a follow-up, a tap, choices, English, one unmatched."""

JSON = dict[str, Any]


class TimedFake(FakeTelegram):
    """The fake server, noting when each chat receives a bot message or a callback answer.

    A waiter per chat instead of the fake's one condition for everything: with a thousand
    people waiting, waking all of them on every message would measure the harness, not the bot.
    """

    def __init__(self) -> None:
        super().__init__()
        self.received: dict[int, int] = defaultdict(int)
        self.waiters: dict[int, asyncio.Future[float]] = {}
        self.answered_queries: dict[str, asyncio.Future[float]] = {}
        self.answered_early: dict[str, float] = {}
        """Answered before anyone waited (a webhook answers inside the POST that delivers)."""

    async def _store(self, message: JSON) -> JSON:
        stored = await super()._store(message)
        sender = message.get("from") or {}
        if sender.get("is_bot"):
            chat_id = message["chat"]["id"]
            self.received[chat_id] += 1
            waiter = self.waiters.pop(chat_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.perf_counter())
        return stored

    async def _answer_callback_query(self, call: Any) -> bool:
        result = await super()._answer_callback_query(call)
        query_id = str(call.params.get("callback_query_id"))
        waiter = self.answered_queries.pop(query_id, None)
        if waiter is None:
            self.answered_early[query_id] = time.perf_counter()
        elif not waiter.done():
            waiter.set_result(time.perf_counter())
        return result

    def expect_answer(self, query_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if query_id in self.answered_early:
            future.set_result(self.answered_early.pop(query_id))
        else:
            self.answered_queries[query_id] = future
        return future

    def expect_message(self, chat_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[chat_id] = future
        return future

    def latest_from_bot(self, chat_id: int) -> JSON | None:
        for message in reversed(self._messages.get(chat_id, [])):
            if (message.get("from") or {}).get("is_bot"):
                return message
        return None


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    texts_sent: int = 0
    taps: int = 0
    errors: int = 0


class Pacer:
    """Hands out send times ``1 / rate`` apart: an offered load, whatever the bot's pace."""

    def __init__(self, rate: float) -> None:
        self.gap = 1 / rate if rate > 0 else 0.0
        self.next = time.perf_counter()

    async def turn(self) -> None:
        if not self.gap:
            return
        slot = max(self.next, time.perf_counter())
        self.next = slot + self.gap
        await asyncio.sleep(slot - time.perf_counter())


async def person(
    fake: TimedFake,
    user: FakeUser,
    turns: Iterator[tuple[str, str]],
    count: int,
    results: Results,
    reply_timeout: float,
    pacer: Pacer | None = None,
) -> None:
    """One person: a message, wait for the bot, the next message (at the pacer's time)."""
    for _ in range(count):
        kind, payload = next(turns)
        if pacer is not None:
            await pacer.turn()
        started = time.perf_counter()
        try:
            if kind == "tap":
                message = fake.latest_from_bot(user.id)
                if message is None:
                    continue
                rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
                if not any(b.get("text") == payload for row in rows for b in row):
                    continue
                update = await fake.tap(user, message, payload)
                future = fake.expect_answer(update["callback_query"]["id"])
                results.taps += 1
            else:
                future = fake.expect_message(user.id)
                await fake.send_text(user, payload)
                results.texts_sent += 1
            done = await asyncio.wait_for(future, reply_timeout)
            results.latencies_ms.append((done - started) * 1000)
        except TimeoutError:
            results.errors += 1


def peak_rss_mb(pid: int) -> float:
    """The process's resident high-water mark (VmHWM) in MB."""
    return _status_kb(pid, "VmHWM") / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (``/proc/PID/stat``).

    CPU per message is steadier than throughput on a shared virtual machine, whose neighbours
    move messages a second by ±15 % from run to run: it is the figure to compare changes by.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """All cores' busy and total time so far (``/proc/stat``), to tell a saturated machine."""
    values = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    return sum(values) - idle, sum(values)


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def _status_kb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return 0.0


WEBHOOK_SECRET = "bench-webhook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bot_environment(
    fake: FakeTelegram,
    database_url: str,
    workdir: Path,
    webhook_port: int | None = None,
    *,
    person_limit: bool = False,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
    if webhook_port is not None:
        env["TALENTBOT_TELEGRAM__WEBHOOK_URL"] = f"http://127.0.0.1:{webhook_port}/telegram"
        env["TALENTBOT_TELEGRAM__WEBHOOK_PORT"] = str(webhook_port)
        env["TALENTBOT_TELEGRAM__WEBHOOK_SECRET"] = WEBHOOK_SECRET
    env.update(
        {
            "TALENTBOT_TELEGRAM__TOKEN": fake.token,
            "TALENTBOT_TELEGRAM__BASE_URL": fake.base_url,
            "TALENTBOT_DATABASE__URL": database_url,
            "TALENTBOT_LOGGING__LEVEL": "WARNING",
            "TALENTBOT_STAFF__CHAT_ID": str(STAFF_CHAT),
            "TALENTBOT_TELEGRAM__STATE_FILE": str(workdir / "state.pickle"),
            # The bot's own capacity, not Telegram's published sending limits.
            "TALENTBOT_TELEGRAM__MAX_MESSAGES_PER_SECOND": "100000",
            "TALENTBOT_TELEGRAM__MAX_GROUP_MESSAGES_PER_MINUTE": "100000",
        }
    )
    if not person_limit:  # a flood is measured against the default per-person limit
        env["TALENTBOT_LIMITS__MESSAGES_PER_MINUTE"] = "100000"
        env["TALENTBOT_LIMITS__BURST"] = "100000"
    return env


async def start_bot(
    fake: FakeTelegram,
    database_url: str,
    workdir: Path,
    *,
    webhook: bool = False,
    person_limit: bool = False,
) -> asyncio.subprocess.Process:
    port = free_port() if webhook else None
    env = bot_environment(fake, database_url, workdir, port, person_limit=person_limit)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=PROJECT_ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=open(workdir / "bot.log", "wb"),  # noqa: SIM115 - the child owns it until it exits
    )  # fmt: skip
    up = asyncio.ensure_future(
        fake.wait_until(lambda: bool(fake.calls("setMyCommands")), timeout=120, what="bot up")
    )
    exited = asyncio.ensure_future(process.wait())
    await asyncio.wait({up, exited}, return_when=asyncio.FIRST_COMPLETED)
    if not up.done() or up.exception() is not None:
        up.cancel()
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        log = (workdir / "bot.log").read_text(errors="replace")
        raise SystemExit("the bot did not start:\n" + log[-1500:])
    exited.cancel()
    while port is not None and not _listening(port):  # webhook: up a moment after setMyCommands
        await asyncio.sleep(0.1)
    return process


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def stop_bot(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), timeout=60)
    except TimeoutError:
        process.kill()
        return await process.wait()


async def count_inquiries(database_url: str) -> int:
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1]
        with contextlib.closing(sqlite3.connect(path)) as connection:
            return int(connection.execute("SELECT count(*) FROM inquiries").fetchone()[0])
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM inquiries"))).scalar()
            return int(count or 0)
    finally:
        await engine.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def flooder(fake: TimedFake, count: int) -> int:
    """One person sending ``count`` messages back to back, never waiting for a reply."""
    user = fake.user(9_999, "Flood")
    fake.private_chat(user)
    for n in range(count):
        await fake.send_text(user, f"人才公寓怎么申请 {n}")
    return count


async def burst(
    name: str, database_url: str, args: argparse.Namespace, workdir: Path, flood: int = 0
) -> tuple[float, float]:
    """One run; returns messages answered a second and the bot's CPU milliseconds per reply."""
    fake = TimedFake()
    async with fake:
        fake.group(STAFF_CHAT, "人才服务专员")
        process = await start_bot(
            fake, database_url, workdir, webhook=args.webhook, person_limit=bool(args.flood)
        )
        results = Results()
        people = [fake.user(10_000 + n, f"P{n}") for n in range(args.people)]
        for user in people:
            fake.private_chat(user)
        started = time.perf_counter()
        cpu_started = cpu_seconds(process.pid)
        harness_started = time.process_time()
        busy_started = machine_busy()
        pacer = Pacer(args.rate)
        tasks = [
            person(
                fake,
                user,
                itertools.islice(itertools.cycle(SCRIPT), n % len(SCRIPT), None),
                args.messages,
                results,
                args.reply_timeout,
                pacer,
            )
            for n, user in enumerate(people)
        ]
        flooding = asyncio.ensure_future(flooder(fake, flood))
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), args.deadline)
        except TimeoutError:
            print(f"  stopped at the {args.deadline:.0f} s deadline")
        elapsed = time.perf_counter() - started
        flooded = await flooding
        await asyncio.sleep(2)  # let the last inquiries reach the database
        alive = process.returncode is None
        peak = peak_rss_mb(process.pid) if alive else float("nan")
        cpu = cpu_seconds(process.pid) - cpu_started if alive else float("nan")
        harness = time.process_time() - harness_started
        busy_now = machine_busy()
        busy = (busy_now[0] - busy_started[0]) / max(busy_now[1] - busy_started[1], 1e-9)
        code = await stop_bot(process)
    stored = await count_inquiries(database_url)
    replies = len(results.latencies_ms)
    cpu_ms = 1000 * cpu / max(replies, 1)
    lat = results.latencies_ms
    offered = f"offered {args.rate:.0f}/s" if args.rate else "as fast as replies come"
    offered += ", webhook" if args.webhook else ""
    offered += f", one person flooding {flooded}" if flooded else ""
    expected = results.texts_sent + flooded
    print(
        f"{name:<10} [{offered}] {replies / elapsed:8.1f} msg/s   p50 {percentile(lat, 0.5):7.1f}  "
        f"p95 {percentile(lat, 0.95):7.1f}  p99 {percentile(lat, 0.99):7.1f} ms   "
        f"errors {results.errors}   texts {results.texts_sent} taps {results.taps}   "
        f"stored {stored} ({'ok' if stored == expected else 'MISMATCH'})   "
        f"peak {peak:.0f} MB   bot CPU {cpu_ms:.2f} ms/reply   exit {code}\n"
        f"{'':<10} harness (fake Bot API and people) CPU {1000 * harness / max(replies, 1):.2f}"
        f" ms/reply, machine busy {100 * busy:.0f} % of {os.cpu_count()} cores"
    )
    return replies / elapsed, cpu_ms


def _free(busy: set[int], user_id: int, _: object) -> None:
    busy.discard(user_id)


async def soak(
    name: str, database_url: str, args: argparse.Namespace, workdir: Path, _flood: int = 0
) -> None:
    fake = TimedFake()
    async with fake:
        fake.group(STAFF_CHAT, "人才服务专员")
        process = await start_bot(fake, database_url, workdir, webhook=args.webhook)
        results = Results()
        people = [fake.user(20_000 + n, f"S{n}") for n in range(200)]
        for user in people:
            fake.private_chat(user)
        turns = {u.id: itertools.cycle(SCRIPT) for u in people}
        busy: set[int] = set()
        samples: list[tuple[float, float]] = []
        started = time.perf_counter()
        next_sample = started
        pending: set[asyncio.Task[None]] = set()
        for n in itertools.count():
            now = time.perf_counter()
            if now - started >= args.soak:
                break
            if now >= next_sample:
                samples.append((now - started, rss_mb(process.pid)))
                print(
                    f"  {now - started:6.0f} s  rss {samples[-1][1]:.0f} MB  errors {results.errors}"
                )
                next_sample += 30
            user = people[n % len(people)]
            if user.id not in busy:
                busy.add(user.id)
                task = asyncio.create_task(
                    person(fake, user, turns[user.id], 1, results, args.reply_timeout)
                )
                pending.add(task)
                task.add_done_callback(pending.discard)
                task.add_done_callback(functools.partial(_free, busy, user.id))
            await asyncio.sleep(max(0.0, started + (n + 1) / args.rate - time.perf_counter()))
        await asyncio.gather(*pending)
        samples.append((time.perf_counter() - started, rss_mb(process.pid)))
        await asyncio.sleep(2)
        code = await stop_bot(process)
    stored = await count_inquiries(database_url)
    first = next((mb for t, mb in samples if t >= 60), samples[0][1])
    growth = (samples[-1][1] - first) / first * 100 if first else float("nan")
    lat = results.latencies_ms
    print(
        f"{name} soak {args.soak:.0f} s at {args.rate}/s: replies {len(lat)}, errors "
        f"{results.errors}, p99 {percentile(lat, 0.99):.1f} ms, stored {stored} of "
        f"{results.texts_sent}, rss after 1 min {first:.0f} MB -> end {samples[-1][1]:.0f} MB "
        f"({growth:+.1f} %), exit {code}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds per database")
    parser.add_argument("--reply-timeout", type=float, default=30.0)
    parser.add_argument("--soak", type=float, default=0.0, help="seconds of fixed-rate load")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="offered messages a second (default: a burst, each person as fast as replies come;"
        " 50 in a soak)",
    )
    parser.add_argument(
        "--webhook", action="store_true", help="updates POSTed to `talentbot run --webhook`"
    )
    parser.add_argument(
        "--flood",
        type=int,
        default=0,
        help="run twice, the second time with one more person sending this many messages back"
        " to back (default per-person limit on); the others' latency is compared",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per database, each on a fresh one, then their mean and range: this shared"
        " machine moves messages a second by ±15 %% from run to run",
    )
    args = parser.parse_args()
    if args.rate is None:
        args.rate = 50.0 if args.soak else 0.0
    run = soak if args.soak else burst
    if not args.soak:
        print(f"{args.people} people x {args.messages} messages, on 127.0.0.1")
    floods = (0, args.flood) if args.flood and not args.soak else (0,)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for flood in floods:  # each run on a fresh database (update ids start again)
            if args.db in ("sqlite", "both"):
                runs: list[tuple[float, float] | None] = []
                for n in range(args.repeat):
                    url = f"sqlite+aiosqlite:///{workdir / f'load-{flood}-{n}.sqlite3'}"
                    runs.append(await run("SQLite", url, args, workdir, flood))
                summarize("SQLite", runs)
            if args.db in ("postgres", "both"):
                runs = []
                for _ in range(args.repeat):
                    with ThrowawayPostgres("talentbot_load") as server:
                        runs.append(await run("PostgreSQL", server.url, args, workdir, flood))
                summarize("PostgreSQL", runs)


def summarize(name: str, runs: list[tuple[float, float] | None]) -> None:
    """Mean and range over repeated runs (nothing for a single run or a soak)."""
    figures = [run for run in runs if run is not None]
    if len(figures) < 2:
        return
    rates = [rate for rate, _ in figures]
    cpu = [ms for _, ms in figures]
    print(
        f"{name:<10} over {len(runs)} runs: {statistics.mean(rates):.1f} msg/s mean "
        f"({min(rates):.1f}-{max(rates):.1f}), bot CPU {statistics.mean(cpu):.2f} ms/reply mean"
    )


if __name__ == "__main__":
    asyncio.run(main())
