"""Every console route over a real database: anonymous, staff, admin; CSRF; lockout; audit."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
from sqlalchemy import select

from bot.assistant import Person
from bot.log.models import AuditEntry, TicketMessage
from bot.services import Services
from knowledge.schema import Audience
from tests.web.conftest import Site, csrf_of

PAGES = ["/", "/inbox", "/tickets/1", "/canned", "/inquiries", "/inquiries/export", "/audit"]
PAGES += ["/accounts", "/kb", "/kb/try?q=x", "/kb/housing-talent-apartment", "/gaps", "/password"]
ACTIONS = ["/logout", "/password", "/tickets/1/reply", "/tickets/1/take", "/tickets/1/note"]
ACTIONS += [
    "/accounts/add",
    "/accounts/disable",
    "/tickets/1/resolve",
    "/canned",
    "/canned/remove",
    "/gaps/add",
]


async def audit_actions(services: Services) -> list[str]:
    async with services.log.sessions() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def a_ticket(services: Services, text: str = "公积金怎么提取") -> int:
    person = Person("telegram:4242", "Alice", Audience.TALENT)
    reply = await services.assistant.ask(person, text, channel="telegram", chat_id="4242")
    assert reply.ticket_id is not None, "an unmatched question opens a ticket"
    return reply.ticket_id


async def test_anonymous_pages_redirect_to_sign_in_and_actions_get_401(site: Site) -> None:
    for path in PAGES:
        response = await site.client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    for path in ACTIONS:
        response = await site.client.post(path, data={"csrf": "x", "text": "hi"})
        assert response.status_code == 401, path
        assert response.text == "请先登录。", "said in the locale's words"
    english = await site.client.post("/logout", headers={"accept-language": "en"})
    assert english.text == "Sign in first."
    login = await site.client.get("/login")
    assert login.status_code == 200 and 'name="csrf"' in login.text
    assert "default-src 'self'" in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY"


async def test_sign_in_needs_the_csrf_token_and_sets_a_strict_cookie(site: Site) -> None:
    password = await site.account("王专员")
    refused = await site.client.post("/login", data={"name": "王专员", "password": password})
    assert refused.status_code == 403
    wrong = await site.client.post(
        "/login", data={"name": "王专员", "password": password, "csrf": "forged"}
    )
    assert wrong.status_code == 403
    response = await site.login("王专员", password)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "tb_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; https sets it
    # A one-time password may only be changed.
    assert (await site.client.get("/inbox")).headers["location"] == "/password"
    assert (await site.client.post("/tickets/1/take", data={"csrf": "x"})).status_code == 403
    page = await site.client.get("/password")
    mismatch = await site.client.post(
        "/password",
        data={"current": password, "new": "abcdefghijk", "repeat": "x", "csrf": csrf_of(page.text)},
    )
    assert mismatch.status_code == 400
    changed = await site.client.post(
        "/password",
        data={
            "current": password,
            "new": "a-long-password-1",
            "repeat": "a-long-password-1",
            "csrf": csrf_of(page.text),
        },
    )
    assert changed.status_code == 303
    assert (await site.client.get("/")).status_code == 200
    assert "login" in await audit_actions(site.services)


async def test_wrong_passwords_lock_the_account_even_against_the_right_one(site: Site) -> None:
    password = await site.account("李专员")
    for _ in range(3):  # lockout_attempts: 3 in the test settings
        assert (await site.login("李专员", "guess-" + password)).status_code == 401
    locked = await site.login("李专员", password)
    assert locked.status_code == 401 and "锁定" in locked.text
    unknown = await site.login("nobody", "whatever")
    assert unknown.status_code == 401 and "账号或密码不对" in unknown.text
    actions = await audit_actions(site.services)
    assert actions.count("login.failed") == 3 and "login.locked" in actions
    # An admin's reset lifts the lock.
    fresh = await site.services.accounts.reset_password("李专员", actor="test")
    assert (await site.login("李专员", fresh)).status_code == 303


async def test_disabling_an_account_ends_its_session_at_once(site: Site) -> None:
    await site.signed_in("赵专员")
    assert (await site.client.get("/inbox")).status_code == 200
    await site.services.accounts.set_disabled("赵专员", True, actor="admin")
    assert (await site.client.get("/inbox")).status_code == 303
    assert (await site.client.post("/tickets/1/take", data={"csrf": "x"})).status_code == 401


async def test_logout_needs_csrf_and_ends_the_session(site: Site) -> None:
    csrf = await site.signed_in("钱专员")
    assert (await site.client.post("/logout", data={"csrf": "wrong"})).status_code == 403
    assert (await site.client.post("/logout", data={"csrf": csrf})).status_code == 303
    assert (await site.client.get("/")).status_code == 303


async def test_a_ticket_taken_replied_noted_and_resolved(site: Site) -> None:
    ticket = await a_ticket(site.services)
    csrf = await site.signed_in("孙专员")
    inbox = await site.client.get("/inbox")
    assert f"/tickets/{ticket}" in inbox.text and "公积金怎么提取" in inbox.text
    forged = await site.client.post(f"/tickets/{ticket}/reply", data={"text": "hi", "csrf": "x"})
    assert forged.status_code == 403
    await site.client.post(f"/tickets/{ticket}/take", data={"csrf": csrf})
    mine = await site.client.get("/inbox?view=mine")
    assert f"/tickets/{ticket}" in mine.text
    await site.account("何专员")
    stranger = await site.client.post(
        f"/tickets/{ticket}/assign", data={"to": "<not staff>", "csrf": csrf}
    )
    assert stranger.status_code == 400
    await site.client.post(f"/tickets/{ticket}/assign", data={"to": "何专员", "csrf": csrf})
    assert f"/tickets/{ticket}" not in (await site.client.get("/inbox?view=mine")).text
    held = await site.client.post(f"/tickets/{ticket}/take", data={"csrf": csrf})
    assert held.headers["location"].endswith("done=held"), "no silent take-over"
    await site.client.post(f"/tickets/{ticket}/assign", data={"to": "孙专员", "csrf": csrf})
    reply = await site.client.post(
        f"/tickets/{ticket}/reply", data={"text": "请带上<b>身份证</b>来", "csrf": csrf}
    )
    assert reply.headers["location"] == f"/tickets/{ticket}?done=reply_stored"  # no bot here
    await site.client.post(f"/tickets/{ticket}/note", data={"text": "已电话联系", "csrf": csrf})
    page = await site.client.get(f"/tickets/{ticket}")
    assert "请带上&lt;b&gt;身份证&lt;/b&gt;来" in page.text, (
        "what people and staff wrote is escaped"
    )
    assert "内部备注" in page.text
    done = await site.client.post(f"/tickets/{ticket}/resolve", data={"text": "", "csrf": csrf})
    assert done.headers["location"].endswith("done=resolve_stored")
    again = await site.client.post(f"/tickets/{ticket}/reply", data={"text": "x", "csrf": csrf})
    assert again.headers["location"].endswith("done=refused")
    await site.services.desk.rate(ticket, "telegram:4242", 4)
    dashboard = await site.client.get("/")
    assert "4.0 / 5 (1)" in dashboard.text, "CSAT: the mean rating and how many rated"
    assert "<svg" in dashboard.text and "<title>" in dashboard.text, "the chart, with values"
    async with site.services.log.sessions() as session:
        kinds = list(await session.scalars(select(TicketMessage.recipient)))
    assert kinds.count("note") == 1 and "person" in kinds
    actions = await audit_actions(site.services)
    for action in ("ticket.take", "ticket.assign", "ticket.reply", "ticket.note", "ticket.resolve"):
        assert action in actions
    assert (await site.client.get("/tickets/999999")).status_code == 404
    assert (await site.client.get("/tickets/99999999999999999999")).status_code == 404


async def test_audit_is_for_admins_only(site: Site) -> None:
    await site.signed_in("周专员")
    assert (await site.client.get("/audit")).status_code == 403
    site.client.cookies.clear()
    await site.signed_in("吴管理员", admin=True)
    page = await site.client.get("/audit")
    assert page.status_code == 200 and "account.add" in page.text


async def test_admins_manage_accounts_in_the_console(site: Site) -> None:
    await site.account("马专员")
    await site.signed_in("秦专员")
    assert (await site.client.get("/accounts")).status_code == 403
    forbidden = await site.client.post("/accounts/disable", data={"name": "马专员", "csrf": "x"})
    assert forbidden.status_code == 403
    site.client.cookies.clear()
    csrf = await site.signed_in("许管理员", admin=True)
    added = await site.client.post(
        "/accounts/add", data={"name": "韩专员", "telegram_id": "12345", "csrf": csrf}
    )
    assert added.status_code == 200 and "一次性密码" in added.text
    bad = await site.client.post(
        "/accounts/add", data={"name": "x", "telegram_id": "abc", "csrf": csrf}
    )
    assert bad.status_code == 400 and "Telegram ID 须为数字" in bad.text
    await site.client.post("/accounts/disable", data={"name": "马专员", "csrf": csrf})
    assert [a.disabled for a in await site.services.accounts.all() if a.name == "马专员"] == [True]
    own = await site.client.post("/accounts/disable", data={"name": "许管理员", "csrf": csrf})
    assert own.status_code == 400
    reset = await site.client.post("/accounts/reset", data={"name": "马专员", "csrf": csrf})
    assert "一次性密码" in reset.text
    actions = await audit_actions(site.services)
    assert {"account.add", "account.disable", "account.reset"} <= set(actions)


async def test_canned_replies_are_kept_and_offered_on_a_ticket(site: Site) -> None:
    ticket = await a_ticket(site.services)
    csrf = await site.signed_in("郑专员")
    blank = await site.client.post("/canned", data={"title": "", "text": "", "csrf": csrf})
    assert blank.status_code == 400
    await site.client.post(
        "/canned", data={"title": "材料清单", "text": "请带身份证和学历证明。", "csrf": csrf}
    )
    page = await site.client.get(f"/tickets/{ticket}")
    assert 'data-insert="请带身份证和学历证明。"' in page.text


async def test_inquiries_filter_page_and_export_with_real_dates(site: Site) -> None:
    services = site.services
    talent = Person("telegram:7", "Bob", Audience.TALENT)
    enterprise = Person("telegram:8", "Carol", Audience.ENTERPRISE)
    for n in range(12):
        await services.assistant.ask(talent, f"人才公寓怎么申请 {n}", channel="telegram")
    await services.assistant.ask(enterprise, "企业招聘能免费发布岗位吗", channel="telegram")
    await site.signed_in("冯专员")
    first = await site.client.get("/inquiries")
    assert "共 13 条" in first.text and "1 / 2" in first.text
    narrowed = await site.client.get("/inquiries?audience=enterprise")
    assert "共 1 条" in narrowed.text and "企业招聘" in narrowed.text
    hostile = await site.client.get("/inquiries?outcome=<script>&status=x&since=bogus&page=-1")
    assert hostile.status_code == 200 and "<script>" not in hostile.text
    export = await site.client.get("/inquiries/export?audience=talent&format=xlsx")
    assert export.status_code == 200
    assert export.headers["content-disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(export.content))
    sheet = book.worksheets[0]
    assert sheet.max_row == 13  # header + 12 talent questions
    assert isinstance(sheet.cell(row=2, column=2).value, datetime), "a real date cell"
    assert sheet.auto_filter.ref
    csv = await site.client.get("/inquiries/export?format=csv")
    assert csv.text.count("\n") == 14
    assert "inquiries.export" in await audit_actions(services)


async def test_knowledge_pages_show_entries_sources_and_why_the_bot_answered(site: Site) -> None:
    await site.signed_in("陈专员")
    kb = await site.client.get("/kb")
    assert "人才公寓" in kb.text and "/kb/housing-talent-apartment" in kb.text
    entry = await site.client.get("/kb/housing-talent-apartment")
    assert "<mark>" in entry.text, "the quote is shown inside its document"
    tried = await site.client.get("/kb/try?q=人才公寓怎么申请")
    assert "已回答" in tried.text and "housing-talent-apartment" in tried.text
    assert (await site.client.get("/kb/no-such-entry")).status_code == 404


async def test_english_browser_gets_the_english_console(site: Site) -> None:
    page = await site.client.get("/login", headers={"accept-language": "en-GB,en;q=0.9"})
    assert "Sign in" in page.text and 'lang="en"' in page.text
