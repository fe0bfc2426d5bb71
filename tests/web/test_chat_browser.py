"""The web chat in a real browser on a phone-sized screen, with a specialist in the console.

Chromium (Debian's) through Playwright against the real app served by uvicorn on 127.0.0.1 and
a real SQLite file. A visitor asks, taps a "您是不是想问" choice, says the answer did not help
(a ticket opens); a specialist signed in to the console replies and resolves; the reply and the
rating request arrive on the visitor's page by themselves; the visitor rates and clears the
record. With ``TALENTBOT_SCREENSHOTS=1`` the phone screenshot goes to ``docs/``.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import ViewportSize, async_playwright, expect

from bot.services import Services
from bot.settings import load_settings
from knowledge.service import KnowledgeService
from tests.web.conftest import write_settings
from tests.web.test_browser import CHROMIUM, serve, shots_dir

PHONE: ViewportSize = {"width": 390, "height": 844}


async def test_a_visitor_chats_hands_over_and_a_specialist_answers(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}"
    path = write_settings(tmp_path, db)
    path.write_text(
        path.read_text(encoding="utf-8").replace("web:\n", "web:\n  chat_poll_seconds: 1\n"),
        encoding="utf-8",
    )
    services = Services(load_settings(path), knowledge)
    await services.open()
    _, password = await services.accounts.add("李专员", actor="test")
    account = (await services.accounts.all())[0]
    await services.accounts.change_password(account.id, password, "li-password-123")
    try:
        async for base in serve(services, None):
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox"]
                )
                phone = await browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True)
                await phone.goto(f"{base}/chat")
                await phone.get_by_role("button", name="分类菜单").click()
                await expect(phone.locator("#log button[data-tap^='cat:']").first).to_be_visible()
                box = phone.get_by_label("您的问题")
                await box.fill("外地专家的崽读书")
                await box.press("Enter")
                choice = phone.locator("#log li.bot button[data-tap^='e:']").first
                await expect(choice).to_be_visible()
                await choice.click()
                not_helpful = phone.get_by_role("button", name="👎 没帮助").last
                await expect(not_helpful).to_be_visible()
                await not_helpful.click()
                await expect(phone.locator("#log")).to_contain_text("工单")

                desk = await browser.new_page(
                    viewport={"width": 1280, "height": 800}, locale="zh-CN"
                )
                await desk.goto(f"{base}/login")
                await desk.get_by_label("账号").fill("李专员")
                await desk.get_by_label("密码").fill("li-password-123")
                await desk.get_by_role("button", name="登录").click()
                await desk.goto(f"{base}/inbox")
                await desk.locator("table.list a[href^='/tickets/']").first.click()
                await desk.get_by_label("回复提问人").fill("孩子入学可以咨询人才服务窗口。")
                await desk.get_by_role("button", name="发送回复").click()
                await expect(desk.get_by_role("status")).to_contain_text("已送达")

                await expect(phone.locator("#log li.staff")).to_contain_text("人才服务窗口")
                await desk.get_by_label("处理说明（会告诉提问人）").fill("已答复")
                await desk.get_by_role("button", name="标记为已解决").click()
                five = phone.locator("#log li.staff button[data-tap$=':5']")
                await expect(five).to_be_visible()
                await phone.screenshot(path=str(shots_dir(tmp_path) / "webchat-phone.png"))
                await five.click()
                await expect(phone.locator("#log")).to_contain_text("谢谢您的评价")
                await phone.get_by_role("button", name="清除我的记录").click()
                await expect(phone.locator("#log")).to_contain_text("已删除")
                await browser.close()
    finally:
        await services.close()
