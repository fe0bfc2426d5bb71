"""What every console page shares: the services, the person's channel, templates, language.

The console is one more adapter over ``Services`` (as Telegram and the CLI are): pages read the
inquiry log and the desk, actions call the same desk functions the staff group uses, and the
strings come from the locale files (``web.*``), Chinese unless the browser prefers English.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.chat.turns import StaffChannel
from bot.desk.accounts import Accounts
from bot.desk.audit import Audit
from bot.desk.canned import CannedReplies
from bot.desk.delivery import Reach
from bot.desk.staff_desk import StaffDesk
from bot.services import Services
from bot.texts import Texts, language_for, texts
from bot.web.security import Staff

__all__ = ["Console", "page_number", "request_texts"]

HERE = Path(__file__).resolve().parent


def page_number(request: Request) -> int:
    """The ``page`` query parameter (0 when missing or not a plain number; at most 100,000)."""
    raw = request.query_params.get("page", "0")
    return min(int(raw), 100_000) if raw.isdigit() and len(raw) < 12 else 0


def request_texts(request: Request) -> Texts:
    """The browser's first language preference, mapped to ``zh`` or ``en``."""
    header = request.headers.get("accept-language", "")
    first = header.split(",", 1)[0].split(";", 1)[0].strip()
    return texts(language_for(first or None))


@dataclass
class Console:
    """The console's long-lived parts, built once by ``create_app``."""

    services: Services
    reach: Reach | None = None
    telegram: bool = False
    """Whether ``reach`` includes Telegram (a bot token is set), not only the web chat."""
    staff: StaffChannel | None = None
    """The staff group, whose ticket cards are redrawn when a ticket changes here."""
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["local"] = self.local_time

    @property
    def accounts(self) -> Accounts:
        return self.services.accounts

    @property
    def desk(self) -> StaffDesk:
        return self.services.desk

    @property
    def audit(self) -> Audit:
        return Audit(self.services.log.sessions)

    @property
    def canned(self) -> CannedReplies:
        return CannedReplies(self.services.log.sessions)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.services.settings.staff.timezone)

    def local_time(self, when: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        return when.astimezone(self.zone).strftime(pattern) if when is not None else "—"

    def page(
        self,
        request: Request,
        template: str,
        staff: Staff | None,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """Renders a page with the language, the specialist and the CSRF token for its forms."""
        t = request_texts(request)
        html = self.env.get_template(template).render(
            t=t.t,
            lang=t.language,
            staff=staff,
            csrf=staff.session.csrf_token if staff else context.pop("login_csrf", ""),
            path=request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)
