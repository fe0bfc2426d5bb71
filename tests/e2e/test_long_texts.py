"""Long texts reach their reader: a 4,096-character question, a 4,094-character staff reply,
emoji-heavy answers — split or shortened to Telegram's limit (counted in UTF-16 units)."""

from __future__ import annotations

from bot.formatting import split_message, utf16_len
from tests.e2e.test_staff import Desk, desk  # noqa: F401 - the fixture


def test_split_counts_utf16_units_and_never_cuts_an_entity_or_a_tag() -> None:
    emoji = "😀" * 3000  # 6,000 UTF-16 units in 3,000 characters
    parts = split_message(emoji)
    assert len(parts) == 2 and all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts) == emoji
    escaped = "a" * 4094 + "&amp;" + "b" * 10
    parts = split_message(escaped)
    assert parts[0] == "a" * 4094 and parts[1].startswith("&amp;")
    tagged = "x" * 4093 + "<b>y</b>"
    assert split_message(tagged)[1].startswith("<b>")


async def test_a_question_of_4096_characters_and_a_reply_of_4094_arrive(
    desk: Desk,  # noqa: F811 - the imported fixture
) -> None:
    fake = desk.fake
    question = "火星签证<script>" + "问" * (4096 - 12)
    assert len(question) == 4096
    await fake.send_text(desk.alice, question)
    await fake.wait_for_bot_message(desk.alice, timeout=15)
    card = await fake.wait_for_bot_message(desk.group, "工单 #1", timeout=15)
    assert "<script>" in card["text"] and card["text"].count("问") < 4096
    await fake.send_text(desk.alice, "补充：" + "再" * 4093)
    relayed = await fake.wait_for_bot_message(desk.group, "补充", timeout=15)
    assert relayed["reply_to_message"]["message_id"] == card["message_id"]
    reply = "答" * 4094
    await fake.send_text(desk.wang, f"/reply 1 {reply}", chat=desk.group)
    await fake.wait_for_bot_message(desk.group, "已发送给提问人", timeout=15)
    received = "".join(m["text"] for m in fake.bot_messages(desk.alice))
    assert reply in received.replace("\n", "")
