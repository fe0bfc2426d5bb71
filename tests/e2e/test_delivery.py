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
from bot.log.models import Inquiry
from bot.services import Services
from bot.settings import PROJECT_ROOT
from bot.texts import texts
from knowledge.service import KnowledgeService
from tests.e2e.conftest import Running, e2e_settings, stop_polling
from tests.fakegram import FakeTelegram

ZH = texts("zh")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


async def test_the_webhook_answers_updates_and_refuses_a_wrong_secret(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    from bot.app import build_application

    async with FakeTelegram() as fake:
        services = Services(e2e_settings(tmp_path), knowledge)
        app = build_application(
            services, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
        )
        port = free_port()
        secret = "webhook-secret-123"
        await app.initialize()
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            secret_token=secret,
        )
        try:
            alice = fake.user(303, "Alice")
            await fake.send_text(alice, "人才公寓怎么申请")
            await fake.wait_for_bot_message(alice, "来源")
            assert fake.webhook_deliveries[-1].status == 200
            payload = {
                "update_id": 888001,
                "message": {
                    "message_id": 99,
                    "date": 1700000000,
                    "chat": {"id": alice.id, "type": "private"},
                    "from": {"id": alice.id, "is_bot": False, "first_name": "Alice"},
                    "text": "人才公寓怎么申请",
                },
            }
            assert await fake.post_to_webhook(payload, "wrong-secret") == 403
            assert await fake.post_to_webhook(payload, None) == 403
        finally:
            await stop_polling(app)


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
