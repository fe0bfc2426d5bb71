"""Every update kind the bot does not handle is ignored quietly, never an exception."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from tests.e2e.conftest import Running

CONTENT: dict[str, dict[str, Any]] = {
    "sticker": {"sticker": {"file_id": "s1", "file_unique_id": "u1", "type": "regular",
                            "width": 512, "height": 512, "is_animated": False,
                            "is_video": False}},
    "photo": {"photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]},
    "voice": {"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 3}},
    "document": {"document": {"file_id": "d1", "file_unique_id": "u4", "file_name": "a.pdf"}},
    "location": {"location": {"latitude": 28.2, "longitude": 112.9}},
    "poll": {"poll": {"id": "9", "question": "?", "options": [{"text": "a", "voter_count": 0, "persistent_id": "a"},
                      {"text": "b", "voter_count": 0, "persistent_id": "b"}], "total_voter_count": 0,
                      "is_closed": False, "is_anonymous": True, "type": "regular",
                      "allows_multiple_answers": False, "allows_revoting": False,
                      "members_only": False}},
}  # fmt: skip


async def test_media_edits_channel_posts_inline_queries_and_leaving_raise_nothing(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    fake = running.fake
    alice = fake.user(600, "Alice")
    caplog.set_level(logging.WARNING)
    for content in CONTENT.values():
        await fake.send_message_with(alice, content)
    now = int(time.time())
    chat = {"id": alice.id, "type": "private", "first_name": "Alice"}
    sender = alice.to_dict()
    await fake.send_update(
        "edited_message",
        {"message_id": 1, "date": now, "edit_date": now, "chat": chat, "from": sender,
         "text": "人才公寓怎么申请"},
    )  # fmt: skip
    channel: dict[str, Any] = {"id": -100_800, "type": "channel", "title": "频道"}
    await fake.send_update(
        "channel_post", {"message_id": 1, "date": now, "chat": channel, "text": "人才公寓"}
    )
    group = fake.group(-100_801, "闲聊群")
    await fake.send_text(alice, "大家好，今天天气不错", chat=group)
    await fake.send_update(
        "inline_query", {"id": "77", "from": sender, "query": "人才公寓", "offset": ""}
    )
    bot_user = {"id": fake.bot_id, "is_bot": True, "first_name": "TalentBot"}
    await fake.send_update(
        "my_chat_member",
        {"chat": chat, "from": sender, "date": now,
         "old_chat_member": {"status": "member", "user": bot_user},
         "new_chat_member": {"status": "kicked", "user": bot_user, "until_date": 0}},
    )  # fmt: skip
    await fake.send_update("malformed_kind", {"this": "is not an update the bot knows"})
    broken = await fake.send_update("message", {"message_id": "no chat, no date"})
    # The marker: a real question after all of them is still answered, so polling went on.
    await fake.send_text(fake.user(601, "Bob"), "人才公寓怎么申请")
    await fake.wait_for_bot_message(fake.user(601, "Bob"), "来源", timeout=15)
    await asyncio.sleep(0.5)
    assert fake.bot_messages(alice) == [], "nothing answered: not even the edited question"
    assert fake.bot_messages(group) == [] and fake.bot_messages(int(channel["id"])) == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"skipping update {broken['update_id']}: it cannot be parsed"], errors
