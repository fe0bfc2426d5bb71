"""Web chat under load: ``--sessions`` visitors (default 200) chatting at once with the real
``talentbot web`` on 127.0.0.1.

Each visitor opens /chat (gets a cookie and its CSRF token) and sends ``--messages`` questions
one after another (answers, a "did you mean", a follow-up, an unmatched one that opens a ticket).
Prints messages answered per second, p50 / p99 from posting a message to its reply, errors
(non-200 or no reply bubble) and the server's peak resident memory. The per-address limit is
lifted (every visitor comes from 127.0.0.1 here). Bounded by the counts and ``--deadline``.

Run: ``.venv/bin/python -m benchmarks.bench_webchat`` (``--sessions 20`` for a quick look)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.bench_load import peak_rss_mb, percentile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = (
    "人才公寓怎么申请",
    "需要什么材料",
    "外地专家的崽读书",
    "企业招聘能免费发布岗位吗",
    "公积金怎么提取",
)
CSRF = re.compile(r'data-csrf="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def visitor(
    base: str, number: int, messages: int, latencies: list[float], errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get("/chat")
        found = CSRF.search(page.text)
        if page.status_code != 200 or not found:
            errors.append(f"page {page.status_code}")
            return
        for turn in range(messages):
            text = QUESTIONS[(number + turn) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                reply = await client.post("/chat/send", data={"text": text, "csrf": found.group(1)})
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                continue
            if reply.status_code != 200 or 'class="bot"' not in reply.text:
                errors.append(f"send {reply.status_code}")
                continue
            latencies.append((time.perf_counter() - started) * 1000)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--deadline", type=float, default=300.0)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTBOT_")}
        env.update(
            {
                "TALENTBOT_DATABASE__URL": f"sqlite+aiosqlite:///{Path(tmp) / 'chat.sqlite3'}",
                "TALENTBOT_WEB__CHAT_PER_ADDRESS_PER_MINUTE": "1000000",
                "TALENTBOT_WEB__CHAT_SECRET": "bench-secret",
                "TALENTBOT_LOGGING__LEVEL": "WARNING",
            }
        )
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "web", "--port", str(port),
            cwd=PROJECT_ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base) as probe:
                for _ in range(600):
                    try:
                        if (await probe.get("/chat")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
            latencies: list[float] = []
            errors: list[str] = []
            started = time.perf_counter()
            tasks = [
                visitor(base, n, args.messages, latencies, errors) for n in range(args.sessions)
            ]
            try:
                await asyncio.wait_for(asyncio.gather(*tasks), args.deadline)
            except TimeoutError:
                errors.append("deadline")
            elapsed = time.perf_counter() - started
            peak = peak_rss_mb(server.pid)
        finally:
            server.send_signal(signal.SIGINT)
            await asyncio.wait_for(server.wait(), 30)
    print(
        f"{args.sessions} sessions x {args.messages} messages: "
        f"{len(latencies) / elapsed:.1f} msg/s   p50 {percentile(latencies, 0.5):.0f} ms   "
        f"p99 {percentile(latencies, 0.99):.0f} ms   errors {len(errors)}   "
        f"server peak {peak:.0f} MB"
    )


if __name__ == "__main__":
    asyncio.run(main())
