"""An older database keeps its data when the schema is upgraded to the newest revision."""

from __future__ import annotations

from sqlalchemy import text

from bot.log.db import create_engine, describe_url, upgrade
from bot.log.inquiry_log import InquiryLog


async def test_a_database_made_by_the_first_migration_keeps_its_rows_at_head(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO people (id, key, channel, display_name, language, blocked_bot, first_seen, last_seen) "
                    "VALUES (1, 'telegram:7', 'telegram', '老用户', 'zh', false, '2025-01-02 03:04:05', '2025-01-02 03:04:05')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO inquiries (id, person_id, channel, text, outcome, suggestions, update_id, created_at) "
                    "VALUES (1, 1, 'telegram', '人才公寓怎么申请', 'answered', '[]', 99, '2025-01-02 03:04:05')"
                )
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            revision = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one()
            row = (
                await connection.execute(text("SELECT text, update_id, ticket_id FROM inquiries"))
            ).one()
            person = (
                await connection.execute(text("SELECT display_name FROM people"))
            ).scalar_one()
            tickets = (await connection.execute(text("SELECT count(*) FROM tickets"))).scalar_one()
    finally:
        await engine.dispose()
    assert revision == "0006"
    assert tuple(row) == ("人才公寓怎么申请", 99, None)
    assert person == "老用户"
    assert tickets == 0


async def test_opening_the_log_twice_is_idempotent(database_url: str) -> None:
    for _ in range(2):
        log = await InquiryLog.open(database_url)
        await log.close()


def test_passwords_never_appear_in_described_urls() -> None:
    described = describe_url("postgresql+psycopg://talent:s3cret@db.local:5432/talentbot")
    assert "s3cret" not in described
    assert described == "postgresql+psycopg://talent:***@db.local:5432/talentbot"
