"""The python-telegram-bot Application: the one place where the bot is wired together.

``build_application`` attaches the handlers in order, the error handler, the rate limiter (429
flood waits are retried instead of crashing) and the start-up and shutdown hooks: open the
inquiry log, publish the command list in Chinese and English; on SIGINT/SIGTERM, finish the
updates in hand, then flush the log. ``run`` starts long polling or the webhook server.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

# Durations from Telegram (a flood wait's retry_after) as timedelta, PTB's coming default: our
# readers (handlers.polling, handlers.staff) take both, and the deprecation warning goes away.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, BotCommand, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.chat.turns import StaffChannel
from bot.desk.delivery import Reach, either, web_reach
from bot.log.spool import Spool, default_spool_path
from bot.services import Services
from bot.settings import Settings
from bot.texts import LANGUAGES, texts
from handlers import ErrorHandler, StaffHandlers, build_handlers
from handlers.delivery import telegram_reach
from handlers.persistence import FormPersistence
from handlers.polling import Poller
from handlers.render import configure_sending
from handlers.staff import StaffNotifier, TelegramStaff
from handlers.transport import AiohttpRequest
from handlers.webhook import WebhookEndpoint, webhook_app

__all__ = ["COMMANDS", "StartupError", "build_application", "publish_commands", "run"]


class StartupError(Exception):
    """The bot could not start: a one-line, secret-free message for the console and an exit code.

    A rejected token or an unreachable Bot API used to end in hundreds of lines of traceback;
    what the operator needs is which setting to check.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


logger = logging.getLogger(__name__)

COMMANDS = ("start", "menu", "role", "human", "demand", "help", "forget", "cancel")
"""The people's commands, in the order the Telegram menu shows them (staff commands stay unlisted)."""

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


async def publish_commands(app: TelegramApp) -> None:
    """setMyCommands: Chinese as the default list, English for English-language clients."""
    for language in LANGUAGES:
        t = texts(language)
        commands = [BotCommand(name, t.t(f"commands.{name}")) for name in COMMANDS]
        await app.bot.set_my_commands(
            commands, language_code=None if language == "zh" else language
        )


def build_application(
    services: Services,
    *,
    token: str,
    base_url: str | None = None,
    base_file_url: str | None = None,
    rate_limiter: bool = True,
) -> TelegramApp:
    """The Application with every handler registered; nothing is started."""

    async def post_init(app: TelegramApp) -> None:
        await services.open()
        await publish_commands(app)
        logger.info("bot @%s ready", app.bot.username)

    async def post_shutdown(app: TelegramApp) -> None:
        await staff.notifier.outbox.drain(timeout=10)
        await services.close()

    builder = ApplicationBuilder().token(token).post_init(post_init).post_shutdown(post_shutdown)
    # aiohttp rather than PTB's httpx: see handlers/transport.py for the measured reason. One
    # client for both kinds of call, so that ``poll`` can close it when start-up fails.
    transport = AiohttpRequest(connection_pool_size=256)
    builder = builder.request(transport).get_updates_request(transport)
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    state_file = services.settings.telegram.state_file
    if state_file is not None:
        # Conversation state (a /demand form half filled in) survives a restart.
        state_file.parent.mkdir(parents=True, exist_ok=True)
        builder = builder.persistence(FormPersistence(state_file, update_interval=5))
    limits = services.settings.telegram
    configure_sending(limits.send_retries)
    if rate_limiter:
        # Telegram's published limits by default (settings); 429 flood waits are retried.
        limiter = AIORateLimiter(
            overall_max_rate=limits.max_messages_per_second,
            overall_time_period=1,
            group_max_rate=limits.max_group_messages_per_minute,
            group_time_period=60,
            max_retries=limits.send_retries,
        )
        # PTB types the builder for a limiter without per-call arguments; AIORateLimiter takes a dict.
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    app: TelegramApp = builder.build()
    handlers, staff = build_handlers(services)
    app.add_handlers(handlers)
    app.add_error_handler(ErrorHandler(services))
    schedule_jobs(app, services, staff)
    return app


def _knowledge_watch(services: Services) -> Any:
    async def job(_: object) -> None:
        problems = await services.knowledge.reload_if_changed()
        if problems is None:
            return
        if problems:
            logger.error("knowledge base changed but has %d problems; keeping the last good one:"
                         " %s", len(problems), problems[0])  # fmt: skip
        else:
            logger.info("knowledge base changed on disk; reloaded (%d entries)",
                        len(services.knowledge.kb))  # fmt: skip

    return job


