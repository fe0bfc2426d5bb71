"""Delivery: no update answered twice, none lost, webhook secrets enforced, clean shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from sqlalchemy import select
from telegram import Update

from bot.assistant import Person
from bot.log.inquiry_log import InquiryLog
from bot.log.models import Inquiry
from bot.settings import PROJECT_ROOT
from bot.texts import texts
from tests.e2e.conftest import Running, text_update
from tests.fakegram import FakeTelegram

ZH = texts("zh")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_a_redelivered_update_is_not_answered_twice(running: Running) -> None:
    fake = running.fake
    alice = fake.user(301, "Alice")
    update = await fake.send_text(alice, "人才公寓怎么申请")
    await fake.wait_for_bot_message(alice, "来源")
    for _ in range(100):  # the reply is noted as sent right after it went out
        async with running.services.log.sessions() as session:
            if await session.scalar(select(Inquiry.replied_at)) is not None:
                break
        await asyncio.sleep(0.02)
    await running.app.process_update(Update.de_json(update, running.app.bot))
    await asyncio.sleep(0.2)
    assert len(fake.bot_messages(alice)) == 1
    async with running.services.log.sessions() as session:
        assert len((await session.scalars(select(Inquiry))).all()) == 1


async def test_an_update_logged_but_never_answered_is_answered_on_redelivery(
    running: Running,
) -> None:
    fake = running.fake
    alice = fake.user(302, "Alice")
    update = {
        "update_id": 777001,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "chat": {"id": alice.id, "type": "private", "first_name": "Alice"},
            "from": {
                "id": alice.id,
                "is_bot": False,
                "first_name": "Alice",
                "language_code": "zh-hans",
            },
            "text": "人才公寓怎么申请",
        },
    }
    person = Person(f"telegram:{alice.id}", "Alice")
    first = await running.services.assistant.ask(
        person, "人才公寓怎么申请", channel="telegram", update_id=777001
    )
    assert first.inquiry_id is not None and not first.already_replied
    await running.app.process_update(Update.de_json(update, running.app.bot))
    answer = await fake.wait_for_bot_message(alice, "来源")
    assert answer["text"].startswith("人才公寓")
    async with running.services.log.sessions() as session:
        stored = (await session.scalars(select(Inquiry))).all()
    assert [(i.id, i.replied_at is not None) for i in stored] == [(first.inquiry_id, True)]


async def test_the_webhook_answers_updates_and_refuses_wrong_secrets_big_and_broken_bodies(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as fake:
        port, secret = free_port(), "webhook-secret-123"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
        env.update(
            {
                "TALENTBOT_TELEGRAM__TOKEN": fake.token,
                "TALENTBOT_TELEGRAM__BASE_URL": fake.base_url,
                "TALENTBOT_TELEGRAM__WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                "TALENTBOT_TELEGRAM__WEBHOOK_PORT": str(port),
                "TALENTBOT_TELEGRAM__WEBHOOK_SECRET": secret,
                "TALENTBOT_TELEGRAM__MAX_WEBHOOK_BODY_BYTES": "4096",
                "TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'hook.sqlite3'}",
                "TALENTBOT_TELEGRAM__STATE_FILE": str(tmp_path / "state.pickle"),
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--webhook",
            cwd=PROJECT_ROOT, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await fake.wait_until(
                lambda: bool(fake.calls("setWebhook")), timeout=30, what="webhook set"
            )
            assert fake.calls("setWebhook")[-1]["secret_token"] == secret
            alice = fake.user(303, "Alice")
            for _ in range(100):  # the server listens a moment after setWebhook
                if port_open(port):
                    break
                await asyncio.sleep(0.1)
            await fake.send_text(alice, "人才公寓怎么申请")
            await fake.wait_for_bot_message(alice, "来源")
            # Acknowledged only after it was handled: the reply is out before the 200.
            assert fake.webhook_deliveries[-1].status == 200
            payload = text_update(888001, alice.id, "人才公寓怎么申请")
            assert await fake.post_to_webhook(payload, "wrong-secret") == 403
            assert await fake.post_to_webhook(payload, None) == 403
            oversized = {**payload, "padding": "x" * 5000}
            assert await fake.post_to_webhook(oversized, secret) == 413
            assert await fake.post_to_webhook([1, 2], secret) == 400  # type: ignore[arg-type]
            broken = {"update_id": 888002, "message": {"chat": "not a chat"}}
            assert await fake.post_to_webhook(broken, secret) == 200  # skipped, not resent
            await fake.send_text(alice, "工匠奖金多少")
            await fake.wait_for_bot_message(alice, "工匠")
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        log = stderr.decode()
        assert process.returncode == 0, log[-2000:]
        assert "skipping update '888002'" in log
        assert secret not in log and fake.token not in log
    stored = await InquiryLog.open(f"sqlite+aiosqlite:///{tmp_path / 'hook.sqlite3'}")
    try:
        async with stored.sessions() as session:
            asked = (await session.scalars(select(Inquiry.text).order_by(Inquiry.id))).all()
    finally:
        await stored.close()
    assert asked == ["人才公寓怎么申请", "工匠奖金多少"]


async def test_talentbot_run_polls_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
        env.update(
            {
                "TALENTBOT_TELEGRAM__TOKEN": fake.token,
                "TALENTBOT_TELEGRAM__BASE_URL": fake.base_url,
                "TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}",
                "TALENTBOT_LOGGING__LEVEL": "DEBUG",
                "TALENTBOT_TELEGRAM__STATE_FILE": str(tmp_path / "state.pickle"),
            }
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=PROJECT_ROOT, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await fake.wait_until(
                lambda: bool(fake.calls("setMyCommands")), timeout=30, what="bot started"
            )
            alice = fake.user(304, "Alice")
            await fake.send_text(alice, "/start")
            await fake.wait_for_bot_message(alice, "人才政策咨询助手", timeout=15)
            await fake.send_text(alice, "人才公寓怎么申请")
            await fake.wait_for_bot_message(alice, "来源", timeout=15)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        log = stderr.decode()
        assert process.returncode == 0, log[-2000:]
        assert fake.token not in log, "the token must never reach the logs"
        assert fake.token.split(":")[1] not in log
