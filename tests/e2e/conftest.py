"""The real Application, long polling the project's fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.log.spool import Spool
from bot.services import Services
from bot.settings import Settings, load_settings
from handlers.polling import Poller
from knowledge.service import KnowledgeService
from tests.fakegram import FakeTelegram

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Running:
    """Everything a people-side test touches."""

    fake: FakeTelegram
    app: TelegramApp
    services: Services


def text_update(update_id: int, user_id: int, text: str, name: str = "Alice") -> dict[str, Any]:
    """A raw Bot API update: ``text`` from the user in their private chat."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": name},
            "from": {"id": user_id, "is_bot": False, "first_name": name},
            "text": text,
        },
    }


def e2e_settings(tmp_path: Path, database_url: str | None = None) -> Settings:
    """Project settings with a throwaway database."""
    path = tmp_path / "settings.yaml"
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'e2e.sqlite3'}"
    path.write_text(f"database:\n  url: {url}\noffice:\n  phone: 0730-0000000\n", encoding="utf-8")
    return load_settings(path)


_pollers: dict[int, tuple[Poller, asyncio.Task[None]]] = {}


async def start_polling(app: TelegramApp, journal: Spool | None = None) -> None:
    """What ``bot.app.poll`` does at start-up, without taking over the event loop or signals.

    ``journal``: the update journal (by default a fresh one in a temporary folder).
    """
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    if journal is None:
        journal = Spool(Path(tempfile.mkdtemp(prefix="talentbot-journal-")) / "updates.jsonl")
    poller = Poller(app, timeout=1, journal=journal)
    _pollers[id(app)] = (poller, asyncio.create_task(poller.run()))


async def stop_polling(app: TelegramApp) -> None:
    """What ``bot.app.poll`` does on SIGINT/SIGTERM: finish the updates in hand, then shut down."""
    entry = _pollers.pop(id(app), None)
    if entry is not None:
        poller, task = entry
        poller.stop()
        await task
        await poller.confirm()
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


@pytest.fixture
async def running(tmp_path: Path, knowledge: KnowledgeService) -> AsyncIterator[Running]:
    """The bot running against the fake, with the real knowledge base and an SQLite log."""
    async with FakeTelegram() as fake:
        services = Services(e2e_settings(tmp_path), knowledge)
        app = build_application(
            services, token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
        )
        await start_polling(app)
        try:
            yield Running(fake, app, services)
        finally:
            await stop_polling(app)
