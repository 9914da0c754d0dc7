"""At most one running copy of a flow across every replica that shares a store.

PostgreSQL: a session-level advisory lock held on a dedicated connection. If the replica
holding it dies, its connection drops, the server releases the lock, and the next replica
to try takes over — no lease expiry to tune. SQLite stores live on one host, so an OS file
lock beside the database file does the same job (also released by the kernel on death).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy import Connection, Engine, text


def _lock_key(flow: str) -> int:
    """A stable signed 64-bit key per flow name (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.blake2b(f"syncd-flow:{flow}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class FlowLock:
    """Try to become the one runner of `flow`; `acquire()` never blocks."""

    def __init__(self, engine: Engine, flow: str) -> None:
        self._engine = engine
        self.flow = flow
        self._connection: Connection | None = None
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self.held:
            return True
        if self._engine.dialect.name == "postgresql":
            return self._acquire_advisory()
        return self._acquire_file()

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(self.flow)})
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def _acquire_advisory(self) -> bool:
        connection = self._engine.connect()
        try:
            got = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(self.flow)}
                ).scalar()
            )
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def _acquire_file(self) -> bool:
        database = self._engine.url.database
        if not database or database == ":memory:":
            # An in-memory store belongs to one process: nobody else can run the flow.
            path = Path(os.environ.get("TMPDIR", "/tmp")) / f"syncd-{os.getpid()}-{self.flow}.lock"
        else:
            path = Path(f"{database}.{self.flow}.lock")
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True
