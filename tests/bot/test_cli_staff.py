"""``talentbot staff`` accounts and ``inquiries reply/resolve`` reaching the person, as processes.

The reply test runs the CLI against the fake Bot API server on 127.0.0.1, so the message the
person receives is the one Telegram would deliver.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.assistant import Person
from bot.services import Services
from bot.settings import PROJECT_ROOT, load_settings
from knowledge.schema import Audience
from knowledge.service import KnowledgeService
from tests.fakegram.server import FakeTelegram


async def talentbot(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Runs ``python -m bot ARGS`` without blocking the loop (the fake server must answer)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
    full.update(env, COLUMNS="200")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=PROJECT_ROOT, env=full,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_staff_accounts_from_the_command_line(tmp_path: Path) -> None:
    env = {"TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'staff.sqlite3'}"}
    code, out, err = await talentbot(env, "staff", "add", "王专员", "--telegram-id", "900")
    assert code == 0, err
    password = out.strip().splitlines()[-1].rsplit("：", 1)[-1]
    assert len(password) == 16
    code, out, err = await talentbot(env, "staff", "add", "王专员")
    assert code == 1 and "已有名为 王专员 的账号" in err and len(err.strip().splitlines()) == 1
    code, out, _ = await talentbot(env, "staff", "list")
    assert code == 0 and "王专员" in out and "900" in out and password not in out
    assert (await talentbot(env, "staff", "disable", "王专员"))[0] == 0
    assert "已停用" in (await talentbot(env, "staff", "list"))[1]
    code, _, err = await talentbot(env, "staff", "disable", "nobody")
    assert code == 1 and "nobody" in err
    code, out, _ = await talentbot(env, "staff", "reset-password", "王专员")
    assert code == 0 and password not in out


async def test_cli_reply_and_resolve_reach_the_person_on_telegram(
    tmp_path: Path, knowledge: KnowledgeService
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'reply.sqlite3'}"
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(f"database:\n  url: {db}\n", encoding="utf-8")
    services = Services(load_settings(settings_file), knowledge)
    await services.open()
    async with FakeTelegram() as fake:
        alice = fake.user(777, "Alice")
        fake.private_chat(alice)
        person = Person(f"telegram:{alice.id}", "Alice", Audience.TALENT)
        reply = await services.assistant.ask(person, "公积金怎么提取", channel="telegram")
        await services.close()
        assert reply.inquiry_id is not None and reply.ticket_id is not None
        inquiry = str(reply.inquiry_id)
        env = {
            "TALENTBOT_DATABASE__URL": db,
            "TALENTBOT_TELEGRAM__TOKEN": fake.token,
            "TALENTBOT_TELEGRAM__BASE_URL": fake.base_url,
        }
        code, out, err = await talentbot(env, "inquiries", "reply", inquiry, "请到区公积金中心咨询")
        assert code == 0, err
        assert "已送达" in out
        await fake.wait_for_bot_message(alice.id, "请到区公积金中心咨询")
        code, out, err = await talentbot(env, "inquiries", "resolve", inquiry, "--note", "已答复")
        assert code == 0, err
        await fake.wait_for_bot_message(alice.id, "请为本次服务打分")
        code, _, err = await talentbot(env, "inquiries", "reply", inquiry, "again")
        assert code == 1 and "已经解决" in err
        no_bot = {"TALENTBOT_DATABASE__URL": db}
        code, _, err = await talentbot(no_bot, "inquiries", "reply", "999999", "x")
        assert code == 1 and "999999" in err
        assert fake.token not in out + err


async def test_talentbot_web_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    import signal
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    full = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
    full["TALENTBOT_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp_path / 'web.sqlite3'}"
    full["TALENTBOT_WEB__CHAT_SECRET"] = "test-secret"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", "--port", str(port),
        cwd=PROJECT_ROOT, env=full,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(300):
                try:
                    if (await client.get("/chat")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            assert (await client.get("/login")).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode(), "Ctrl-C stops it without a wall of text"