def schedule_jobs(app: TelegramApp, services: Services, staff: StaffHandlers) -> None:
    """The knowledge-base watch; SLA reminders and the daily digest at ``digest_time``.

    Their state (when a ticket was last re-announced, which days' digests went out) is in the
    database, so after a restart the jobs pick up where they left off: a digest whose time
    passed while the bot was down is sent shortly after start.
    """
    watch = services.settings.knowledge.watch_seconds
    if watch and app.job_queue is not None:
        app.job_queue.run_repeating(
            _knowledge_watch(services), interval=watch, first=watch, name="knowledge-watch"
        )
    settings = services.settings.staff
    if settings.chat_id is None or app.job_queue is None:
        return
    app.job_queue.run_repeating(
        staff.remind_job,
        interval=settings.reminder_check_seconds,
        first=settings.reminder_check_seconds,
        name="sla-reminders",
    )
    hour, minute = (int(part) for part in settings.digest_time.split(":"))
    zone = ZoneInfo(settings.timezone)
    app.job_queue.run_daily(
        staff.digest_job, time=dt.time(hour, minute, tzinfo=zone), name="daily-digest"
    )
    if dt.datetime.now(zone).time() >= dt.time(hour, minute):
        app.job_queue.run_once(staff.digest_job, when=5, name="daily-digest-catch-up")


def run(settings: Settings, services: Services, *, webhook: bool = False) -> None:
    """Runs the bot until SIGINT/SIGTERM: long polling, or the webhook server behind a proxy.

    Raises:
        StartupError: the token was rejected or the Bot API cannot be reached.
    """
    assert settings.telegram.token is not None
    base = settings.telegram.base_url
    app = build_application(
        services,
        token=settings.telegram.token.get_secret_value(),
        base_url=base,
        base_file_url=base.replace("/bot", "/file/bot") if base.endswith("/bot") else None,
    )
    t = texts()
    settle_heap()
    try:
        if webhook or settings.telegram.webhook_url:
            _run_webhook(app, settings)
        else:
            run_loop(poll(app, settings))
    except InvalidToken:
        raise StartupError(t.t("startup.token_rejected")) from None
    except NetworkError as exc:
        reason = _reason(exc)
        raise StartupError(t.t("startup.unreachable", url=_origin(base), reason=reason)) from None
    except TelegramError as exc:
        raise StartupError(t.t("startup.telegram_error", reason=_reason(exc))) from None


def settle_heap() -> None:
    """Moves everything loaded so far out of the garbage collector's sight (``gc.freeze``).

    The knowledge base, the matcher's index and jieba's dictionary are some 150,000 objects
    that live as long as the process. Every full collection walked them all: at 150 messages a
    second that was 13 pauses of about 100 ms in 9,000 messages (1.4 s in all; bench_load,
    SQLite). Frozen, each full collection takes about 17 ms. Called once before serving; a
    knowledge base swapped in by ``/reload`` is collected as usual until the next start.
    """
    gc.collect()
    gc.freeze()


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Runs a server's event loop on uvloop where it is installed, else on asyncio's own.

    uvloop (libuv under the asyncio interface) is what uvicorn and aiohttp deployments use; for
    the bot it cut the CPU per reply by about 4 % (bench_load, SQLite, at 200 messages a second
    and as fast as replies come), headroom on a one-core budget. Nothing else changes: signals,
    tasks and the sockets python-telegram-bot opens behave as on the standard loop.
    """
    try:
        import uvloop
    except ImportError:  # a platform without it (Windows): the standard loop serves as well
        asyncio.run(main)
        return
    uvloop.run(main)


def _reason(exc: BaseException) -> str:
    """The error's own words, without the secret-bearing URL httpx sometimes appends."""
    text = str(exc).split(" for url ", 1)[0]
    return text if len(text) <= 200 else text[:200] + "…"


