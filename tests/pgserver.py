"""A throwaway PostgreSQL server for tests.

``ThrowawayPostgres`` runs ``initdb`` on a fresh temporary directory, starts the server on
127.0.0.1 at a free port (no durability: ``fsync``, ``synchronous_commit`` and
``full_page_writes`` are off), creates a database and, on exit, stops the server and
deletes the directory - also when the body raises or is interrupted, with an ``atexit``
hook as a safety net. It never touches a system cluster.

The server binaries come from the newest ``/usr/lib/postgresql/<version>/bin`` (Debian's
layout; ``scripts/ensure-postgres.sh`` installs them), else from ``PATH``. ``initdb``
refuses to run as root, so as root every server command runs as the ``postgres`` user
through ``runuser`` and the directory is handed to that user.

Use it from a session fixture::

    @pytest.fixture(scope="session")
    def postgres() -> Iterator[ThrowawayPostgres]:
        with ThrowawayPostgres() as server:
            yield server

then ``create_async_engine(postgres.url)`` or, for a database of a test's own,
``create_async_engine(postgres.create_database("some_name"))``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

__all__ = ["PostgresError", "ThrowawayPostgres", "find_bindir"]

HOST = "127.0.0.1"
SUPERUSER = "postgres"
DEBIAN_ROOT = Path("/usr/lib/postgresql")
START_TIMEOUT_S = 60
LOG_TAIL_LINES = 30
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class PostgresError(RuntimeError):
    """The throwaway server could not be found, set up, started or used."""


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key for ``/usr/lib/postgresql/<version>``: ``9.6`` < ``15`` < ``16``."""
    return tuple(int(part) for part in re.findall(r"\d+", path.name))


