"""The health checks: is each dependency there, and how it is doing, as `{"ok": bool, ...}`
with its figure. Reads only; each bounded in time where a dependency could hang."""

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from datetime import timedelta

import redis
from django.db import DatabaseError, connections, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from notifications.selectors import notifications_undelivered
from ops.models import WorkerHeartbeat

# The database check runs in a thread of its own, one check at a time: the caller waits at
# most its timeout, and a hung database holds that one thread and one connection, not one per
# probe. Probes that come while a check runs share it; once a check has outlived the timeout
# (hung), the probes fail at once until it ends, and none is queued behind it to run later.
_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_in_flight: tuple[Future, float] | None = None  # the running check, and when it went stale


def _database_thread() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health-db")
        return _executor


def _forget_after_fork() -> None:
    # The web server forks its workers: a child has none of the parent's threads.
    global _executor, _lock, _in_flight
    _executor = None
    _in_flight = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def database_check(*, timeout: float) -> dict:
    """`SELECT 1` on a new connection of the default database, within `timeout` seconds:
    `{"ok": true, "latency_ms": ...}`, else `{"ok": false, "error": ...}` (the exception's
    type, never its text, which can name hosts and users)."""
    global _in_flight
    started = time.perf_counter()
    executor = _database_thread()
    with _lock:
        if _in_flight is not None and not _in_flight[0].done():
            future, stale_at = _in_flight
            if started >= stale_at:
                return {"ok": False, "error": "the check before has not answered yet"}
        else:
            future = executor.submit(_select_one)
            _in_flight = (future, started + timeout)
    try:
        future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()  # still queued (behind something else): it never runs
        return {"ok": False, "error": f"no answer within {timeout:g}s"}
    except Exception as exc:  # each driver raises its own; none may escape a probe
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": _ms(time.perf_counter() - started)}


def _select_one() -> None:
    # The thread's own connection, new each time and closed after: it proves a connection
    # can be made (what the next requests need), and holds none between probes.
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def broker_check(*, url: str, timeout: float) -> dict:
    """Redis `PING` at `url` on a new connection, `timeout` seconds for the connect and as much
    for the answer, without retries: a stopped Redis fails at once, a hung one within twice
    `timeout`. `{"ok": true, "latency_ms": ...}`, else `{"ok": false, "error": ...}`."""
    started = time.perf_counter()
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return {"ok": False, "error": type(exc).__name__}
    finally:
        client.close()
    return {"ok": True, "latency_ms": _ms(time.perf_counter() - started)}


def _seconds(age: timedelta | None) -> float | None:
    return None if age is None else round(max(age.total_seconds(), 0.0), 1)


def worker_heartbeats(*, max_age: timedelta) -> tuple[timedelta | None, int]:
    """How long ago the latest worker heartbeat was (None: never), and how many workers
    recorded one within `max_age`. One query."""
    now = timezone.now()
    row = WorkerHeartbeat.objects.aggregate(
        latest=Max("seen_at"), live=Count("pk", filter=Q(seen_at__gte=now - max_age))
    )
    return (now - row["latest"] if row["latest"] else None), row["live"]


def worker_check(*, max_age: timedelta) -> dict:
    """A worker ran the heartbeat task within `max_age`: `{"ok", "age_seconds" (null: never),
    "max_age_seconds", "workers" (how many were seen within max_age)}`."""
    age, live = worker_heartbeats(max_age=max_age)
    return {
        "ok": age is not None and age <= max_age,
        "age_seconds": _seconds(age),
        "max_age_seconds": max_age.total_seconds(),
        "workers": live,
    }


def outbox_check(*, max_age: timedelta) -> dict:
    """No notice has waited for delivery longer than `max_age`: `{"ok",
    "oldest_undelivered_seconds" (null: none waiting), "max_age_seconds", "undelivered"}`."""
    undelivered, oldest = notifications_undelivered()
    return {
        "ok": oldest is None or oldest <= max_age,
        "oldest_undelivered_seconds": _seconds(oldest),
        "max_age_seconds": max_age.total_seconds(),
        "undelivered": undelivered,
    }


@contextmanager
def reads_bounded(*, timeout: float) -> Iterator[None]:
    """Each query in the block, on this thread's connection, ends within `timeout` seconds,
    waits for locks included, else raises a DatabaseError. On PostgreSQL, a transaction whose
    `statement_timeout` is the timeout; on SQLite, whose reads (WAL) wait on no writer, the
    connection's busy timeout (SQLITE_BUSY_TIMEOUT) bounds any lock wait."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            # An int of milliseconds, not a parameter: SET takes no placeholders server-side.
            cursor.execute(f"SET LOCAL statement_timeout = {max(int(timeout * 1000), 1)}")
        yield


def database_read(check, *, timeout: float, **kwargs) -> dict:
    """A check that reads the database (on this thread's connection, each query within
    `timeout` seconds), or its failure."""
    try:
        with reads_bounded(timeout=timeout):
            return check(**kwargs)
    except DatabaseError as exc:
        return {"ok": False, "error": _read_error(exc, timeout)}


def _read_error(exc: DatabaseError, timeout: float) -> str:
    # PostgreSQL's query_canceled (57014): the statement_timeout, a lock held too long.
    if getattr(exc.__cause__, "sqlstate", None) == "57014":
        return f"no answer within {timeout:g}s"
    return type(exc).__name__
