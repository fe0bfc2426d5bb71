"""Tests of the fake Telegram server, driven by the real python-telegram-bot.

Nothing is mocked: a PTB ``Bot`` or ``Application`` talks HTTP to
:class:`FakeTelegram` on 127.0.0.1, which is exactly how talentbot's
end-to-end tests will use it. These tests pin down both the fake's Telegram
fidelity and the PTB behaviour (exceptions, polling, webhooks) the e2e tests
rely on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakegram import FakegramError, FakeTelegram, FakeUser

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("是", callback_data="answer:yes")],
        [InlineKeyboardButton("否", callback_data="answer:no")],
    ]
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A running fake server."""
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A real, initialised PTB ``Bot`` pointed at the fake."""
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as tg_bot:
        yield tg_bot


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    """A person with a private chat with the bot."""
    return fake.user(1001, "Alice", username="alice")


def build_application(fake: FakeTelegram) -> AnyApplication:
    """The real PTB application, configured like talentbot but against the fake."""
    return (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the text and a yes/no keyboard."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        f"echo: {update.effective_message.text}", reply_markup=KEYBOARD
    )


async def start(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer /start and ask for the phone number."""
    assert update.effective_message is not None
    button = KeyboardButton("分享手机号", request_contact=True)
    markup = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    await update.effective_message.reply_text("欢迎", reply_markup=markup)


async def contact(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm a shared phone number."""
    message = update.effective_message
    assert message is not None and message.contact is not None
    await message.reply_text(f"got {message.contact.phone_number}")


async def on_button(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the callback query and edit the keyboard message."""
    query = update.callback_query
    assert query is not None
    await query.answer(f"you chose {query.data}")
    await query.edit_message_text(f"chosen: {query.data}")


def add_handlers(app: AnyApplication) -> None:
    """Register the demo handlers."""
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.CONTACT, contact))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))


