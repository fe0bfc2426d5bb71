"""Cost of one Bot API call through python-telegram-bot: httpx (PTB's default) against aiohttp.

Why this exists: under load the bot spends most of its CPU sending replies, and the HTTP client
under PTB decides much of that. This sends ``--count`` copies of a real answer (an entry's HTML
text with its feedback buttons, as the bot sends it) with ``Bot.send_message`` to the project's
fake Bot API server on 127.0.0.1, one at a time and ``--concurrency`` at once, through
each client, and prints messages a second and CPU milliseconds per message (client and fake
server share the process, so the server's share is in both columns alike). Bounded by
``--count``; loopback only.

Run: ``.venv/bin/python -m benchmarks.bench_send``
"""

from __future__ import annotations

import argparse
import asyncio
import time

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.request import BaseRequest, HTTPXRequest

from bot.chat import views
from bot.settings import load_settings
from bot.texts import texts
from handlers.render import keyboard
from handlers.transport import AiohttpRequest
from knowledge.loader import load_knowledge_base
from tests.fakegram.server import FakeTelegram


def typical_answer() -> tuple[str, InlineKeyboardMarkup | None]:
    """The first entry's answer with its buttons, as a person would receive it."""
    kb = load_knowledge_base()
    entry = kb.entries[0]
    office = load_settings().office.placeholders()
    view = views.answer(entry, kb, texts("zh"), office, 123456)
    return view.text, keyboard(view)


async def measure(
    name: str,
    request: BaseRequest,
    count: int,
    concurrency: int,
    answer: tuple[str, InlineKeyboardMarkup | None],
) -> None:
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
                        await bot.send_message(
                            user.id, answer[0], parse_mode=ParseMode.HTML, reply_markup=answer[1]
                        )

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
    answer = typical_answer()
    print(f"one answer: {len(answer[0])} characters of HTML and its feedback buttons")
    httpx = HTTPXRequest(connection_pool_size=256)
    await measure("httpx", httpx, args.count, args.concurrency, answer)
    await measure("aiohttp", AiohttpRequest(), args.count, args.concurrency, answer)


if __name__ == "__main__":
    asyncio.run(main())
