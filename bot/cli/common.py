"""What every ``talentbot`` command shares: settings, the knowledge base, the inquiry log."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from bot.log.db import describe_url
from bot.log.inquiry_log import InquiryLog
from bot.logging_config import install_excepthook, redact, secrets_of
from bot.settings import Settings, SettingsError, load_settings, unknown_environment
from bot.texts import texts
from knowledge.loader import KnowledgeBaseError
from knowledge.service import KnowledgeService

__all__ = [
    "database_error",
    "err",
    "get_settings",
    "knowledge_service",
    "local_midnight",
    "open_log",
    "state",
    "warn_unfilled_office",
]

err = Console(stderr=True, highlight=False, soft_wrap=True)


class _State:
    settings_path: Path | None = None


state = _State()


def get_settings() -> Settings:
    """Loads settings or exits with status 2 and every problem."""
    try:
        settings = load_settings(state.settings_path)
    except SettingsError as exc:
        err.print(texts().t("settings.invalid"), style="red", markup=False)
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    # From here on, whatever Python prints for an uncaught exception has the secrets redacted.
    install_excepthook(secrets_of(settings))
    unknown = unknown_environment()
    if unknown:
        sections = ", ".join(Settings.model_fields)
        err.print(
            texts().t("settings.unknown_env", names=", ".join(unknown), sections=sections),
            markup=False,
        )
    return settings


def warn_unfilled_office(settings: Settings) -> None:
    """Names, once, each office contact setting still showing 【待填写】 to people."""
    missing = settings.office.unfilled()
    if missing:
        err.print(texts().t("settings.unfilled", keys="、".join(missing)), markup=False)


def knowledge_service(settings: Settings) -> KnowledgeService:
    """Loads the knowledge base or exits with status 1 listing its problems."""
    service = KnowledgeService(
        settings.knowledge.dir,
        seeds_dir=settings.knowledge.seeds_dir,
        config=settings.matching.to_config(),
        cache_dir=settings.knowledge.cache_dir,
        on_fit=lambda entries: err.print(texts().t("cli.fitting", entries=entries), markup=False),
    )
    try:
        service.load()
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        raise typer.Exit(1) from exc
    return service


async def open_log(settings: Settings) -> InquiryLog:
    """Opens the inquiry log (upgrading its schema) or exits with status 1."""
    try:
        return await InquiryLog.open(settings.database.url, echo=settings.database.echo)
    except Exception as exc:
        database_error(settings, exc)
        raise typer.Exit(1) from exc


def database_error(settings: Settings, exc: BaseException) -> None:
    """Says in one line, without its password, that the database could not be opened."""
    reason = redact(_first_line(exc), secrets_of(settings))
    url = describe_url(settings.database.url)
    err.print(texts().t("startup.database_unreachable", url=url, reason=reason), markup=False)


def _first_line(exc: BaseException) -> str:
    """The gist of an error: its first line (SQLAlchemy appends SQL and a link), shortened."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= 200 else text[:200] + "…"


def local_midnight(day: datetime | None, timezone: str) -> datetime | None:
    """``--since 2026-11-01`` means that midnight in the office's time zone."""
    if day is None:
        return None
    return day.replace(tzinfo=ZoneInfo(timezone))
