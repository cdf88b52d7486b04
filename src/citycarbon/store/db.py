"""The database handle: engine, transactional sessions and Alembic migrations built in code.

``Database(settings)`` connects to ``settings.database_url``: the embedded default is a SQLite file under
``CITYCARBON_HOME`` (WAL journal, foreign keys on, a busy timeout so concurrent readers and the one writer wait
instead of failing); production is PostgreSQL through psycopg 3 (``postgresql+psycopg://user@host/db``).

Migrations live in the package (``citycarbon/store/migrations``); no ``alembic.ini`` is needed at run time.
The same scripts run on SQLite (batch mode) and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from citycarbon.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: how long a SQLite connection waits for a lock held by another writer before failing (ms)
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "citycarbon_write"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # pysqlite defers BEGIN until the first write; emit it ourselves so a transaction is one unit and a
    # reader sees one snapshot (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
    # A write session takes the write lock at once (BEGIN IMMEDIATE): a deferred transaction that read first
    # could not upgrade to a writer after another process committed (SQLITE_BUSY without waiting).
    immediate = conn.get_execution_options().get(_WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the pragmas/options citycarbon relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                  "isolation_level": None}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """One database: ``.engine``, ``.session()``, and the migration commands.

    ``session()`` is a context manager: the block's work commits when it ends normally and rolls back when
    it raises, so a write function either stores everything (with its audit rows) or nothing.
    """

    def __init__(self, settings: Settings, **engine_kwargs: Any):
        self.settings = settings
        self.url = settings.database_url
        if settings.is_sqlite:
            database = make_url(self.url).database or ""
            if database and Path(database).resolve().is_relative_to(settings.home):
                settings.ensure_home()  # the embedded default: an owner-only data directory
        self.engine: Engine = make_engine(self.url, **engine_kwargs)
        # sessions know their deployment's settings (e.g. where the TOTP key lives: store/totp_crypto.py)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={"settings": settings})

    def __repr__(self) -> str:
        return f"Database({self.settings.redacted_url()!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def key(self) -> str:
        """A stable identity of this database (for per-database caches); the password is left out."""
        return self.settings.redacted_url()

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction: commit on success, rollback on error, always closed.

        ``write=True`` on SQLite takes the database write lock when the transaction starts (waiting up to the
        busy timeout for another writer), so a read-then-write transaction never fails half-way under
        concurrency; use it for every session that writes. On PostgreSQL it changes nothing.
        """
        session = self._sessions()
        if write and self.dialect == "sqlite":
            session.connection(execution_options={_WRITE_OPTION: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # ---- migrations ------------------------------------------------------------------------------

    def alembic_config(self) -> Config:
        """An Alembic config pointing at the packaged migrations (no alembic.ini)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return config

    def _run(self, fn: Any, *args: Any) -> None:
        config = self.alembic_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            fn(config, *args)

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema up to ``revision`` (default: the newest)."""
        self._run(command.upgrade, revision)

    def downgrade(self, revision: str) -> None:
        """Migrate the schema down to ``revision`` (``base`` removes every table)."""
        self._run(command.downgrade, revision)

    def current_revision(self) -> str | None:
        """The schema revision the database is at (None: never migrated)."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        """The newest revision shipped with this version of citycarbon."""
        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def is_current(self) -> bool:
        return self.current_revision() == self.head_revision()

    def dispose(self) -> None:
        """Close every pooled connection (tests, before dropping a database)."""
        self.engine.dispose()
