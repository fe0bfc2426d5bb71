"""The console over a real database (SQLite file and PostgreSQL), driven by httpx in-process."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.chat.turns import StaffChannel
from bot.desk.delivery import Reach
from bot.services import Services
from bot.settings import load_settings
from bot.web.app import create_app
from knowledge.service import KnowledgeService

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


@dataclass
class Site:
    services: Services
    client: httpx.AsyncClient

    async def account(
        self, name: str, *, admin: bool = False, telegram_user_id: int | None = None
    ) -> str:
        """Creates an account and returns its one-time password."""
        _, password = await self.services.accounts.add(
            name, admin=admin, telegram_user_id=telegram_user_id, actor="test"
        )
        return password

    async def login(self, name: str, password: str) -> httpx.Response:
        page = await self.client.get("/login")
        return await self.client.post(
            "/login",
            data={"name": name, "password": password, "csrf": csrf_of(page.text), "next": "/"},
        )

    async def signed_in(self, name: str, *, admin: bool = False) -> str:
        """A specialist with their own password, signed in; returns the CSRF token."""
        temporary = await self.account(name, admin=admin)
        await self.login(name, temporary)
        page = await self.client.get("/password")
        await self.client.post(
            "/password",
            data={
                "current": temporary,
                "new": "a-long-password-1",
                "repeat": "a-long-password-1",
                "csrf": csrf_of(page.text),
            },
        )
        return csrf_of((await self.client.get("/")).text)


def write_settings(tmp_path: Path, database_url: str, extra: str = "") -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(
        f"database:\n  url: {database_url}\n"
        "web:\n  lockout_attempts: 3\n  lockout_minutes: 5\n  page_size: 10\n" + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def services(
    tmp_path: Path, database_url: str, knowledge: KnowledgeService
) -> AsyncIterator[Services]:
    services = Services(load_settings(write_settings(tmp_path, database_url)), knowledge)
    await services.open()
    try:
        yield services
    finally:
        await services.close()


def client_for(
    services: Services, reach: Reach | None = None, staff: StaffChannel | None = None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(services, reach, staff)),
        base_url="http://console.test",
    )


@pytest.fixture
async def site(services: Services) -> AsyncIterator[Site]:
    async with client_for(services) as client:
        yield Site(services, client)
