"""No secret (bot token, webhook secret, database password) in anything the process writes.

DEBUG logging may show tracebacks (that is what it is for), but with every secret redacted.

Each test runs the real ``talentbot`` as a subprocess on a failure path that used to print a
secret, and searches everything it wrote (stdout and stderr together).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT
from tests.bot.test_startup import run_cli
from tests.fakegram.server import FakeTelegram

TOKEN = "987654:TOKEN-SECRET-never-printed"
HOOK = "HOOK-SECRET-never-printed"
PASSWORD = "PASSWORD-never-printed"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _no_secret(output: str) -> None:
    for secret in ("TOKEN-SECRET", HOOK, PASSWORD):
        assert secret not in output, output


async def test_a_rejected_token_in_webhook_mode_prints_neither_token_nor_webhook_secret(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as fake:
        code, output = await run_cli(
            {
                "TALENTBOT_TELEGRAM__TOKEN": TOKEN,
                "TALENTBOT_TELEGRAM__BASE_URL": fake.base_url,
                "TALENTBOT_TELEGRAM__WEBHOOK_URL": "https://bot.example.org/telegram",
                "TALENTBOT_TELEGRAM__WEBHOOK_SECRET": HOOK,
                "TALENTBOT_TELEGRAM__WEBHOOK_PORT": str(_free_port()),
                "TALENTBOT_LOGGING__LEVEL": "DEBUG",
            },
            tmp_path,
        )
    assert code == 2, output
    _no_secret(output)


async def test_debug_logging_of_a_rejected_token_never_shows_it(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        code, output = await run_cli(
            {
                "TALENTBOT_TELEGRAM__TOKEN": TOKEN,
                "TALENTBOT_TELEGRAM__BASE_URL": fake.base_url,
                "TALENTBOT_LOGGING__LEVEL": "DEBUG",
            },
            tmp_path,
        )
    assert code == 2, output
    _no_secret(output)


async def test_an_unreachable_database_never_shows_its_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://talent:{PASSWORD}@127.0.0.1:{_free_port()}/talent"
    async with FakeTelegram(token=TOKEN) as fake:  # the token is accepted: the database fails
        code, output = await run_cli(
            {
                "TALENTBOT_TELEGRAM__TOKEN": TOKEN,
                "TALENTBOT_TELEGRAM__BASE_URL": fake.base_url,
                "TALENTBOT_DATABASE__URL": url,
            },
            tmp_path,
        )
    assert code != 0, output
    _no_secret(output)
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) <= 3 and "database.url" in lines[-1] and "talent:***@" in lines[-1], output


def test_a_token_with_stray_whitespace_is_still_redacted(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
    env["TALENTBOT_TELEGRAM__TOKEN"] = f"  {TOKEN}\n"
    env["TALENTBOT_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"
    script = (
        "from bot.cli.common import get_settings\n"
        "settings = get_settings()\n"
        "print(repr(settings), str(settings))\n"
        "raise RuntimeError('rejected: ' + settings.telegram.token.get_secret_value())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "RuntimeError: rejected: ***" in result.stderr
    assert "TOKEN-SECRET" not in result.stdout + result.stderr
