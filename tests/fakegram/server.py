"""``FakeTelegram``: an in-process fake of the Telegram Bot API for end-to-end tests.

Why a fake server instead of mocks: the bot under test is the *real*
python-telegram-bot ``Application``. Pointing its ``base_url`` at this aiohttp
server on 127.0.0.1 exercises everything PTB really does (HTTP requests,
form/multipart encoding, JSON decoding, long polling, webhooks, error mapping
to ``telegram.error`` exceptions), while tests stay hermetic and fast. The npm
``telegram-test-api`` does not speak what PTB 22 sends, hence this module.

The fake has two faces:

* the **Bot API** (``/bot{token}/{method}``), answering exactly like Telegram
  (``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ...,
  "description": ...}``) and enforcing the rules that catch real bugs (HTML
  that does not parse, over-long or empty text, malformed keyboards, editing
  without change, stale callback queries);
* the **person side** (``user``, ``send_text``, ``tap``, ``wait_for_bot_message``
  ...), which builds genuine ``Update`` JSON and lets tests wait for the bot's
  reaction instead of sleeping.

Faults (429, 5xx, dropped connections, slow answers) can be injected per
method to test the bot's resilience.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal, NamedTuple, get_args

import aiohttp
from aiohttp import web

from tests.fakegram.markup import (
    MAX_CAPTION_LENGTH,
    ApiError,
    bad_request,
    check_reply_markup,
    inline_markup,
    render_text,
)
from tests.fakegram.people import JSON, FakeChat, FakeUser

DEFAULT_TOKEN: Final = "123456789:AAFakegramTokenForTests_0123456789abc"
"""A well-formed token; its numeric prefix becomes the bot's user id."""

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
"""Header Telegram uses to send the webhook ``secret_token``."""

FaultKind = Literal["429", "500", "drop", "slow"]
"""Injectable faults: rate limit, 5xx gateway error, dropped connection, delay."""

ChatRef = int | FakeChat | FakeUser
"""A chat given by id, by chat object, or by user (meaning their private chat)."""

MessagePredicate = Callable[[JSON], bool]

_NOT_MODIFIED: Final = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_STRING_FIELDS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "language_code",
        "action",
        "inline_message_id",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
        "file_id",
    }
)
_JSON_FIELDS: Final = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "reply_parameters",
        "entities",
        "caption_entities",
        "link_preview_options",
    }
)
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE_RE: Final = re.compile(r"^([a-z]{2})?$")
_SECRET_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class FakegramError(AssertionError):
    """A test used the fake wrongly or an expectation was not met (e.g. a wait timed out)."""


@dataclass(frozen=True)
class Fault:
    """One injected fault, consumed by the next matching request.

    Attributes:
        kind: What goes wrong (see :data:`FaultKind`).
        retry_after: Seconds announced in ``parameters.retry_after`` for ``"429"``.
        delay: Seconds to wait before answering normally for ``"slow"``.
    """

    kind: FaultKind
    retry_after: int = 1
    delay: float = 1.0
    chat_id: int | None = None


class RecordedRequest(NamedTuple):
    """A Bot API call as the fake received it (uploaded files appear by file name)."""

    method: str
    params: JSON


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class FakeDocument:
    """A document the bot sent with ``sendDocument``.

    Attributes:
        chat_id: Destination chat.
        message_id: The message carrying the document.
        file_id: Telegram-style id, usable with ``getFile`` and re-sending.
        file_name: File name as uploaded.
        content: The uploaded bytes.
        mime_type: Content type as uploaded.
        caption: Visible caption, if any.
    """

    chat_id: int
    message_id: int
    file_id: str
    file_name: str
    content: bytes
    mime_type: str
    caption: str | None