def find_bindir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    The newest ``/usr/lib/postgresql/<version>/bin`` wins; without one, the directory of
    the ``initdb`` on ``PATH``.
    """
    candidates = [p.parent for p in DEBIAN_ROOT.glob("*/bin/initdb") if p.is_file()]
    if candidates:
        return max(candidates, key=lambda bindir: _version_key(bindir.parent))
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise PostgresError(
        f"no PostgreSQL server binaries (no {DEBIAN_ROOT}/*/bin/initdb, no initdb on PATH); "
        "run scripts/ensure-postgres.sh (as root) to install them"
    )


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file, or a note that there is none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no server log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


class ThrowawayPostgres:
    """A private PostgreSQL server on 127.0.0.1 that lives as long as a ``with`` block.

    Attributes set on entry: ``port``, ``url`` (the ``database`` created at start, as a
    SQLAlchemy ``postgresql+psycopg://`` URL), ``directory`` (the temporary directory,
    holding ``data/`` and ``server.log``; gone after exit).
    """

    def __init__(self, database: str = "talentbot_test", *, bindir: Path | None = None) -> None:
        """Prepare (nothing runs yet); ``bindir`` overrides where the binaries are found."""
        self.database = _check_name(database)
        self._bindir = bindir
        self._as_postgres = os.geteuid() == 0
        self._directory: Path | None = None
        self._port: int | None = None
        self._running = False

    # -- public API -------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        """The temporary directory (data directory, log, socket); set once started."""
        if self._directory is None:
            raise PostgresError("the server has not been started")
        return self._directory

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        """The server's log file."""
        return self.directory / "server.log"

    @property
    def port(self) -> int:
        """The TCP port the server listens on, on 127.0.0.1."""
        if self._port is None:
            raise PostgresError("the server has not been started")
        return self._port

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg driver) of the database created at start."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL (psycopg driver) of ``database`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create the empty database ``name`` and return its SQLAlchemy URL."""
        _check_name(name)
        conninfo = f"host={HOST} port={self.port} user={SUPERUSER} dbname=postgres"
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise PostgresError(f"could not create database {name!r}: {exc}") from exc
        return self.url_for(name)

    def start(self) -> None:
        """Create the cluster, start the server and create ``database``.

        Cleans up after itself if any step fails or is interrupted.
        """
        if self._running or self._directory is not None:
            raise PostgresError("this ThrowawayPostgres has already been started")
        bindir = self._bindir or find_bindir()
        missing = [n for n in ("initdb", "pg_ctl", "postgres") if not (bindir / n).is_file()]
        if missing:
            raise PostgresError(
                f"{', '.join(missing)} missing from {bindir}; "
                "run scripts/ensure-postgres.sh (as root) to install PostgreSQL"
            )
        self._bindir = bindir
        atexit.register(self.stop)
        try:
            self._directory = self._make_directory()
            self._initdb()
            self._start_server()
            self.create_database(self.database)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (if running) and delete the directory. Safe to call twice."""
        atexit.unregister(self.stop)
        self._running = False
        if self._directory is None:
            return
        try:
            # Not just "if started": an interrupted ``pg_ctl start`` may leave a postmaster.
            if (self.data_dir / "postmaster.pid").exists():
                try:
                    self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
                except PostgresError:
                    self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "10")
        finally:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def __enter__(self) -> ThrowawayPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------

    def _make_directory(self) -> Path:
        """A new temporary directory, owned by ``postgres`` when we are root."""
        directory = Path(tempfile.mkdtemp(prefix="talentbot-pg-"))
        if self._as_postgres:
            try:
                owner = pwd.getpwnam(SUPERUSER)
            except KeyError:
                shutil.rmtree(directory, ignore_errors=True)
                raise PostgresError(
                    f"running as root but there is no {SUPERUSER!r} user to run the server "
                    "as; run scripts/ensure-postgres.sh (as root) to install PostgreSQL"
                ) from None
            os.chown(directory, owner.pw_uid, owner.pw_gid)
        return directory

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a server binary (as ``postgres`` when root); output captured, no check."""
        assert self._bindir is not None
        command = [str(self._bindir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        return subprocess.run(
            command,
            cwd=self.directory,  # somewhere the postgres user may enter
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )

    def _initdb(self) -> None:
        """Create the cluster: trust auth, UTF-8, C.UTF-8 locale (else no locale)."""
        base = ["-D", str(self.data_dir), "--auth=trust", "-U", SUPERUSER, "--encoding=UTF8"]
        base.append("--no-sync")  # a throwaway cluster needs no durability
        result = self._run("initdb", *base, "--locale=C.UTF-8")
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            result = self._run("initdb", *base, "--no-locale")
        if result.returncode != 0:
            raise PostgresError(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def pause(self) -> None:
        """Stop the server but keep its data: the database going away in the middle of a run."""
        if not self._running:
            raise PostgresError("the server is not running")
        self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
        self._running = False

    def resume(self) -> None:
        """Start a paused server again, on the same port, with its data."""
        if self._running or self._directory is None:
            raise PostgresError("the server is not paused")
        result = self._pg_ctl_start()
        if result.returncode != 0:
            raise PostgresError(
                f"PostgreSQL failed to restart on {HOST}:{self._port}: {result.stderr}\n"
                f"--- last lines of {self.log_file} ---\n{_tail(self.log_file)}"
            )
        self._running = True

    def _pg_ctl_start(self) -> subprocess.CompletedProcess[str]:
        settings = {
            "listen_addresses": HOST,
            "port": str(self._port),
            "unix_socket_directories": str(self.directory),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        options = " ".join(f"-c {key}={shlex.quote(value)}" for key, value in settings.items())
        return self._run(
            "pg_ctl",
            *("start", "-D", str(self.data_dir), "-l", str(self.log_file)),
            *("-w", "-t", str(START_TIMEOUT_S), "-o", options),
        )

    def _start_server(self) -> None:
        """Start the server at a free port; retry if another process takes the port."""
        for attempt in range(3):
            self._port = _free_port()
            result = self._pg_ctl_start()
            if result.returncode == 0:
                self._running = True
                return
            log = _tail(self.log_file)
            # pg_ctl may give up while the postmaster lingers; make sure it is gone.
            with contextlib.suppress(PostgresError):
                self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "10")
            if "could not bind" not in log or attempt == 2:
                raise PostgresError(
                    f"PostgreSQL failed to start on {HOST}:{self._port} "
                    f"(pg_ctl exit {result.returncode}): {result.stdout}{result.stderr}\n"
                    f"--- last lines of {self.log_file} ---\n{log}"
                )

    def _pg_ctl(self, *args: str) -> None:
        """Run ``pg_ctl <args> -D <data>``; raise with the output if it fails."""
        result = self._run("pg_ctl", *args, "-D", str(self.data_dir))
        if result.returncode != 0:
            raise PostgresError(
                f"pg_ctl {' '.join(args)} failed (exit {result.returncode}): "
                f"{result.stdout}{result.stderr}\n"
                f"--- last lines of {self.log_file} ---\n{_tail(self.log_file)}"
            )

    def __repr__(self) -> str:
        where = f"{HOST}:{self._port}" if self._running else "not running"
        return f"ThrowawayPostgres({self.database!r}, {where})"


def _check_name(name: str) -> str:
    """``name`` if it is a plain SQL identifier (safe to put into a URL as is)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"database name {name!r} must match {_NAME.pattern}")
    return name
