"""Settings: ``settings.yaml`` plus ``TALENTBOT_<SECTION>__<KEY>`` environment overrides.

Everything a deploying office tunes lives here and is validated at start-up: unknown keys and
bad values are errors that name the file, the line and the key (or the environment variable),
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from knowledge.loader import DEFAULT_KB_DIR
from knowledge.matcher import MatchConfig
from knowledge.yamlsource import Located, YamlSyntaxError, load_located

__all__ = ["PROJECT_ROOT", "Settings", "SettingsError", "load_settings", "unknown_environment"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "TALENTBOT_"
PLACEHOLDER = "【待填写】"


class SettingsError(Exception):
    """Settings are invalid; the message lists every problem, one per line."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class KnowledgeSettings(_Section):
    """Where the knowledge base and its source documents are."""

    dir: Path = DEFAULT_KB_DIR
    seeds_dir: Path = PROJECT_ROOT.parent / "shared" / "seeds"
    cache_dir: Path | None = Path("data/cache")
    """Fitted models by a fingerprint of the KB, so restarts skip the fitting; null: no cache."""
    watch_seconds: float = Field(30, ge=0, le=86_400)
    """The running bot reloads the knowledge base this often when its files changed; 0: never."""


class MatchingSettings(_Section):
    """When to answer, offer "您是不是想问" or hand over (confidences are in [0, 1]).

    The matcher estimates how likely its best entry is right (a model fitted on the knowledge
    base's own questions, each held out in turn: ``knowledge.calibration``); it answers from
    ``answer_confidence`` and offers choices from ``suggest_confidence``. Raise
    ``answer_confidence`` for fewer wrong answers and more choices.
    """

    answer_confidence: float = Field(MatchConfig.answer_confidence, ge=0, le=1)
    suggest_confidence: float = Field(MatchConfig.suggest_confidence, ge=0, le=1)
    max_suggestions: int = Field(MatchConfig.max_suggestions, ge=1, le=5)

    @model_validator(mode="after")
    def _ordered(self) -> MatchingSettings:
        if self.suggest_confidence > self.answer_confidence:
            raise ValueError("suggest_confidence must not exceed answer_confidence")
        return self

    def to_config(self) -> MatchConfig:
        """The matcher's configuration with these settings."""
        return MatchConfig(
            answer_confidence=self.answer_confidence,
            suggest_confidence=self.suggest_confidence,
            max_suggestions=self.max_suggestions,
        )


class ConversationSettings(_Section):
    """How the bot reads a message in its conversation."""

    follow_up_minutes: float = Field(10, gt=0, le=24 * 60)
    """A follow-up ("那怎么申请") refers to the entry answered within this many minutes."""


class OfficeSettings(_Section):
    """Contact details the deploying office fills in; answers show them via placeholders."""

    name: str = Field("区人才工作办公室（人才办）", min_length=1)
    phone: str = Field(f"{PLACEHOLDER}咨询电话", min_length=1)
    address: str = Field(f"{PLACEHOLDER}办公地址", min_length=1)
    hours: str = Field(f"{PLACEHOLDER}办公时间", min_length=1)

    def unfilled(self) -> list[str]:
        """The keys still holding the 【待填写】 placeholder, as ``office.<key>``."""
        return [
            f"office.{key}"
            for key in ("name", "phone", "address", "hours")
            if PLACEHOLDER in getattr(self, key)
        ]

    def placeholders(self) -> dict[str, str]:
        """Values for ``{office_*}`` placeholders in answers."""
        return {
            "office_name": self.name,
            "office_phone": self.phone,
            "office_address": self.address,
            "office_hours": self.hours,
        }


class DatabaseSettings(_Section):
    """The inquiry log's database."""

    url: str = Field("sqlite+aiosqlite:///data/talentbot.sqlite3", repr=False)
    """May carry a password: kept out of ``repr`` (logs show ``describe_url`` instead)."""
    echo: bool = False
    retention_days: int = Field(365, ge=1)