def _origin(url: str) -> str:
    """``https://api.telegram.org`` of a base URL, never a path that could carry a token."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else url


def _run_webhook(app: TelegramApp, settings: Settings) -> None:
    telegram = settings.telegram
    if not telegram.webhook_url or telegram.webhook_secret is None:
        raise StartupError(texts().t("cli.webhook_needs"))
    run_loop(serve_webhook(app, settings))


@contextlib.asynccontextmanager
async def _started(app: TelegramApp) -> AsyncIterator[None]:
    """The application initialized and started, then stopped and shut down in order."""
    try:
        await app.initialize()
    except BaseException:
        # A rejected token or no network: PTB leaves its HTTP client open on this path.
        await app.bot.request.shutdown()
        raise
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            yield
        finally:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def serve_webhook(app: TelegramApp, settings: Settings) -> None:
    """The webhook server (``handlers.webhook``) until SIGINT/SIGTERM.

    A stop signal ends accepting; the updates in hand are finished and acknowledged, then the
    application is shut down in order. The webhook stays registered with Telegram, which
    keeps new updates until the bot is back.
    """
    import uvicorn

    telegram = settings.telegram
    assert telegram.webhook_url is not None and telegram.webhook_secret is not None
    secret = telegram.webhook_secret.get_secret_value()
    endpoint = WebhookEndpoint(
        app,
        secret=secret,
        max_body_bytes=telegram.max_webhook_body_bytes,
        concurrency=telegram.concurrent_updates,
    )
    config = uvicorn.Config(
        webhook_app(endpoint),
        host=telegram.webhook_listen,
        port=telegram.webhook_port,
        server_header=False,
        lifespan="off",
        log_config=None,  # through our logging, whose filter redacts secrets
        log_level="warning",
        access_log=False,
    )
    server = _console_server(uvicorn.Server)(config)
    async with _started(app):
        await app.bot.set_webhook(
            url=telegram.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
        logger.info("webhook on %s:%d", telegram.webhook_listen, telegram.webhook_port)
        await server.serve()
    logger.info("stopped after %d updates (%d unparseable)", endpoint.handled, endpoint.skipped)


async def poll(app: TelegramApp, settings: Settings) -> None:
    """Long polling with ``Poller`` (updates confirmed only once handled) until a stop signal.

    SIGINT/SIGTERM end the fetching; the updates in hand are finished, confirmed, and the
    application is shut down in order (jobs, persistence, the inquiry log).
    """
    journal = Spool(default_spool_path(settings.database.url, "updates"))
    poller = Poller(app, concurrency=settings.telegram.concurrent_updates, journal=journal)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, poller.stop)
    async with _started(app):
        await app.bot.delete_webhook(drop_pending_updates=False)
        try:
            await poller.run()
        finally:
            await poller.confirm()
    logger.info("stopped after %d updates (%d unparseable)", poller.handled, poller.skipped)


@contextlib.asynccontextmanager
async def telegram_bot_for(settings: Settings) -> AsyncIterator[Bot | None]:
    """A Bot of its own for processes other than the bot (the web console, the CLI).

    ``None`` when no token is set or the Bot API cannot be reached.
    """
    token = settings.telegram.token
    if token is None:
        yield None
        return
    bot = Bot(
        token.get_secret_value(), base_url=settings.telegram.base_url, request=AiohttpRequest()
    )
    try:
        await bot.initialize()
    except TelegramError as exc:
        await bot.request.shutdown()
        logger.warning("the Bot API cannot be reached (%s); replies are stored only", exc)
        yield None
        return
    try:
        yield bot
    finally:
        await bot.shutdown()


@contextlib.asynccontextmanager
async def telegram_reach_for(settings: Settings) -> AsyncIterator[Reach | None]:
    """A ``Reach`` to Telegram users (``None`` without a bot): replies are then only stored."""
    async with telegram_bot_for(settings) as bot:
        yield telegram_reach(bot) if bot is not None else None


@dataclass
class Channels:
    """How a process other than the bot reaches people and specialists."""

    reach: Reach
    """Telegram users through the Bot API (when a token is set); web-chat visitors always."""
    staff: StaffChannel | None
    """The staff group (when a token and ``staff.chat_id`` are set)."""


@contextlib.asynccontextmanager
async def channels_for(settings: Settings, services: Services) -> AsyncIterator[Channels]:
    async with telegram_bot_for(settings) as bot:
        telegram = telegram_reach(bot) if bot is not None else None
        staff: StaffChannel | None = None
        notifier = None
        if bot is not None and settings.staff.chat_id is not None:
            notifier = StaffNotifier(services)
            staff = TelegramStaff(notifier, bot)
        try:
            yield Channels(either(web_reach(services.log), telegram), staff)
        finally:
            if notifier is not None:
                await notifier.outbox.drain(timeout=10)


def _console_server(base: type[Any]) -> type[Any]:
    """uvicorn's server without re-raising Ctrl-C after its graceful stop.

    uvicorn raises the captured signal again once it has stopped; inside ``asyncio.run`` that
    cancels the closing of the inquiry log and prints a traceback. Stopping is all we want.
    """

    class ConsoleServer(base):  # type: ignore[misc]
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            stops = (signal.SIGINT, signal.SIGTERM)
            originals = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
            try:
                yield
            finally:
                for sig, handler in originals.items():
                    signal.signal(sig, handler)

    return ConsoleServer


def serve_console(
    settings: Settings, services: Services, *, host: str | None = None, port: int | None = None
) -> None:
    """Runs the staff console and the web chat until Ctrl-C."""
    import uvicorn

    from bot.web.app import create_app

    web = settings.web

    async def serve() -> None:
        await services.open()
        try:
            async with channels_for(settings, services) as channels:
                config = uvicorn.Config(
                    create_app(services, channels.reach, channels.staff),
                    host=host or web.host,
                    port=port or web.port,
                    proxy_headers=web.trust_proxy_headers,
                    forwarded_allow_ips="*" if web.trust_proxy_headers else None,
                    server_header=False,
                    lifespan="off",  # the services are opened and closed around the server
                    log_config=None,  # through our logging, whose filter redacts secrets
                    log_level="warning",
                    access_log=False,
                )
                server = _console_server(uvicorn.Server)(config)
                logger.info("staff console on http://%s:%d", config.host, config.port)
                await server.serve()
        finally:
            await services.close()

    run_loop(serve())
