"""The SQLite backend (`ENGINE: api.database`): Django's, with write transactions queued on
locks of the service's own before they ask SQLite for its write lock.

SQLite has one writer at a time, and the settings make every transaction take the write
lock at BEGIN (IMMEDIATE). A connection that finds it taken sleeps in SQLite's busy handler,
1 ms, then 2, 5, 10 ... up to 100 ms a try, and retries; one that wakes as another finishes
may lose to a newcomer again and again. Under load, with every web thread and the workers
writing (each request writes its access record), some requests waited over a second behind
ones that came after them (`make bench`: p99 0.9 to 1.5 s at 16 connections).

So a transaction first takes, in turn, a lock of its process (its threads wait on it and
wake as soon as it is free) and a lock file beside the database, shared by every process
on the machine (web, worker, commands), polled every half millisecond. Only then does it
BEGIN, and finds SQLite's lock free. Writes outside a transaction, and other programs, still
meet SQLite's busy handler, as before. The wait is bounded by the busy timeout (the
`timeout` option), after which it fails with SQLite's own "database is locked".
"""

import fcntl
import os
import threading
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# One per process: each thread's connection is its own, the database file is shared.
_threads = threading.Lock()
_POLL = 0.0005


def _fresh_lock_in_child() -> None:
    # A child forked (a Celery pool process) while a thread of the parent held the lock would
    # inherit it held, by a thread it does not have.
    global _threads
    _threads = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock_in_child)


class DatabaseWrapper(base.DatabaseWrapper):
    _lock_fd: int | None = None
    # The process lock this connection holds, if any: released as the one it took, even if
    # a fork has since put a fresh one in its place.
    _held = None

    def _start_transaction_under_autocommit(self):
        if self.is_in_memory_db():
            return super()._start_transaction_under_autocommit()
        self._acquire_writer(float(self.settings_dict["OPTIONS"].get("timeout", 5)))
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def _acquire_writer(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        threads = _threads
        if not threads.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        try:
            if self._lock_fd is None:
                path = f"{self.settings_dict['NAME']}-writer.lock"
                self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            while True:
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise OperationalError("database is locked") from None
                    time.sleep(_POLL)
        except BaseException:
            threads.release()
            raise
        self._held = threads

    def _release_writer(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            held.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
