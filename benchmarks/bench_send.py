"""Cost of one Bot API call through python-telegram-bot: httpx (PTB's default) against aiohttp.

Why this exists: under load the bot spends most of its CPU sending replies, and the HTTP client
under PTB decides much of that. This sends ``--count`` messages with ``Bot.send_message`` to the
project's fake Bot API server on 127.0.0.1, one at a time and ``--concurrency`` at once, through
each client, and prints messages a second and CPU milliseconds per message (client and fake
server share the process, so the server's share is in both columns alike). Bounded by
``--count``; loopback only.

Run: ``.venv/bin/python -m benchmarks.bench_send``
"""

from __future__ import annotations

import argparse
import asyncio
import time

from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from handlers.transport import AiohttpRequest
from tests.fakegram.server import FakeTelegram


async def measure(name: str, request: BaseRequest, count: int, concurrency: int) -> None:
    fake = FakeTelegram()
    async with fake:
        user = fake.user(5, "A")
        fake.private_chat(user)
        bot = Bot(fake.token, base_url=fake.base_url, request=request)
        await bot.initialize()
        try:
            for width in (1, concurrency):
                slots = asyncio.Semaphore(width)

                async def one(n: int, slots: asyncio.Semaphore = slots) -> None:
                    async with slots:
                        await bot.send_message(user.id, f"消息 {n}")

                started, cpu = time.perf_counter(), time.process_time()
                await asyncio.gather(*(one(n) for n in range(count)))
                elapsed = time.perf_counter() - started
                spent = time.process_time() - cpu
                print(
                    f"{name:<8} {width:>3} at once  {count / elapsed:7.0f} msg/s   "
                    f"{spent / count * 1000:5.2f} ms CPU per message"
                )
        finally:
            await bot.shutdown()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    await measure("httpx", HTTPXRequest(connection_pool_size=256), args.count, args.concurrency)
    await measure("aiohttp", AiohttpRequest(), args.count, args.concurrency)


if __name__ == "__main__":
    asyncio.run(main())
