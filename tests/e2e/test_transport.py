"""The HTTP adapter under python-telegram-bot sends what the Bot API expects, cheaply."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode

from handlers.transport import AiohttpRequest

TOKEN = "123:TEST"


async def test_calls_go_as_one_utf8_json_object_with_nested_keyboards() -> None:
    seen: list[tuple[str, bytes]] = []

    async def send_message(request: web.Request) -> web.Response:
        seen.append((request.content_type, await request.read()))
        message = {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "text": "ok",
        }
        return web.json_response({"ok": True, "result": message})

    async def get_me(_: web.Request) -> web.Response:
        me = {"id": 123, "is_bot": True, "first_name": "talentbot", "username": "talentbot"}
        return web.json_response({"ok": True, "result": me})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/getMe", get_me)
    app.router.add_post(f"/bot{TOKEN}/sendMessage", send_message)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest())
    try:
        await bot.initialize()
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("有帮助", callback_data="fb:1:y")]])
        await bot.send_message(5, "<b>人才公寓</b>", parse_mode=ParseMode.HTML, reply_markup=markup)
    finally:
        await bot.shutdown()
        await runner.cleanup()
    ((content_type, body),) = seen
    assert content_type == "application/json"
    assert "人才公寓".encode() in body  # UTF-8, not \\u escapes nor percent-encoding
    sent: dict[str, Any] = json.loads(body)
    assert sent["text"] == "<b>人才公寓</b>"
    assert sent["reply_markup"] == {
        "inline_keyboard": [[{"text": "有帮助", "callback_data": "fb:1:y"}]]
    }
