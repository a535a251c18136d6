"""The data directory and the files in it, kept private to the account Rathaus runs as.

The directory is 0700; the SQLite database (with SQLite's ``-wal``, ``-shm`` and ``-journal``
files) and every secret are 0600. Each start tightens what exists already, whatever the modes
were before (an older Rathaus, a copy, a restore from a backup).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from rathaus.config import Settings

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> None:
    """Make an existing file 0600 (nothing if there is none)."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, PRIVATE_FILE)


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def prepare(settings: Settings) -> None:
    """Create the data directory and the database file, or tighten them (at every start)."""
    private_dir(settings.server.data_dir)
    database = sqlite_file(settings.database_url)
    if database is None:
        return
    # Made here, empty (an empty file is an empty SQLite database), so that it is 0600 from the
    # start: SQLite gives the files it makes next to it the database file's mode.
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for suffix in SQLITE_FILES:
        private_file(database.with_name(database.name + suffix))
