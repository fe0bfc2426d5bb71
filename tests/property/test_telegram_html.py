"""The checker the property tests rely on refuses what Telegram refuses."""

from __future__ import annotations

import pytest

from bot.formatting import HTML
from tests.property.telegram_html import InvalidHtml, check


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "a < b",
        "a > b",
        "Tom & Jerry",
        "&nbsp;",
        "&copy",
        "<b>bold",
        "<b><i>crossed</b></i>",
        "</b>",
        "<br/>",
        "<p>paragraph</p>",
        '<a href="x" onclick="y">z</a>',
        "<!-- comment -->",
        "<!DOCTYPE html>",
        "<b",
    ],
)
def test_the_checker_refuses_html_telegram_would_refuse(html: str) -> None:
    with pytest.raises(InvalidHtml):
        check(html)


def test_the_checker_accepts_telegram_html_and_returns_the_visible_text() -> None:
    html = (
        '<b>人才公寓</b> &lt;申请&gt; &amp; <a href="https://e.x/?a=1&amp;b=2">链接</a> &#128512;'
    )
    assert check(html) == "人才公寓 <申请> & 链接 😀"


@pytest.mark.parametrize("text", ["<script>x</script>", "a & b <c>", "&amp; &lt;", "\x00\u202e"])
def test_escaped_user_text_passes_and_comes_back_unchanged(text: str) -> None:
    assert check(HTML.escape(text)) == text