class TelegramSettings(_Section):
    """Bot API access; the token only ever comes from the environment."""

    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    state_file: Path | None = None
    """Where half-finished forms (/demand) are kept across restarts; none: in memory only."""
    max_messages_per_second: float = Field(30, gt=0, le=1_000_000)
    """All sending together (Telegram's published limit; raise only against a test server)."""
    max_group_messages_per_minute: float = Field(20, gt=0, le=1_000_000)
    """Per group chat, e.g. staff-group cards (Telegram's published limit)."""
    send_retries: int = Field(3, ge=0, le=10)
    """Retries of a send that failed on the network or a 429 flood wait; refusals never retry."""
    max_webhook_body_bytes: int = Field(1_048_576, ge=1024, le=100 * 1_048_576)
    """A webhook request with a longer body is refused (413) without being read whole."""
    concurrent_updates: int = Field(64, ge=1, le=1024)
    """Updates handled at once; one person's messages are still handled in order."""

    @field_validator("token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``TALENTBOT_TELEGRAM__TOKEN=`` (set but empty) means no token: the console chat."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        """A token is ``<digits>:<secret>``; anything else would only fail later, less clearly."""
        if value is not None:
            bot_id, colon, secret = value.get_secret_value().strip().partition(":")
            if not (bot_id.isascii() and bot_id.isdigit() and colon and secret):
                raise ValueError("not a bot token (expected <digits>:<secret>, from @BotFather)")
            # Stray whitespace (a pasted token) would be sent, and would escape redaction.
            return SecretStr(f"{bot_id}:{secret}")
        return value


class StaffSettings(_Section):
    """Who the specialists are and how they are reminded."""

    user_ids: list[int] = Field(default_factory=list)
    names: dict[int, str] = Field(default_factory=dict)
    """Optional display names of specialists (else their Telegram names)."""
    chat_id: int | None = None
    sla_hours: float = Field(24, gt=0)
    reminder_check_seconds: float = Field(600, gt=0)
    digest_time: str = Field("08:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value


class WebSettings(_Section):
    """The staff web console (``talentbot web``)."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    trust_proxy_headers: bool = False
    """Honour X-Forwarded-For/-Proto only behind a reverse proxy that sets them."""
    session_hours: float = Field(12, gt=0, le=24 * 30)
    """A sign-in lasts this long; logout and disabling the account end it at once."""
    lockout_attempts: int = Field(5, ge=1, le=100)
    """Failed sign-ins in a row before the account is held off for ``lockout_minutes``."""
    lockout_minutes: float = Field(15, gt=0, le=24 * 60)
    page_size: int = Field(50, ge=10, le=500)
    chat: bool = True
    """Serve the public web chat at /chat (no sign-in) beside the console."""
    chat_origins: list[str] = Field(default_factory=list)
    """Sites that may embed the chat (https://www.example.gov.cn); none: only this site."""
    chat_secret: SecretStr | None = None
    """Signs the chat's anonymous cookie; from TALENTBOT_WEB__CHAT_SECRET, else one is generated
    and kept in data/chat_secret (readable by the owner only)."""
    chat_max_chars: int = Field(1000, ge=10, le=10_000)
    """A longer chat message is refused with a notice (the composer stops there too)."""
    chat_per_address_per_minute: float = Field(60, gt=0, le=1_000_000)
    """Chat messages from one network address a minute (many people may share one address)."""
    chat_poll_seconds: float = Field(5, ge=1, le=300)
    """How often an open chat page asks for a specialist's replies."""

    @field_validator("chat_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.startswith(("https://", "http://")) or " " in value or "'" in value:
                raise ValueError(f"{value!r} is not an origin like https://www.example.gov.cn")
        return values


class LimitsSettings(_Section):
    """What one message and one person may cost the bot."""

    match_chars: int = Field(1000, ge=10, le=100_000)
    """A longer message is matched on its start (and stored whole up to ``store_chars``)."""
    store_chars: int = Field(20_000, ge=100, le=1_000_000)
    """Messages are stored up to this many characters; the rest is cut with a note."""
    messages_per_minute: float = Field(20, gt=0, le=1_000_000)
    """Per person: past this rate one polite notice, then messages are logged but not matched."""
    burst: int = Field(5, ge=1, le=1_000_000)
    """Messages a person may send at once before the per-minute rate applies."""

    @model_validator(mode="after")
    def _ordered(self) -> LimitsSettings:
        if self.match_chars > self.store_chars:
            raise ValueError("match_chars must not exceed store_chars")
        return self


class LoggingSettings(_Section):
    """Log verbosity."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(BaseSettings):
    """All settings. Build with ``load_settings``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    matching: MatchingSettings = Field(default_factory=MatchingSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)
    office: OfficeSettings = Field(default_factory=OfficeSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    staff: StaffSettings = Field(default_factory=StaffSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then the file's values (passed as init arguments), then defaults."""
        return env_settings, init_settings


def _settings_path(path: Path | None) -> Path | None:
    if path is not None:
        return path
    named = os.environ.get(f"{ENV_PREFIX}SETTINGS")
    if named:
        return Path(named)
    default = PROJECT_ROOT / "settings.yaml"
    return default if default.exists() else None


def _env_name(loc: tuple[str | int, ...]) -> str:
    return ENV_PREFIX + "__".join(str(p).upper() for p in loc)


def _from_environment(loc: tuple[str | int, ...]) -> str | None:
    """The environment variable that set ``loc`` (or, for a whole-section error, one in it)."""
    names = {name.upper(): name for name in os.environ}
    env = _env_name(loc)
    if env in names:
        return names[env]
    if len(loc) == 1:
        section = _env_name(loc) + "__"
        inside = sorted(name for upper, name in names.items() if upper.startswith(section))
        if inside:
            return ", ".join(inside)
    return None


def unknown_environment() -> list[str]:
    """``TALENTBOT_*`` variables naming no section (``TALENTBOT_MATCHINGG__X``): likely typos.

    pydantic-settings ignores a variable whose section does not exist, so without this a
    misspelt override would silently change nothing.
    """
    sections = {name.upper() for name in Settings.model_fields}
    unknown = []
    for name in os.environ:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper == f"{ENV_PREFIX}SETTINGS":
            continue
        section = upper[len(ENV_PREFIX) :].split("__", 1)[0]
        if section not in sections:
            unknown.append(name)
    return sorted(unknown)


def _describe(exc: ValidationError, located: Located | None) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        from_env = _from_environment(loc)
        if from_env:
            lines.append(f"environment {from_env}: {key}: {message}")
        elif located is not None and loc and loc[0] in (located.data or {}):
            lines.append(
                f"{located.file}:{located.line_of(tuple(str(p) for p in loc))}: {key}: {message}"
            )
        else:
            lines.append(f"settings: {key}: {message}")
    return "\n".join(lines)


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    for attr in ("dir", "seeds_dir", "cache_dir"):
        value: Path | None = getattr(settings.knowledge, attr)
        if value is not None and not value.is_absolute():
            setattr(settings.knowledge, attr, (base / value).resolve())
    state = settings.telegram.state_file
    if state is not None and not state.is_absolute():
        settings.telegram.state_file = (base / state).resolve()
    url = settings.database.url
    prefix, sep, rest = url.partition(":///")
    if (
        sep
        and prefix.startswith("sqlite")
        and rest
        and not rest.startswith("/")
        and rest != ":memory:"
    ):
        settings.database.url = f"{prefix}:///{(base / rest).resolve()}"
    return settings


def load_settings(path: Path | None = None) -> Settings:
    """Reads settings from ``path`` (or ``$TALENTBOT_SETTINGS`` or ``./settings.yaml``) and env.

    Relative paths in the file are taken relative to the file's folder.

    Raises:
        SettingsError: naming file, line and key (or environment variable) of every problem.
    """
    file = _settings_path(path)
    located: Located | None = None
    if file is not None:
        if not file.exists():
            raise SettingsError(f"{file}: settings file not found")
        try:
            located = load_located(file)
        except YamlSyntaxError as exc:
            raise SettingsError(str(exc)) from exc
        if located.data is not None and not isinstance(located.data, dict):
            raise SettingsError(f"{file}:1: settings must be a mapping of sections")
    data = dict(located.data or {}) if located else {}
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, located)) from exc
    base = file.resolve().parent if file is not None else PROJECT_ROOT
    return _resolve_paths(settings, base)
