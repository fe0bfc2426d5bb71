"""The console and the web chat with a bot token: the staff group hears of web-chat tickets,
and a ticket taken in the console is redrawn on its card in the staff group."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.app import channels_for
from bot.assistant import Person
from bot.chat.turns import Conversation
from bot.services import Services
from bot.settings import load_settings
from knowledge.service import KnowledgeService
from tests.fakegram.server import FakeTelegram
from tests.web.conftest import Site, client_for, write_settings

STAFF_CHAT = -100_555_000


async def test_web_tickets_reach_the_staff_group_and_console_actions_redraw_the_card(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    async with FakeTelegram() as fake:
        group = fake.group(STAFF_CHAT, "人才办专员群")
        db = f"sqlite+aiosqlite:///{tmp_path / 'group.sqlite3'}"
        path = write_settings(tmp_path, db, f"staff:\n  chat_id: {STAFF_CHAT}\n")
        settings = load_settings(path)
        telegram = settings.telegram.model_copy(
            update={"token": SecretStr(fake.token), "base_url": fake.base_url}
        )
        settings = settings.model_copy(update={"telegram": telegram})
        services = Services(settings, knowledge)
        await services.open()
        try:
            async with channels_for(settings, services) as channels:
                assert channels.staff is not None
                visitor = Person("web:feedbeef", "网页访客 beef")
                conversation = Conversation(services, channels.staff)
                turn = await conversation.message(visitor, "公积金怎么提取", channel="web")
                assert turn.view is not None
                card = await fake.wait_for_bot_message(group, "公积金怎么提取")
                assert "网页访客 beef" in card["text"]
                async with client_for(services, channels.reach, channels.staff) as client:
                    site = Site(services, client)
                    csrf = await site.signed_in("王专员")
                    (row,), _ = await services.desk.queue()
                    await client.post(f"/tickets/{row.id}/take", data={"csrf": csrf})

                    def redrawn() -> bool:
                        return any(
                            "王专员" in m["text"] and "公积金怎么提取" in m["text"]
                            for m in fake.bot_messages(group)
                        )

                    await fake.wait_until(redrawn, timeout=10, what="the card redrawn")
        finally:
            await services.close()