@contextlib.asynccontextmanager
async def polling(app: AnyApplication) -> AsyncIterator[AnyApplication]:
    """Run ``app`` with long polling for the duration of the block, then stop it cleanly."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_get_me_through_bot_initialize(fake: FakeTelegram) -> None:
    tg_bot = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with tg_bot:
        assert tg_bot.username == fake.bot_username
        assert tg_bot.id == fake.bot_id
        me = tg_bot.bot
        assert me.is_bot and me.can_join_groups and me.first_name == "TalentBot"
    assert fake.calls("getMe") == [{}]


async def test_wrong_token_is_invalid_token(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("42:wrong", base_url=fake.base_url):
            pass


async def test_unknown_method_is_endpoint_not_found(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("no_such_method")


async def test_set_my_commands_per_language(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands(
        [BotCommand("start", "开始"), BotCommand("help", "帮助")], language_code="zh"
    )
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    assert fake.commands("zh") == [
        {"command": "start", "description": "开始"},
        {"command": "help", "description": "帮助"},
    ]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
    assert fake.commands() == []
    await bot.delete_my_commands(language_code="en")
    assert fake.commands("en") == []
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_application_echo_tap_and_answer(fake: FakeTelegram, alice: FakeUser) -> None:
    app = build_application(fake)
    add_handlers(app)
    async with polling(app):
        await fake.send_text(alice, "你好 <世界>")
        reply = await fake.wait_for_bot_message(alice)
        assert reply["text"] == "echo: 你好 <世界>"
        assert "reply_to_message" not in reply  # PTB 22 quotes only in groups by default
        await fake.tap(alice, reply, "否")
        await fake.wait_until(lambda: "edit_date" in fake.last_bot_message(alice), what="edit")
    assert fake.callback_answers[0]["text"] == "you chose answer:no"
    final = fake.last_bot_message(alice)
    assert final["text"] == "chosen: answer:no" and "reply_markup" not in final


async def test_command_reply_keyboard_and_contact(fake: FakeTelegram, alice: FakeUser) -> None:
    app = build_application(fake)
    add_handlers(app)
    async with polling(app):
        await fake.send_text(alice, "/start")
        await fake.wait_for_bot_message(alice, "欢迎")
        keyboard = fake.reply_keyboard(alice)
        assert keyboard is not None and keyboard["keyboard"][0][0]["request_contact"] is True
        await fake.send_contact(alice, "+8613800000000")
        await fake.wait_for_bot_message(alice, "got +8613800000000")


async def test_update_delivered_exactly_once(fake: FakeTelegram, alice: FakeUser) -> None:
    seen: list[int] = []

    async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)
        assert update.effective_message is not None
        await update.effective_message.reply_text("ok")

    app = build_application(fake)
    app.add_handler(MessageHandler(filters.ALL, record))
    async with polling(app):
        first = await fake.send_text(alice, "one")
        second = await fake.send_text(alice, "two")
        await fake.wait_for_bot_message(alice)
        await fake.wait_for_bot_message(alice)
        # The next poll confirms both updates (offset advances), so they cannot come back.
        await fake.wait_until(lambda: not fake.pending_updates, what="updates confirmed")
        assert fake.calls("getUpdates")[-1]["offset"] == second["update_id"] + 1
    assert seen == [first["update_id"], second["update_id"]]


async def test_get_updates_offset_semantics(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    sent = await fake.send_text(alice, "hello")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [sent["update_id"]]
    assert len(await bot.get_updates(timeout=0)) == 1  # not confirmed yet
    assert await bot.get_updates(offset=sent["update_id"] + 1, timeout=0) == ()
    assert fake.pending_updates == []


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=8))
    await fake.wait_until(lambda: bool(fake.calls("getUpdates")), what="poll started")
    began = time.monotonic()
    await fake.send_text(alice, "wake up")
    updates = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - began < 2
    assert updates[0].message is not None and updates[0].message.text == "wake up"


async def test_html_validation(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(alice.id, "a < b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(alice.id, "<b>bold", parse_mode=ParseMode.HTML)
    ok = await bot.send_message(
        alice.id, "<b>a &lt; b</b> &amp; <i>c</i>", parse_mode=ParseMode.HTML
    )
    assert ok.text == "a < b & c"
    assert fake.sent_request(fake.last_bot_message(alice)).text == "<b>a &lt; b</b> &amp; <i>c</i>"
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(alice.id, " ")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hi")


async def test_message_ids_replies_and_not_modified(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    question = await fake.send_text(alice, "question")
    first = await bot.send_message(
        alice.id,
        "answer",
        reply_parameters=ReplyParameters(question["message"]["message_id"]),
        reply_markup=KEYBOARD,
    )
    assert first.message_id == question["message"]["message_id"] + 1
    assert first.reply_to_message is not None and first.reply_to_message.text == "question"
    assert first.reply_markup == KEYBOARD
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await first.edit_text("answer", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await first.edit_reply_markup(KEYBOARD)
    edited = await first.edit_reply_markup(None)
    assert isinstance(edited, object) and "reply_markup" not in fake.last_bot_message(alice)
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(alice.id, "x", reply_parameters=ReplyParameters(12345))


async def test_document_upload_and_download(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    message = await bot.send_document(
        alice.id, b"a,b\n1,2\n", filename="report.csv", caption="报表"
    )
    assert message.document is not None and message.document.file_name == "report.csv"
    [document] = fake.documents(alice)
    assert (document.file_name, document.content, document.caption) == (
        "report.csv",
        b"a,b\n1,2\n",
        "报表",
    )
    downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"a,b\n1,2\n"


async def test_chat_action_and_blocked_user(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    await bot.send_chat_action(alice.id, "typing")
    assert fake.chat_actions == [{"chat_id": alice.id, "action": "typing"}]
    fake.block(alice)
    with pytest.raises(Forbidden):
        await bot.send_message(alice.id, "hi")


async def test_forged_and_stale_callback(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    sent = await bot.send_message(alice.id, "pick", reply_markup=KEYBOARD)
    stored = fake.last_bot_message(alice)
    with pytest.raises(FakegramError, match="no callback button"):
        await fake.tap(alice, stored, "maybe")
    update = await fake.tap_raw(alice, stored, "forged:data")
    query_id = update["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    assert sent.message_id == stored["message_id"]


async def test_retry_after(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.inject("sendMessage", "429", retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    assert (await bot.send_message(alice.id, "hi")).text == "hi"


async def test_bad_gateway_and_drop(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    fake.inject("sendMessage", "500")
    fake.inject("sendMessage", "drop")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(alice.id, "hi")
    with pytest.raises(NetworkError):
        await bot.send_message(alice.id, "hi")
    assert (await bot.send_message(alice.id, "hi")).text == "hi"
    assert len(fake.calls("sendMessage")) == 3


async def test_slow_answer(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    fake.inject("sendMessage", "slow", times=2, delay=0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(alice.id, "too slow", read_timeout=0.1)
    began = time.monotonic()
    assert (await bot.send_message(alice.id, "patient")).text == "patient"
    assert time.monotonic() - began >= 0.5


async def test_webhook_delivery_and_secret(fake: FakeTelegram, alice: FakeUser) -> None:
    app = build_application(fake)
    add_handlers(app)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token="s3cret"
    )
    try:
        assert fake.webhook_url == url
        update = await fake.send_text(alice, "via webhook")
        assert fake.webhook_deliveries[-1].status == 200
        assert fake.webhook_deliveries[-1].update_id == update["update_id"]
        await fake.wait_for_bot_message(alice, "echo: via webhook")
        assert await fake.post_to_webhook(update, secret_token="wrong") == 403
        assert await fake.post_to_webhook(update, secret_token=None) == 403
        info = await app.bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_get_updates_conflicts_with_webhook(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="abc")
    with pytest.raises(Exception, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_json_body_is_accepted(fake: FakeTelegram, alice: FakeUser) -> None:
    markup = {"inline_keyboard": [[{"text": "go", "callback_data": "go"}]]}
    payload = {"chat_id": alice.id, "text": "json", "reply_markup": markup}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake.base_url}{fake.token}/sendMessage", json=payload) as resp:
            body = await resp.json()
        async with session.post(f"{fake.base_url}{fake.token}/nope", json={}) as resp:
            missing = (resp.status, await resp.json())
    assert body["ok"] is True and body["result"]["reply_markup"] == markup
    assert missing == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_webhook_failure_is_recorded(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    await fake.send_text(alice, "queued before the webhook")
    await bot.set_webhook(f"http://127.0.0.1:{free_port()}/gone")
    await fake.wait_until(lambda: bool(fake.webhook_deliveries), what="delivery attempt")
    assert fake.webhook_deliveries[0].status is None
    info = await bot.get_webhook_info()
    assert info.last_error_message is not None and info.pending_update_count == 0
