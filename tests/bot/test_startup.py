"""``talentbot run`` failing to start says why in a line or two, exits 2, and leaks no secret.

The real CLI runs as a subprocess against the project's fake Bot API server (which answers 401
to any token but its own) or against a closed port.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.logging_config import RedactingFormatter, redact
from bot.settings import PROJECT_ROOT
from bot.texts import texts
from tests.fakegram.server import FakeTelegram

SECRET = "987654:SECRET-never-to-be-printed"


async def run_cli(env_extra: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
    env.update(
        {
            "TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}",
            "TALENTBOT_OFFICE__PHONE": "0000",
            "TALENTBOT_OFFICE__ADDRESS": "here",
            "TALENTBOT_OFFICE__HOURS": "9-5",
            "TALENTBOT_TELEGRAM__STATE_FILE": str(tmp_path / "state.pickle"),
            **env_extra,
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=PROJECT_ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, output.decode()


def _meaningful(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


async def test_a_rejected_token_is_one_clear_line_exit_2_and_never_printed(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as fake:
        code, output = await run_cli(
            {"TALENTBOT_TELEGRAM__TOKEN": SECRET, "TALENTBOT_TELEGRAM__BASE_URL": fake.base_url},
            tmp_path,
        )
    assert code == 2, output
    assert "never-to-be-printed" not in output
    lines = _meaningful(output)
    assert len(lines) <= 2, output
    assert "TALENTBOT_TELEGRAM__TOKEN" in lines[-1] and "Traceback" not in output


async def test_an_unreachable_bot_api_names_the_base_url_setting(tmp_path: Path) -> None:
    code, output = await run_cli(
        {
            "TALENTBOT_TELEGRAM__TOKEN": SECRET,
            "TALENTBOT_TELEGRAM__BASE_URL": "http://127.0.0.1:9/bot",
        },
        tmp_path,
    )
    assert code == 2, output
    assert "never-to-be-printed" not in output and "Traceback" not in output
    lines = _meaningful(output)
    assert len(lines) <= 2, output
    assert "telegram.base_url" in lines[-1] and "http://127.0.0.1:9" in lines[-1]


async def test_a_set_but_empty_token_runs_the_console_chat(tmp_path: Path) -> None:
    code, output = await run_cli({"TALENTBOT_TELEGRAM__TOKEN": ""}, tmp_path)
    assert code == 0, output
    assert "控制台" in output


def test_log_records_with_exceptions_are_redacted_whole() -> None:
    formatter = RedactingFormatter([SECRET], "%(message)s")
    try:
        raise RuntimeError(f"The token `{SECRET}` was rejected by the server")
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed with %s", (SECRET,), sys.exc_info()
        )
    text = formatter.format(record)
    assert "never-to-be-printed" not in text and "Traceback" in text and "***" in text


def test_the_secret_part_of_a_token_alone_is_redacted_too() -> None:
    assert redact("url=/bot987654%3ASECRET-never-to-be-printed/getMe", [SECRET]) == (
        "url=/bot987654%3A***/getMe"
    )


async def test_webhook_mode_without_its_secret_is_one_line_exit_2(tmp_path: Path) -> None:
    code, output = await run_cli(
        {
            "TALENTBOT_TELEGRAM__TOKEN": SECRET,
            "TALENTBOT_TELEGRAM__WEBHOOK_URL": "https://bot.example.org/telegram",
        },
        tmp_path,
    )
    assert code == 2, output
    assert _meaningful(output) == [texts("zh").t("cli.webhook_needs")]


def test_what_is_loaded_before_serving_is_left_out_of_full_collections() -> None:
    import gc

    from bot.app import settle_heap

    kept = [{"entry": n} for n in range(10_000)]  # long-lived, like the matcher's index
    try:
        settle_heap()
        assert gc.get_freeze_count() > len(kept)
        assert not any(o is kept for o in gc.get_objects())  # no generation holds them now
    finally:
        gc.unfreeze()


def test_servers_run_on_uvloop_and_finish_their_work() -> None:
    import uvloop

    from bot.app import run_loop

    seen: list[object] = []

    async def serve() -> None:
        await asyncio.sleep(0)
        seen.append(asyncio.get_running_loop())

    run_loop(serve())
    assert len(seen) == 1 and isinstance(seen[0], uvloop.Loop)
