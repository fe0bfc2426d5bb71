"""One staff identity: a console account linked to a Telegram id is that specialist on Telegram."""

from __future__ import annotations

from pathlib import Path

from bot.services import Services
from bot.settings import load_settings
from knowledge.service import KnowledgeService
from tests.web.conftest import write_settings


async def test_linked_accounts_and_settings_ids_are_staff_on_telegram(
    tmp_path: Path, database_url: str, knowledge: KnowledgeService
) -> None:
    path = write_settings(
        tmp_path, database_url, "staff:\n  user_ids: [900]\n  names: {900: 王专员}\n"
    )
    services = Services(load_settings(path), knowledge)
    await services.open()
    try:
        await services.accounts.add("李专员", telegram_user_id=901, actor="test")
        assert await services.specialist(900, "Wang") == "王专员"  # staff.user_ids still works
        assert await services.specialist(901, "Li on Telegram") == "李专员"  # the account's name
        assert await services.specialist(5, "Someone") is None
        assert await services.specialist(None, "") is None
        await services.accounts.set_disabled("李专员", True, actor="admin")
        assert await services.specialist(901, "Li on Telegram") is None, "disabled: no rights"
    finally:
        await services.close()
