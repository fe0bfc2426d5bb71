"""The public web chat over a real database: the same core as Telegram, rendered as HTML."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.desk.delivery import reply_to_person, resolve_ticket, web_reach
from bot.log.models import Inquiry, Person, WebMessage
from bot.services import Services
from bot.settings import load_settings
from knowledge.service import KnowledgeService
from tests.web.conftest import client_for, write_settings

CSRF = re.compile(r'data-csrf="([^"]+)"')
TAP = re.compile(r'data-tap="([^"]+)"')


@pytest.fixture
async def chat_services(
    tmp_path: Path, database_url: str, knowledge: KnowledgeService
) -> AsyncIterator[Services]:
    extra = "  chat_per_address_per_minute: 8\n  chat_max_chars: 200\n"
    path = write_settings(tmp_path, database_url)
    path.write_text(path.read_text(encoding="utf-8").replace("web:\n", "web:\n" + extra))
    services = Services(load_settings(path), knowledge)
    await services.open()
    try:
        yield services
    finally:
        await services.close()


async def opened(client: httpx.AsyncClient, **headers: str) -> str:
    page = await client.get("/chat", headers=headers)
    assert page.status_code == 200
    found = CSRF.search(page.text)
    assert found
    return found.group(1)


async def test_a_visitor_asks_taps_a_choice_and_rates_an_answer(
    chat_services: Services,
) -> None:
    async with client_for(chat_services) as client:
        page = await client.get("/chat")
        cookie = page.headers["set-cookie"]
        assert "tb_chat=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
        assert "x-frame-options" not in page.headers
        assert "我是人才" in page.text or "人才" in page.text
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        forged = await client.post("/chat/send", data={"text": "你好", "csrf": "forged"})
        assert forged.status_code == 403
        vague = await client.post("/chat/send", data={"text": "外地专家的崽读书", "csrf": csrf})
        choices = [tap for tap in TAP.findall(vague.text) if tap.startswith("e:")]
        assert choices, "您是不是想问 offers entries as buttons"
        chosen = await client.post("/chat/tap", data={"data": choices[0], "csrf": csrf})
        assert chosen.status_code == 200 and "fb:" in chosen.text
        answer = await client.post("/chat/send", data={"text": "人才公寓怎么申请", "csrf": csrf})
        assert "人才公寓" in answer.text and 'class="me"' in answer.text
        taps = TAP.findall(answer.text)
        assert any(tap.startswith("fb:") for tap in taps), "有帮助 / 没帮助 under the answer"
        helpful = next(tap for tap in taps if tap.endswith(":y"))
        rated = await client.post("/chat/tap", data={"data": helpful, "csrf": csrf})
        assert rated.headers.get("x-clear-buttons") == "1"
        again = await client.post("/chat/tap", data={"data": helpful, "csrf": csrf})
        assert again.headers.get("x-toast"), "a second rating is refused politely"
        forged_tap = await client.post("/chat/tap", data={"data": "fb:999999999:y", "csrf": csrf})
        assert forged_tap.headers.get("x-toast")
    async with chat_services.log.sessions() as session:
        channels = set(await session.scalars(select(Inquiry.channel)))
    assert channels == {"web"}


async def test_an_entry_offered_under_an_answer_is_a_button_that_opens_it(
    chat_services: Services,
) -> None:
    async with client_for(chat_services) as client:
        csrf = await opened(client)
        both = await client.post(
            "/chat/send", data={"text": "人才公寓怎么申请，另外工匠有啥说法", "csrf": csrf}
        )
        assert "您的问题还可能涉及" in both.text
        assert "e:subsidy-craftsman-award" in TAP.findall(both.text)
        shown = await client.post(
            "/chat/tap", data={"data": "e:subsidy-craftsman-award", "csrf": csrf}
        )
        assert shown.status_code == 200 and "工匠" in shown.text and "fb:" in shown.text


async def test_hand_over_a_specialists_reply_arrives_and_is_rated(
    chat_services: Services,
) -> None:
    async with client_for(chat_services) as client:
        csrf = await opened(client)
        unmatched = await client.post("/chat/send", data={"text": "公积金怎么提取", "csrf": csrf})
        assert "phone:ask" in unmatched.text, "the visitor may leave a phone number"
        phone = await client.post("/chat/tap", data={"data": "phone:ask", "csrf": csrf})
        assert phone.headers.get("x-show-phone") == "1"
        bad = await client.post("/chat/phone", data={"phone": "call me", "csrf": csrf})
        assert "格式不对" in bad.text
        await client.post("/chat/phone", data={"phone": "+86 138-0000-0000", "csrf": csrf})
        nothing = await client.get("/chat/updates?after=0")
        assert nothing.text == "" and nothing.headers["x-after"] == "0"
        queue, _ = await chat_services.desk.queue()
        ticket = queue[0].id
        reach = web_reach(chat_services.log)
        done = await reply_to_person(
            chat_services.desk, reach, ticket, "王专员", "请到<公积金中心>"
        )
        assert done.delivered
        update = await client.get("/chat/updates?after=0")
        assert "请到&lt;公积金中心&gt;" in update.text and "end:" in update.text
        after = update.headers["x-after"]
        assert (await client.get(f"/chat/updates?after={after}")).text == ""
        relayed = await client.post("/chat/send", data={"text": "谢谢，还有一个问题", "csrf": csrf})
        assert "专员" in relayed.text or "转给" in relayed.text
        await resolve_ticket(chat_services.desk, reach, ticket, "王专员", "已答复")
        rating = await client.get(f"/chat/updates?after={after}")
        stars = [tap for tap in TAP.findall(rating.text) if tap.startswith("rt:")]
        assert len(stars) == 5
        thanks = await client.post("/chat/tap", data={"data": stars[4], "csrf": csrf})
        assert thanks.headers.get("x-replace") == "1"
    card = await chat_services.desk.card(ticket)
    assert card.phone == "+86 138-0000-0000" and card.person_key.startswith("web:")


async def test_a_follow_up_on_the_same_entry_is_answered_whole_after_a_reload(
    chat_services: Services,
) -> None:
    """The page keeps no transcript over a reload, so the web chat never points back."""
    async with client_for(chat_services) as client:
        csrf = await opened(client)
        await client.post("/chat/send", data={"text": "人才公寓怎么申请", "csrf": csrf})
        csrf = await opened(client)  # the visitor reloads the page
        again = await client.post("/chat/send", data={"text": "那要交哪些材料", "csrf": csrf})
    entry = chat_services.knowledge.kb.get("housing-talent-apartment")
    assert entry is not None and entry.answer[:20] in again.text
    assert "上面的回答" not in again.text


async def test_hostile_long_and_flooding_messages(chat_services: Services) -> None:
    async with client_for(chat_services) as client:
        csrf = await opened(client)
        hostile = await client.post(
            "/chat/send", data={"text": "<script>alert(1)</script><b>x</b>", "csrf": csrf}
        )
        assert "<script>" not in hostile.text and "&lt;script&gt;" in hostile.text
        long = await client.post("/chat/send", data={"text": "长" * 201, "csrf": csrf})
        assert "太长" in long.text
        replies = [
            (await client.post("/chat/send", data={"text": f"你好{n}", "csrf": csrf})).text
            for n in range(10)
        ]
        assert any("slow" in r or "太快" in r or "稍" in r for r in replies[-3:])
        assert (await client.post("/chat/send", data={"text": "x"})).status_code == 403


async def test_clear_my_records_forgets_the_visitor(chat_services: Services) -> None:
    async with client_for(chat_services) as client:
        csrf = await opened(client)
        await client.post("/chat/send", data={"text": "公积金怎么提取", "csrf": csrf})
        cleared = await client.post("/chat/forget", data={"csrf": csrf})
        assert cleared.status_code == 200 and 'tb_chat=""' in cleared.headers["set-cookie"]
    async with chat_services.log.sessions() as session:
        people = await session.scalar(select(func.count()).select_from(Person))
        messages = await session.scalar(select(func.count()).select_from(WebMessage))
    assert people == 0 and messages == 0


async def test_the_embed_script_and_the_english_chat(chat_services: Services) -> None:
    async with client_for(chat_services) as client:
        assert (await client.get("/chat/updates?after=0")).status_code == 204, "no cookie"
        script = await client.get("/chat/embed.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert '"http://console.test"' in script.text and "/chat?embed=1" in script.text
        page = await client.get("/chat", headers={"accept-language": "en-US,en;q=0.8"})
        assert "Talent policy assistant" in page.text


async def test_only_the_configured_sites_may_embed_the_chat(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'embed.sqlite3'}"
    path = write_settings(tmp_path, db)
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "web:\n", "web:\n  chat_origins: [https://www.example.gov.cn]\n"
        ),
        encoding="utf-8",
    )
    services = Services(load_settings(path), knowledge)
    await services.open()
    try:
        async with client_for(services) as client:
            chat = await client.get("/chat")
            policy = chat.headers["content-security-policy"]
            assert "frame-ancestors 'self' https://www.example.gov.cn" in policy
            console = await client.get("/login")
            assert "frame-ancestors 'none'" in console.headers["content-security-policy"]
            assert console.headers["x-frame-options"] == "DENY"
    finally:
        await services.close()