@dataclass(frozen=True)
class SentRequest:
    """What the bot asked for when it sent or last edited a message.

    Telegram's ``Message`` only carries the visible text and inline keyboards;
    this keeps the raw markup, the parse mode and any reply keyboard too.
    """

    text: str | None
    parse_mode: str | None
    reply_markup: JSON | None


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt of the fake to POST an update to the bot's webhook.

    Attributes:
        update_id: The delivered update.
        url: Where it was posted.
        status: HTTP status the webhook answered, ``None`` if the request failed.
        error: Failure description when ``status`` is ``None``.
    """

    update_id: int
    url: str
    status: int | None
    error: str | None = None


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True)
class _Call:
    method: str
    params: JSON
    files: dict[str, UploadedFile] = field(default_factory=dict)


_Handler = Callable[[_Call], Awaitable[Any]]


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        if key in _JSON_FIELDS:
            raise bad_request(f"can't parse {key} JSON object") from None
        return value


def _normalise_json_value(key: str, value: Any) -> Any:
    if key in _JSON_FIELDS and isinstance(value, str):
        return _decode_form_value(key, value)
    return value


async def _read_params(request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
    params: JSON = {key: _decode_form_value(key, v) for key, v in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        if not isinstance(body, dict):
            raise bad_request("request body must be a JSON object")
        params.update({key: _normalise_json_value(key, v) for key, v in body.items()})
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
            params[key] = f"<upload {value.filename}>"
        else:
            text = value.decode() if isinstance(value, (bytes, bytearray)) else value
            params[key] = _decode_form_value(key, text)
    return params, files


def _json_response(body: JSON, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _error_response(error: ApiError) -> web.Response:
    return _json_response(error.to_dict(), status=error.error_code)


def _chat_id_of(chat: ChatRef) -> int:
    return chat if isinstance(chat, int) else chat.id


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _command_entities(text: str) -> list[JSON]:
    if not text.startswith("/") or len(text) < 2:
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]


def _as_predicate(predicate: MessagePredicate | str | None) -> MessagePredicate:
    if predicate is None:
        return lambda _message: True
    if isinstance(predicate, str):
        needle = predicate
        return lambda message: needle in str(message.get("text", message.get("caption", "")))
    return predicate


def _update_type(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _free_socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def _without_nested_reply(message: JSON) -> JSON:
    shallow = copy.deepcopy(message)
    shallow.pop("reply_to_message", None)
    return shallow


class FakeTelegram:
    """A fake Telegram Bot API server plus the people who talk to the bot.

    Use it as ``async with FakeTelegram() as fake:`` and build the bot with
    ``ApplicationBuilder().token(fake.token).base_url(fake.base_url)
    .base_file_url(fake.base_file_url)``.

    Args:
        token: The bot token the fake accepts (others get 401 Unauthorized).
        first_name: The bot's display name returned by ``getMe``.
        username: The bot's username returned by ``getMe``.
        host: Loopback address to listen on.

    Attributes:
        requests: Every Bot API call received, in order.
        callback_answers: Parameters of every successful ``answerCallbackQuery``.
        chat_actions: Parameters of every ``sendChatAction``.
        webhook_deliveries: Every attempt to POST an update to the webhook.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        first_name: str = "TalentBot",
        username: str = "talentbot_test_bot",
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_first_name = first_name
        self.bot_username = username
        self.host = host
        self.requests: list[RecordedRequest] = []
        self.callback_answers: list[JSON] = []
        self.chat_actions: list[JSON] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self._chats: dict[int, FakeChat] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, list[JSON]] = {}
        self._next_message_id: dict[int, int] = {}
        self._sent: dict[tuple[int, int], SentRequest] = {}
        self._cursors: dict[int, int] = {}
        self._reply_keyboards: dict[int, JSON] = {}
        self._documents: list[FakeDocument] = []
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._pending: list[JSON] = []
        self._allowed_updates: list[str] | None = None
        self._webhook: _Webhook | None = None
        self._open_queries: set[str] = set()
        self._faults: dict[str, deque[Fault]] = {}
        self._update_ids = itertools.count(100_001)
        self._query_ids = itertools.count(4_000_000_001)
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._methods: dict[str, _Handler] = self._method_table()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeTelegram:
        """Start listening on a free loopback port.

        Returns:
            ``self``, for chaining.
        """
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = _free_socket(self.host)
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._closing = False
        return self

    async def stop(self) -> None:
        """Release pending long polls, stop background deliveries and the server."""
        self._closing = True
        await self._notify()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the fake listens on (only after :meth:`start`)."""
        if self._port is None:
            raise FakegramError("FakeTelegram is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url`` (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot as the ``from`` of its messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------- fault injection

    def inject(
        self,
        method: str,
        kind: FaultKind,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 1.0,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (only to ``chat_id``, if given).

        Faults for one method are consumed in the order they were injected.

        Args:
            method: Bot API method name (case-insensitive), e.g. ``"sendMessage"``,
                or ``"*"`` for any method.
            kind: ``"429"`` (Too Many Requests with ``parameters.retry_after``),
                ``"500"`` (502 Bad Gateway), ``"drop"`` (connection closed without
                an answer) or ``"slow"`` (answer normally after ``delay`` seconds).
            times: How many consecutive calls are affected.
            retry_after: Seconds announced by a ``"429"``.
            delay: Seconds of delay for ``"slow"``.
            chat_id: Only calls whose ``chat_id`` parameter is this chat are affected.

        Raises:
            ValueError: For an unknown ``kind``.
        """
        if kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {kind!r}; use one of {get_args(FaultKind)}")
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(Fault(kind, retry_after, delay, chat_id) for _ in range(times))

    def _next_fault(self, method: str, params: JSON) -> Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                    continue
                return queue.popleft()
        return None

    async def _apply_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse | None:
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return None
        if fault.kind == "429":
            seconds = fault.retry_after
            return _error_response(
                ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})
            )
        if fault.kind == "500":
            return _error_response(ApiError(502, "Bad Gateway"))
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            params, files = await _read_params(request)
        except ApiError as error:
            return _error_response(error)
        self.requests.append(RecordedRequest(method, params))
        await self._notify()
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        handler = self._methods.get(method.lower())
        if handler is None:
            return _error_response(ApiError(404, "Not Found"))
        fault = self._next_fault(method, params)
        if fault is not None:
            response = await self._apply_fault(request, fault)
            if response is not None:
                return response
        try:
            result = await handler(_Call(method, params, files))
        except ApiError as error:
            return _error_response(error)
        return _json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        document = self._document_by_file_id(file_id)
        if document is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(body=document.content, content_type=document.mime_type)

    def _method_table(self) -> dict[str, _Handler]:
        table: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "close": self._ok,
            "logOut": self._ok,
        }
        return {name.lower(): handler for name, handler in table.items()}

    # ------------------------------------------------------------ state plumbing

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(
        self, ready: Callable[[], bool], timeout: float, explain: Callable[[], str]
    ) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                raise FakegramError(f"after {timeout}s: {explain()}") from None

    def _register(self, chat: FakeChat) -> FakeChat:
        self._chats[chat.id] = chat
        self._messages.setdefault(chat.id, [])
        return chat

    def _chat(self, chat_id: Any) -> FakeChat:
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _find(self, chat_id: int, message_id: Any) -> JSON | None:
        for message in self._messages.get(chat_id, []):
            if message["message_id"] == message_id:
                return message
        return None

    def _envelope(self, chat: FakeChat, sender: JSON) -> JSON:
        message_id = self._next_message_id.get(chat.id, 1)
        self._next_message_id[chat.id] = message_id + 1
        return {
            "message_id": message_id,
            "from": sender,
            "chat": chat.to_dict(),
            "date": int(time.time()),
        }

    async def _store(self, message: JSON) -> JSON:
        self._messages.setdefault(message["chat"]["id"], []).append(message)
        await self._notify()
        return copy.deepcopy(message)

    def _new_update(self, kind: str, payload: JSON) -> JSON:
        return {"update_id": next(self._update_ids), kind: payload}

    async def _push_update(self, update: JSON) -> JSON:
        webhook = self._webhook
        if webhook is not None:
            await self._deliver(webhook, update)
        else:
            self._pending.append(update)
            await self._notify()
        return copy.deepcopy(update)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise FakegramError("FakeTelegram is not started")
        return self._session

    async def _post_json(self, url: str, payload: JSON, secret_token: str | None) -> int:
        headers = {SECRET_HEADER: secret_token} if secret_token is not None else {}
        async with self._http().post(url, json=payload, headers=headers) as response:
            await response.read()
            return response.status

    async def _deliver(self, webhook: _Webhook, update: JSON) -> WebhookDelivery:
        try:
            status = await self._post_json(webhook.url, update, webhook.secret_token)
            delivery = WebhookDelivery(update["update_id"], webhook.url, status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery = WebhookDelivery(update["update_id"], webhook.url, None, repr(exc))
        if delivery.status is None or delivery.status >= 300:
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = (
                delivery.error or f"Wrong response from the webhook: {delivery.status}"
            )
        self.webhook_deliveries.append(delivery)
        await self._notify()
        return delivery

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_pending(self, webhook: _Webhook) -> None:
        pending, self._pending = self._pending, []
        for update in pending:
            await self._deliver(webhook, update)

    # ------------------------------------------------------------ Bot API methods

    async def _ok(self, _call: _Call) -> bool:
        return True

    async def _get_me(self, _call: _Call) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if self._allowed_updates:
            allowed = set(self._allowed_updates)
            self._pending = [u for u in self._pending if _update_type(u) in allowed]

    async def _get_updates(self, call: _Call) -> list[JSON]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = call.params
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"] or []) or None
        self._confirm(int(params.get("offset") or 0))
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self._pending) or self._closing), timeout
                )
        return copy.deepcopy(self._pending[:limit])

    def _reply_target(self, chat_id: int, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
            allow = bool(params.get("allow_sending_without_reply"))
        else:
            return None
        target = self._find(chat_id, message_id)
        if target is None and not allow:
            raise bad_request("message to be replied not found")
        return None if target is None else _without_nested_reply(target)

    def _track_reply_keyboard(self, chat_id: int, markup: JSON | None) -> None:
        if markup is None:
            return
        if "keyboard" in markup:
            self._reply_keyboards[chat_id] = markup
        elif markup.get("remove_keyboard"):
            self._reply_keyboards.pop(chat_id, None)

    def _compose(self, chat: FakeChat, params: JSON) -> JSON:
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        reply_to = self._reply_target(chat.id, params)
        message = self._envelope(chat, self.bot_user)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        echoed = inline_markup(markup)
        if echoed is not None:
            message["reply_markup"] = echoed
        self._track_reply_keyboard(chat.id, markup)
        return message

    def _remember(self, message: JSON, text: Any, params: JSON) -> None:
        key = (message["chat"]["id"], message["message_id"])
        raw = None if text is None else str(text)
        self._sent[key] = SentRequest(raw, params.get("parse_mode"), params.get("reply_markup"))

    async def _send_message(self, call: _Call) -> JSON:
        params = call.params
        chat = self._chat(params.get("chat_id"))
        text = render_text(params.get("text"), params.get("parse_mode"))
        message = self._compose(chat, params)
        message["text"] = text
        self._remember(message, params.get("text"), params)
        return await self._store(message)

    def _editable(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by fakegram")
        chat = self._chat(params.get("chat_id"))
        message = self._find(chat.id, params.get("message_id"))
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _edit_markup(self, params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        return inline_markup(markup)

    async def _apply_edit(self, message: JSON, markup: JSON | None) -> JSON:
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        await self._notify()
        return copy.deepcopy(message)

    async def _edit_message_text(self, call: _Call) -> JSON:
        params = call.params
        message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text = render_text(params.get("text"), params.get("parse_mode"))
        markup = self._edit_markup(params)
        key = (message["chat"]["id"], message["message_id"])
        before = self._sent.get(key, SentRequest(None, None, None))
        old_state = (before.text, before.parse_mode, message["text"], message.get("reply_markup"))
        new_state = (str(params.get("text")), params.get("parse_mode"), text, markup)
        if old_state == new_state:
            raise bad_request(_NOT_MODIFIED)
        message["text"] = text
        self._remember(message, params.get("text"), params)
        return await self._apply_edit(message, markup)

    async def _edit_message_reply_markup(self, call: _Call) -> JSON:
        message = self._editable(call.params)
        markup = self._edit_markup(call.params)
        if message.get("reply_markup") == markup:
            raise bad_request(_NOT_MODIFIED)
        key = (message["chat"]["id"], message["message_id"])
        before = self._sent.get(key, SentRequest(None, None, None))
        self._sent[key] = SentRequest(before.text, before.parse_mode, markup)
        return await self._apply_edit(message, markup)

    async def _answer_callback_query(self, call: _Call) -> bool:
        params = call.params
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers.append(dict(params))
        await self._notify()
        return True

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        language = str(params.get("language_code") or "")
        if not _LANGUAGE_RE.match(language):
            raise bad_request("invalid language code specified")
        return json.dumps(scope, sort_keys=True), language

    @staticmethod
    def _check_commands(commands: Any) -> list[JSON]:
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(str(command.get("command"))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description") or "")) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        return [{"command": c["command"], "description": c["description"]} for c in commands]

    async def _set_my_commands(self, call: _Call) -> bool:
        commands = self._check_commands(call.params.get("commands"))
        self._commands[self._commands_key(call.params)] = commands
        return True

    async def _get_my_commands(self, call: _Call) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._commands_key(call.params), []))

    async def _delete_my_commands(self, call: _Call) -> bool:
        self._commands.pop(self._commands_key(call.params), None)
        return True

    async def _send_chat_action(self, call: _Call) -> bool:
        chat = self._chat(call.params.get("chat_id"))
        action = call.params.get("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append({"chat_id": chat.id, "action": action})
        await self._notify()
        return True

    def _document_by_file_id(self, file_id: str) -> FakeDocument | None:
        return next((d for d in self._documents if d.file_id == file_id), None)

    def _resolve_upload(self, call: _Call) -> UploadedFile:
        value = call.params.get("document")
        name = "document"
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
        upload = call.files.get(name)
        if upload is not None:
            if not upload.content:
                raise bad_request("file must be non-empty")
            return upload
        known = self._document_by_file_id(str(value)) if value is not None else None
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return UploadedFile(known.file_name, known.content, known.mime_type)

    async def _send_document(self, call: _Call) -> JSON:
        params = call.params
        chat = self._chat(params.get("chat_id"))
        upload = self._resolve_upload(call)
        raw_caption = params.get("caption")
        caption = None
        if raw_caption:
            caption = render_text(raw_caption, params.get("parse_mode"), limit=MAX_CAPTION_LENGTH)
        message = self._compose(chat, params)
        file_id = f"BQACAgFakegram{len(self._documents) + 1:04d}"
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": f"AgADFake{len(self._documents) + 1:04d}",
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_size": len(upload.content),
        }
        if caption is not None:
            message["caption"] = caption
        self._documents.append(
            FakeDocument(
                chat.id,
                message["message_id"],
                file_id,
                upload.filename,
                upload.content,
                upload.content_type,
                caption,
            )
        )
        self._remember(message, raw_caption, params)
        return await self._store(message)

    async def _get_file(self, call: _Call) -> JSON:
        document = self._document_by_file_id(str(call.params.get("file_id")))
        if document is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": document.file_id,
            "file_unique_id": document.file_id.replace("BQACAgFakegram", "AgADFake"),
            "file_size": len(document.content),
            "file_path": f"documents/{document.file_id}",
        }

    async def _set_webhook(self, call: _Call) -> bool:
        params = call.params
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self._webhook = None
            return True
        allowed = params.get("allowed_updates")
        self._webhook = _Webhook(
            url,
            None if secret is None else str(secret),
            int(params.get("max_connections") or 40),
            list(allowed) if allowed else None,
        )
        if self._pending:
            self._spawn(self._flush_pending(self._webhook))
        return True

    async def _delete_webhook(self, call: _Call) -> bool:
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = None
        return True

    async def _get_webhook_info(self, _call: _Call) -> JSON:
        webhook = self._webhook
        info: JSON = {
            "url": "" if webhook is None else webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if webhook is None:
            return info
        info["max_connections"] = webhook.max_connections
        if webhook.allowed_updates:
            info["allowed_updates"] = webhook.allowed_updates
        if webhook.last_error_date is not None:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
        return info

    # ---------------------------------------------------------------- person side

    def user(
        self,
        id: int,
        first_name: str,
        language_code: str | None = "zh-hans",
        username: str | None = None,
    ) -> FakeUser:
        """Create a person who can talk to the bot.

        Args:
            id: Telegram user id (positive).
            first_name: Display name.
            language_code: Client language Telegram reports in updates.
            username: Optional username.

        Returns:
            The user; their private chat is registered as well (they "started" the bot).
        """
        person = FakeUser(id, first_name, language_code, username)
        self.private_chat(person)
        return person

    def private_chat(self, user: FakeUser) -> FakeChat:
        """Register and return the private chat between ``user`` and the bot.

        Args:
            user: The person.

        Returns:
            The chat (its id equals the user id).
        """
        return self._register(FakeChat(user.id, "private", user=user))

    def group(self, chat_id: int, title: str, type: str = "group") -> FakeChat:
        """Register a group chat the bot is a member of.

        Args:
            chat_id: Negative group id, e.g. ``-1001``.
            title: Group title.
            type: ``"group"`` or ``"supergroup"``.

        Returns:
            The chat.
        """
        return self._register(FakeChat(chat_id, type, title=title))

    def block(self, user: FakeUser) -> None:
        """Make ``user`` block the bot: further sends to them get 403 Forbidden.

        Args:
            user: The person who blocks the bot.
        """
        self._blocked.add(user.id)

    def _person_chat(self, user: FakeUser, chat: FakeChat | None) -> FakeChat:
        return self._register(chat) if chat is not None else self.private_chat(user)

    async def _person_message(
        self, user: FakeUser, chat: FakeChat | None, reply_to: JSON | None, content: JSON
    ) -> JSON:
        target = self._person_chat(user, chat)
        message = self._envelope(target, user.to_dict())
        if reply_to is not None:
            current = self._find(target.id, reply_to["message_id"]) or reply_to
            message["reply_to_message"] = _without_nested_reply(current)
        message.update(content)
        stored = await self._store(message)
        return await self._push_update(self._new_update("message", stored))

    async def send_text(
        self,
        user: FakeUser,
        text: str,
        chat: FakeChat | None = None,
        reply_to: JSON | None = None,
    ) -> JSON:
        """Let ``user`` write ``text`` to the bot.

        A leading ``/command`` gets a ``bot_command`` entity, so PTB's
        ``CommandHandler`` recognises it.

        Args:
            user: The author.
            text: Message text.
            chat: Where it is written; defaults to the user's private chat.
            reply_to: A stored message this one replies to.

        Returns:
            The ``message`` update, after it was queued (polling) or POSTed (webhook).
        """
        content: JSON = {"text": text}
        entities = _command_entities(text)
        if entities:
            content["entities"] = entities
        return await self._person_message(user, chat, reply_to, content)

    async def send_update(self, kind: str, payload: JSON) -> JSON:
        """Queue an update of any kind (``edited_message``, ``inline_query``, ``poll``…) as is.

        Args:
            kind: The update's field name.
            payload: Its object, exactly as the Bot API would send it.

        Returns:
            The update.
        """
        return await self._push_update(self._new_update(kind, payload))

    async def send_message_with(
        self, user: FakeUser, content: JSON, chat: FakeChat | None = None
    ) -> JSON:
        """Let ``user`` send a message with arbitrary content (a sticker, a photo, a location…).

        Args:
            user: The author.
            content: The message's content fields, e.g. ``{"sticker": {...}}``.
            chat: Defaults to the user's private chat.

        Returns:
            The ``message`` update.
        """
        return await self._person_message(user, chat, None, content)

    async def send_contact(self, user: FakeUser, phone: str, chat: FakeChat | None = None) -> JSON:
        """Let ``user`` share their own contact (as a ``request_contact`` button does).

        Args:
            user: The person sharing.
            phone: Phone number, e.g. ``"+8613800000000"``.
            chat: Defaults to the user's private chat.

        Returns:
            The ``message`` update carrying a ``contact``.
        """
        contact: JSON = {"phone_number": phone, "first_name": user.first_name, "user_id": user.id}
        return await self._person_message(user, chat, None, {"contact": contact})

    def _current(self, message: JSON) -> JSON:
        current = self._find(message["chat"]["id"], message["message_id"])
        if current is None:
            raise FakegramError(f"message {message['message_id']} is not known to the fake")
        return current

    async def tap(self, user: FakeUser, message: JSON, button: str) -> JSON:
        """Let ``user`` press an inline button of a bot message.

        Args:
            user: Who taps.
            message: The bot message (its current, possibly edited, version is used).
            button: The button's text or its ``callback_data``.

        Returns:
            The ``callback_query`` update.

        Raises:
            FakegramError: If the message has no such callback button.
        """
        current = self._current(message)
        rows = (current.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [b for row in rows for b in row]
        chosen = next((b for b in buttons if b.get("text") == button), None)
        chosen = chosen or next((b for b in buttons if b.get("callback_data") == button), None)
        if chosen is None or "callback_data" not in chosen:
            labels = [(b.get("text"), b.get("callback_data")) for b in buttons]
            raise FakegramError(
                f"no callback button {button!r} on message {current['message_id']}: {labels}"
            )
        return await self.tap_raw(user, current, str(chosen["callback_data"]))

    async def tap_raw(self, user: FakeUser, message: JSON, data: str) -> JSON:
        """Send a ``callback_query`` with arbitrary (possibly forged) ``data``.

        Args:
            user: Who taps.
            message: The message the query claims to come from.
            data: The ``callback_data`` to send.

        Returns:
            The ``callback_query`` update.
        """
        found = self._find(message["chat"]["id"], message["message_id"])
        query_id = str(next(self._query_ids))
        self._open_queries.add(query_id)
        query: JSON = {
            "id": query_id,
            "from": user.to_dict(),
            "message": copy.deepcopy(found if found is not None else message),
            "chat_instance": str(abs(message["chat"]["id"]) * 7919),
            "data": data,
        }
        return await self._push_update(self._new_update("callback_query", query))

    async def post_to_webhook(self, payload: JSON, secret_token: str | None) -> int:
        """POST an arbitrary payload to the current webhook, e.g. with a wrong secret.

        Args:
            payload: JSON body.
            secret_token: Header value to send, or ``None`` to omit the header.

        Returns:
            The HTTP status the webhook answered.
        """
        if self._webhook is None:
            raise FakegramError("no webhook is set")
        return await self._post_json(self._webhook.url, payload, secret_token)

    # ---------------------------------------------------------------- inspection

    def messages(self, chat: ChatRef) -> list[JSON]:
        """All messages in a chat, the person's and the bot's, oldest first.

        Args:
            chat: Chat id, chat or user (private chat).

        Returns:
            Copies of the stored ``Message`` objects (current, edited versions).
        """
        return copy.deepcopy(self._messages.get(_chat_id_of(chat), []))

    def bot_messages(self, chat: ChatRef) -> list[JSON]:
        """Messages the bot sent to a chat, oldest first.

        Args:
            chat: Chat id, chat or user.

        Returns:
            Copies of the bot's ``Message`` objects.
        """
        return [m for m in self.messages(chat) if m["from"]["id"] == self.bot_id]

    def last_bot_message(self, chat: ChatRef) -> JSON:
        """The bot's most recent message in a chat.

        Args:
            chat: Chat id, chat or user.

        Returns:
            The message.

        Raises:
            FakegramError: If the bot has not written to the chat.
        """
        sent = self.bot_messages(chat)
        if not sent:
            raise FakegramError(f"the bot has sent nothing to chat {_chat_id_of(chat)}")
        return sent[-1]

    def _take_bot_message(self, chat_id: int, predicate: MessagePredicate) -> JSON | None:
        stored = self._messages.get(chat_id, [])
        for index in range(self._cursors.get(chat_id, 0), len(stored)):
            message = stored[index]
            if message["from"]["id"] == self.bot_id and predicate(message):
                self._cursors[chat_id] = index + 1
                return message
        return None

    async def wait_for_bot_message(
        self,
        chat: ChatRef,
        predicate: MessagePredicate | str | None = None,
        timeout: float = 5.0,
    ) -> JSON:
        """Wait for the next bot message in a chat not returned by an earlier call.

        Each chat has a cursor: a message is returned at most once, and messages
        before the returned one (matching or not) are skipped by later calls.
        Calling this after ``send_text`` is therefore race-free even if the bot
        already answered.

        Args:
            chat: Chat id, chat or user.
            predicate: ``None`` for any message, a substring of the text/caption,
                or a function of the ``Message`` JSON.
            timeout: Seconds to wait.

        Returns:
            A copy of the matching message.

        Raises:
            FakegramError: If no matching message arrives in time.
        """
        chat_id = _chat_id_of(chat)
        match = _as_predicate(predicate)
        found: list[JSON] = []

        def ready() -> bool:
            hit = self._take_bot_message(chat_id, match)
            if hit is not None:
                found.append(hit)
            return hit is not None

        def explain() -> str:
            texts = [m.get("text", m.get("caption")) for m in self.bot_messages(chat_id)]
            return f"no new matching bot message in chat {chat_id}; bot messages: {texts}"

        await self._wait(ready, timeout, explain)
        return copy.deepcopy(found[0])

    async def wait_until(
        self, condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``condition()`` holds; it is re-checked on every change of the fake.

        Args:
            condition: Checked after each request, delivery or stored message.
            timeout: Seconds to wait.
            what: Description used in the failure message.

        Raises:
            FakegramError: If the condition does not hold in time.
        """
        await self._wait(condition, timeout, lambda: f"{what} did not become true")

    def sent_request(self, message: JSON) -> SentRequest:
        """The raw text, parse mode and full markup the bot used for a message.

        Args:
            message: A bot message.

        Returns:
            What the bot requested when it sent or last edited the message.
        """
        key = (message["chat"]["id"], message["message_id"])
        if key not in self._sent:
            raise FakegramError(f"message {key} was not sent by the bot")
        return self._sent[key]

    def reply_keyboard(self, chat: ChatRef) -> JSON | None:
        """The reply keyboard the person currently sees in a chat.

        Args:
            chat: Chat id, chat or user.

        Returns:
            The last ``ReplyKeyboardMarkup`` sent, or ``None`` if none or removed.
        """
        return copy.deepcopy(self._reply_keyboards.get(_chat_id_of(chat)))

    def documents(self, chat: ChatRef) -> list[FakeDocument]:
        """Documents the bot sent to a chat, oldest first.

        Args:
            chat: Chat id, chat or user.

        Returns:
            The documents with file name, bytes and caption.
        """
        chat_id = _chat_id_of(chat)
        return [d for d in self._documents if d.chat_id == chat_id]

    def commands(self, language_code: str = "", scope: JSON | None = None) -> list[JSON]:
        """Commands stored by ``setMyCommands``.

        Args:
            language_code: ``""`` for the default list or a two-letter code.
            scope: ``BotCommandScope`` JSON; default scope when ``None``.

        Returns:
            ``[{"command": ..., "description": ...}, ...]`` (empty if unset).
        """
        key = self._commands_key({"language_code": language_code, "scope": scope})
        return copy.deepcopy(self._commands.get(key, []))

    def calls(self, method: str) -> list[JSON]:
        """Parameters of every received call of one method.

        Args:
            method: Bot API method name (case-insensitive).

        Returns:
            The parameters, oldest first.
        """
        return [r.params for r in self.requests if r.method.lower() == method.lower()]

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued for ``getUpdates`` and not yet confirmed."""
        return copy.deepcopy(self._pending)

    @property
    def webhook_url(self) -> str | None:
        """The webhook URL set by the bot, if any."""
        return None if self._webhook is None else self._webhook.url
