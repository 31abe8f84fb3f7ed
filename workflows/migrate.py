"""Schema migrations with Alembic, shipped inside the package and applied when a store opens.

Several processes may open the same database at once, so the upgrade runs under a lock: a lock file
beside a SQLite database, an advisory lock on PostgreSQL. A database already at the newest revision
is recognised with one query and no lock, without importing Alembic (a third of a light command's start).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from sandbox.errors import HybridError
from workflows.reading import HEAD_REVISION, VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED_DIALECTS = ("sqlite", "postgresql")
# Any fixed number, the same in every process: it names the lock that serialises upgrades.
POSTGRES_LOCK_KEY = 7_007_007
# The revision whose tables `SQLModel.metadata.create_all` made before migrations existed.
FIRST_REVISION = "0001"


class MigrationError(HybridError, RuntimeError):
    """The database cannot be brought to the schema this version needs; the message says why."""


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, read from Alembic's version table; None if it has none."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (creating it if empty)."""
    if engine.dialect.name not in SUPPORTED_DIALECTS:
        raise MigrationError(
            f"{engine.dialect.name} is not supported: use SQLite (sqlite:///path) or PostgreSQL (postgresql://...)."
        )
    with engine.connect() as connection:
        if current_revision(connection) == HEAD_REVISION:
            return
    from alembic import command

    with _upgrade_lock(engine), engine.begin() as connection:
        if current_revision(connection) == HEAD_REVISION:  # another process upgraded it while this one waited
            return
        config = alembic_config()
        config.attributes["connection"] = connection
        if current_revision(connection) is None and inspect(connection).has_table("runs"):
            command.stamp(config, FIRST_REVISION)  # made by create_all before migrations existed
        command.upgrade(config, "head")


@contextmanager
def _upgrade_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": POSTGRES_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": POSTGRES_LOCK_KEY})
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # a private in-memory database: no other process can see it
        return
    with open(f"{database}.migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
