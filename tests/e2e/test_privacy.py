"""Logs carry ids, not message text, unless debug logging is on.

A whole conversation goes through the real Application and the fake Bot API server: a question
with a phone number that opens a ticket, a follow-up relayed to the staff group, a specialist's
reply, staff commands tried by a person and by a stranger, a flood past the rate limit and
/forget. At the default level (INFO) no log record, exception text included, carries any of it.
"""

from __future__ import annotations

import logging

import pytest

from tests.e2e.test_staff import Desk, desk  # noqa: F401 - the fixture

SECRETS = ("13800000000", "某某小区", "护照原件", "冒充的答复", "陌生人的话", "洪水消息")


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


async def test_no_log_record_carries_what_people_or_specialists_wrote(
    desk: Desk,  # noqa: F811 - the imported fixture
    caplog: pytest.LogCaptureFixture,
) -> None:
    d = desk
    caplog.set_level(logging.INFO)
    await d.fake.send_text(d.alice, "火星上的签证怎么办理，我电话13800000000")
    await d.fake.wait_for_bot_message(d.group, "工单 #1", timeout=15)
    await d.fake.send_text(d.alice, "补充一句：我住在某某小区")
    await d.fake.wait_for_bot_message(d.group, "某某小区", timeout=15)
    await d.fake.send_text(d.wang, "/reply 1 请带上护照原件来办公室", chat=d.group)
    await d.fake.wait_for_bot_message(d.alice, "护照原件", timeout=15)
    await d.fake.send_text(d.alice, "/reply 1 冒充的答复")
    await d.fake.wait_for_bot_message(d.alice, "没有这个命令", timeout=15)
    foreign = d.fake.group(-100_4343, "某公开群")
    await d.fake.send_text(d.bob, "/reply 1 陌生人的话", chat=foreign)
    flood = d.fake.user(77, "Flood")
    for n in range(8):
        await d.fake.send_text(flood, f"洪水消息{n}")
    await d.fake.wait_until(
        lambda: any("发送得有点快" in m["text"] for m in d.fake.bot_messages(flood)),
        timeout=20,
        what="the rate-limit notice",
    )
    await d.fake.send_text(d.alice, "/forget")
    confirm = await d.fake.wait_for_bot_message(d.alice, "确定要删除")
    await d.fake.tap(d.alice, confirm, "确认删除")
    await d.fake.wait_until(
        lambda: "已删除您的全部记录" in d.fake.last_bot_message(d.alice)["text"],
        timeout=15,
        what="the forget result",
    )
    logged = everything_logged(caplog)
    assert [s for s in SECRETS if s in logged] == [], logged
    refusals = [r.getMessage() for r in caplog.records if "refused staff action" in r.getMessage()]
    assert len(refusals) == 2 and all("/reply in chat" in r for r in refusals), refusals


async def test_with_debug_logging_a_refused_command_is_logged_whole(
    desk: Desk,  # noqa: F811 - the imported fixture
    caplog: pytest.LogCaptureFixture,
) -> None:
    d = desk
    caplog.set_level(logging.DEBUG, logger="handlers.staff")
    await d.fake.send_text(d.alice, "/reply 1 冒充的答复")
    await d.fake.wait_for_bot_message(d.alice, "没有这个命令", timeout=15)
    refusals = [r.getMessage() for r in caplog.records if "refused staff action" in r.getMessage()]
    assert len(refusals) == 1 and "冒充的答复" in refusals[0], refusals
