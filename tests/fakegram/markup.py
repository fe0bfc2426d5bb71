"""Validation of message text and keyboards, mirroring Telegram's own checks.

Telegram refuses a message whose HTML does not parse, that is too long or
empty, or whose inline keyboard is malformed. A permissive fake would let a
bot that forgets ``html.escape`` on user text pass every test and then fail in
production, so these checks reproduce Telegram's rules and error texts closely
enough to catch such bugs. Each check raises :class:`ApiError`, which the
server turns into Telegram's ``{"ok": false, ...}`` answer.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakegram.people import JSON

MAX_TEXT_LENGTH = 4096
"""Telegram's limit for message text, after entity parsing, in UTF-16 units."""

MAX_CAPTION_LENGTH = 1024
"""Telegram's limit for media captions (non-premium bots)."""

SUPPORTED_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "tg-emoji",
        "blockquote",
        "span",
    }
)
"""Tags Telegram's HTML parse mode understands (https://core.telegram.org/bots/api#html-style)."""

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_RE = re.compile(r"<(/?)([^\s>/]*)([^>]*)>")
_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);")
_SPOILER_CLASS_RE = re.compile(r"""class\s*=\s*["']?tg-spoiler\b""")
_PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """A Bot API error answer (``ok: false``).

    Args:
        error_code: Telegram's ``error_code`` (also used as HTTP status).
        description: Telegram's ``description``, e.g. ``"Bad Request: ..."``.
        parameters: Optional ``ResponseParameters`` such as ``{"retry_after": 3}``.
    """

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_dict(self) -> JSON:
        """Render Telegram's error body.

        Returns:
            ``{"ok": false, "error_code": ..., "description": ...}`` (+ ``parameters``).
        """
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """Build a 400 error the way Telegram words it.

    Args:
        reason: Text after ``"Bad Request: "``.

    Returns:
        The error, ready to raise.
    """
    return ApiError(400, f"Bad Request: {reason}")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units).

    Args:
        text: Any string.

    Returns:
        Number of UTF-16 code units.
    """
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _open_tag(text: str, index: int, name: str, attrs: str) -> str:
    tag = name.lower()
    if tag not in SUPPORTED_HTML_TAGS:
        offset = _byte_offset(text, index)
        raise bad_request(
            f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {offset}'
        )
    if tag == "span" and not _SPOILER_CLASS_RE.search(attrs):
        raise bad_request('can\'t parse entities: Tag "span" must have class "tg-spoiler"')
    return tag


def _close_tag(text: str, index: int, name: str, stack: list[str]) -> None:
    offset = _byte_offset(text, index)
    if not stack:
        raise bad_request(f"can't parse entities: Unexpected end tag at byte offset {offset}")
    expected = stack.pop()
    if name.lower() != expected:
        raise bad_request(
            f"can't parse entities: Unmatched end tag at byte offset {offset}, "
            f'expected "</{expected}>", found "</{name}>"'
        )


def _decode_entity(body: str) -> str | None:
    if body.startswith(("#x", "#X")):
        return chr(int(body[2:], 16))
    if body.startswith("#"):
        return chr(int(body[1:]))
    return _NAMED_ENTITIES.get(body)


def _consume_tag(text: str, index: int, stack: list[str]) -> int:
    match = _TAG_RE.match(text, index)
    if match is None:
        offset = _byte_offset(text, index)
        raise bad_request(f"can't parse entities: Unclosed start tag at byte offset {offset}")
    closing, name, attrs = match.groups()
    if closing:
        _close_tag(text, index, name, stack)
    else:
        stack.append(_open_tag(text, index, name, attrs))
    return match.end()


def html_to_plain(text: str) -> str:
    """Parse Telegram HTML and return the visible text.

    Args:
        text: Message text with ``parse_mode="HTML"``.

    Returns:
        The text without tags and with entities decoded, as Telegram stores it.

    Raises:
        ApiError: 400 ``can't parse entities`` for unsupported, unbalanced or
            unclosed tags (the symptom of unescaped user input).
    """
    plain: list[str] = []
    stack: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "<":
            index = _consume_tag(text, index, stack)
            continue
        entity = _ENTITY_RE.match(text, index) if char == "&" else None
        decoded = _decode_entity(entity.group(1)) if entity else None
        if entity is not None and decoded is not None:
            plain.append(decoded)
            index = entity.end()
            continue
        plain.append(char)
        index += 1
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(plain)


def render_text(text: Any, parse_mode: Any, *, limit: int = MAX_TEXT_LENGTH) -> str:
    """Validate a text (or caption) and return what the recipient would see.

    Args:
        text: The ``text`` parameter as received.
        parse_mode: ``"HTML"``, ``"MarkdownV2"``, ``"Markdown"`` or ``None``.
        limit: Maximum visible length in UTF-16 units.

    Returns:
        The visible text.

    Raises:
        ApiError: 400 for empty or too long text, bad HTML or unknown parse mode.
    """
    raw = "" if text is None else str(text)
    mode = str(parse_mode).lower() if parse_mode else ""
    if mode and mode not in _PARSE_MODES:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    plain = html_to_plain(raw) if mode == "html" else raw
    if not plain.strip():
        raise bad_request("message text is empty")
    if utf16_len(plain) > limit:
        raise bad_request(
            "message is too long" if limit == MAX_TEXT_LENGTH else "caption is too long"
        )
    return plain


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text", "")):
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if len(actions) != 1:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode("utf-8"))
        if not 1 <= size <= 64:
            raise bad_request("BUTTON_DATA_INVALID")


def check_reply_markup(markup: Any) -> None:
    """Validate a ``reply_markup`` object like Telegram does.

    Args:
        markup: Decoded ``reply_markup`` (inline keyboard, reply keyboard,
            ``remove_keyboard`` or ``force_reply``) or ``None``.

    Raises:
        ApiError: 400 for malformed keyboards or oversized ``callback_data``.
    """
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
            )
        for row in rows:
            for button in row:
                _check_inline_button(button)
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not rows:
            raise bad_request("keyboard must be non-empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise bad_request("can't parse reply keyboard markup JSON object")


def inline_markup(markup: Any) -> JSON | None:
    """Keep only what Telegram echoes back in ``Message.reply_markup``.

    Args:
        markup: A validated ``reply_markup``.

    Returns:
        The markup if it is a non-empty inline keyboard, else ``None`` (reply
        keyboards and removals are never part of a ``Message``).
    """
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return markup
    return None
