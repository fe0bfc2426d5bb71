"""Alembic environment: reuses the app's metadata and settings.

Called two ways: by ``bot.log.db.upgrade`` with a live connection in ``config.attributes`` (the app
and the CLI upgrade on start), or by the ``alembic`` command, which builds its own engine from
the ``sqlalchemy.url`` option or the app's settings.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.log.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    from bot.log.db import create_engine
    from bot.settings import load_settings

    url = context.config.get_main_option("sqlalchemy.url") or load_settings().database.url
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_with_own_engine())
