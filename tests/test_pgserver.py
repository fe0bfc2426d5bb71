"""The throwaway PostgreSQL server starts, serves SQLAlchemy async, and leaves nothing behind."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.pgserver import HOST, PostgresError, ThrowawayPostgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[ThrowawayPostgres]:
    """One server for the tests that only use it."""
    with ThrowawayPostgres() as server:
        yield server


async def scalar(url: str, query: str) -> object:
    """The single value ``query`` returns on the database at ``url``."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(query))).scalar_one()
    finally:
        await engine.dispose()


def accepts_connections(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port``."""
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


async def test_the_server_answers_select_version_through_the_psycopg_driver(
    postgres: ThrowawayPostgres,
) -> None:
    assert postgres.url.startswith(f"postgresql+psycopg://postgres@{HOST}:{postgres.port}/")
    version = await scalar(postgres.url, "select version()")
    assert isinstance(version, str)
    assert version.startswith("PostgreSQL ")


async def test_the_database_is_utf8_and_listens_on_loopback_only(
    postgres: ThrowawayPostgres,
) -> None:
    assert await scalar(postgres.url, "select current_database()") == "talentbot_test"
    assert await scalar(postgres.url, "show server_encoding") == "UTF8"
    assert await scalar(postgres.url, "show listen_addresses") == HOST
    assert await scalar(postgres.url, "show fsync") == "off"


async def test_rows_round_trip_through_a_table(postgres: ThrowawayPostgres) -> None:
    engine = create_async_engine(postgres.url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("create table answers (id serial primary key, body text)"))
            await conn.execute(
                text("insert into answers (body) values (:body)"),
                [{"body": "人才公寓申请"}, {"body": "落户政策"}],
            )
        async with engine.connect() as conn:
            rows = (await conn.execute(text("select id, body from answers order by id"))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "人才公寓申请"), (2, "落户政策")]


async def test_two_databases_on_one_server_do_not_share_tables(
    postgres: ThrowawayPostgres,
) -> None:
    first = postgres.create_database("first_db")
    second = postgres.create_database("second_db")
    assert first.endswith("/first_db")
    assert second.endswith("/second_db")

    engine = create_async_engine(first)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("create table only_here (n int)"))
            await conn.execute(text("insert into only_here values (42)"))
    finally:
        await engine.dispose()

    assert await scalar(first, "select n from only_here") == 42
    assert await scalar(second, "select to_regclass('only_here') is null") is True


def test_creating_a_database_twice_raises_a_clear_error(postgres: ThrowawayPostgres) -> None:
    postgres.create_database("twice")
    with pytest.raises(PostgresError, match="could not create database 'twice'"):
        postgres.create_database("twice")


async def test_after_exit_the_port_refuses_connections_and_the_directory_is_gone() -> None:
    with ThrowawayPostgres() as server:
        port, directory = server.port, server.directory
        assert await scalar(server.url, "select 1") == 1
        assert accepts_connections(port)
        assert (directory / "data" / "PG_VERSION").is_file()
    assert not accepts_connections(port)
    assert not directory.exists()


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_error_in_the_block_still_stops_the_server_and_removes_the_directory(
    error: type[BaseException],
) -> None:
    with pytest.raises(error), ThrowawayPostgres() as server:
        port, directory = server.port, server.directory
        assert accepts_connections(port)
        raise error("boom")
    assert not accepts_connections(port)
    assert not directory.exists()


def test_missing_binaries_point_to_the_install_script(tmp_path: Path) -> None:
    with pytest.raises(PostgresError, match=r"scripts/ensure-postgres\.sh"):
        ThrowawayPostgres(bindir=tmp_path).start()


def test_a_database_name_that_is_not_a_plain_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="database name"):
        ThrowawayPostgres('x"; drop')
