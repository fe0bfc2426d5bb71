"""The console in a real browser: Debian's Chromium driven by Playwright, against the real
console served by uvicorn on 127.0.0.1, a real SQLite file, and the fake Bot API server for the
person on Telegram.

A specialist signs in with the one-time password and sets their own; finds a question the bot
could not answer on the gaps page and adds it to an entry (then ``talentbot ask`` answers it
with that entry); replies to a ticket and sees the reply reach the person on Telegram; resolves
it and sees the rating request arrive. With ``TALENTBOT_SCREENSHOTS=1`` the screenshots go to
``docs/`` (for the README); otherwise to the test's temporary directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from playwright.async_api import Page, async_playwright, expect
from pydantic import SecretStr

from bot.app import telegram_reach_for
from bot.assistant import Person
from bot.services import Services
from bot.settings import PROJECT_ROOT, load_settings
from bot.web.app import create_app
from knowledge.schema import Audience
from knowledge.service import KnowledgeService
from tests.fakegram.server import FakeTelegram
from tests.web.conftest import write_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
GAP_QUESTION = "外地专家的崽读书"
"""Only "did you mean" today; added to greencard-children-school it is answered."""
GAP_ENTRY = "greencard-children-school"


async def serve(services: Services, reach: object) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(services, reach),  # type: ignore[arg-type]
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def shots_dir(tmp_path: Path) -> Path:
    if os.environ.get("TALENTBOT_SCREENSHOTS") == "1":
        return PROJECT_ROOT / "docs"
    return tmp_path


async def sign_in_first_time(page: Page, base: str, name: str, password: str) -> None:
    await page.goto(f"{base}/inbox")
    await expect(page).to_have_url(f"{base}/login?next=/inbox")
    await page.get_by_label("账号").fill(name)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{base}/password")
    await page.get_by_label("当前密码").fill(password)
    await page.get_by_label("新密码", exact=True).fill("my-own-password-1")
    await page.get_by_label("再输一遍新密码").fill("my-own-password-1")
    await page.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("heading", name="概览")).to_be_visible()


async def test_a_specialist_works_gaps_and_tickets_in_chromium(
    tmp_path: Path, seeds_dir: Path
) -> None:
    kb_copy = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", kb_copy, ignore=shutil.ignore_patterns("*.py"))
    db = f"sqlite+aiosqlite:///{tmp_path / 'console.sqlite3'}"
    async with FakeTelegram() as fake:
        settings_path = write_settings(
            tmp_path,
            db,
            f"knowledge:\n  dir: {kb_copy}\n  seeds_dir: {seeds_dir}\n"
            f"  cache_dir: {PROJECT_ROOT / 'data' / 'cache'}\n",
        )
        settings = load_settings(settings_path)
        settings = settings.model_copy(
            update={
                "telegram": settings.telegram.model_copy(
                    update={"token": SecretStr(fake.token), "base_url": fake.base_url}
                )
            }
        )
        knowledge = KnowledgeService(
            kb_copy,
            seeds_dir=seeds_dir,
            config=settings.matching.to_config(),
            cache_dir=settings.knowledge.cache_dir,
        )
        knowledge.load()
        services = Services(settings, knowledge)
        await services.open()
        alice = fake.user(5150, "Alice")
        fake.private_chat(alice)
        person = Person(f"telegram:{alice.id}", "Alice", Audience.TALENT)
        ticket = await services.assistant.ask(person, "公积金怎么提取", channel="telegram")
        assert ticket.ticket_id is not None
        gap = await services.assistant.ask(person, GAP_QUESTION, channel="telegram")
        assert gap.outcome.value == "suggested"
        _, password = await services.accounts.add("王专员", actor="test")
        shots = shots_dir(tmp_path)
        try:
            async with telegram_reach_for(settings) as reach:
                assert reach is not None
                async for base in serve(services, reach):
                    async with async_playwright() as playwright:
                        browser = await playwright.chromium.launch(
                            executable_path=CHROMIUM, args=["--no-sandbox"]
                        )
                        page = await browser.new_page(
                            viewport={"width": 1280, "height": 800}, locale="zh-CN"
                        )
                        await sign_in_first_time(page, base, "王专员", password)
                        await page.screenshot(path=str(shots / "console-dashboard.png"))

                        # Knowledge gaps: add the question to an entry.
                        await page.get_by_role("link", name="知识缺口").click()
                        section = page.locator("section.gap", has_text=GAP_QUESTION)
                        await expect(section).to_be_visible()
                        await page.screenshot(path=str(shots / "console-gaps.png"))
                        await section.get_by_label("加到哪个条目").select_option(GAP_ENTRY)
                        await section.get_by_role("button", name="加为该条目的问法").click()
                        await expect(page.get_by_role("status")).to_contain_text("已加入")

                        # A ticket: take, reply (reaches Telegram), resolve (rating request).
                        await page.get_by_role("link", name="工单").click()
                        await page.screenshot(path=str(shots / "console-inbox.png"))
                        await page.get_by_role("link", name=f"#{ticket.ticket_id}").click()
                        await page.get_by_role("button", name="由我负责").click()
                        await page.get_by_label("回复提问人").fill("公积金请咨询区公积金中心。")
                        await page.get_by_role("button", name="发送回复").click()
                        await expect(page.get_by_role("status")).to_contain_text("已送达")
                        await fake.wait_for_bot_message(alice.id, "公积金请咨询区公积金中心")
                        await page.get_by_label("处理说明（会告诉提问人）").fill("已答复")
                        await page.get_by_role("button", name="标记为已解决").click()
                        await expect(page.get_by_role("status")).to_contain_text("已解决")
                        await fake.wait_for_bot_message(alice.id, "请为本次服务打分")
                        await browser.close()
        finally:
            await services.close()
    text = (kb_copy / "entries" / "green_card.yaml").read_text(encoding="utf-8")
    assert GAP_QUESTION in text and text.startswith("#"), "written, comments kept"
    answered = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", GAP_QUESTION],
        cwd=PROJECT_ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")},
            "TALENTBOT_KNOWLEDGE__DIR": str(kb_copy),
            "TALENTBOT_KNOWLEDGE__SEEDS_DIR": str(seeds_dir),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(answered.stdout.splitlines()[0])
    assert result["outcome"] == "answered" and result["entry_id"] == GAP_ENTRY
