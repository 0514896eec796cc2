"""On SQLite, write transactions queue on the service's own locks (api/database/base.py): a
thread of the process, then a lock file shared by every process, before SQLite's write lock.
A transaction holds them from BEGIN until it commits or rolls back, and a wait for them
ends, as SQLite's own does, at the busy timeout."""

import fcntl
import os
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's writers only"),
]


def lock_file_is_free() -> bool:
    """Whether another process could take the writers' lock file now."""
    fd = os.open(f"{connection.settings_dict['NAME']}-writer.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing it releases a lock taken here
    return True


def test_a_transaction_holds_the_writers_lock_until_it_commits():
    with transaction.atomic():
        PatientFactory()
        assert not lock_file_is_free()
    assert lock_file_is_free()
    assert Patient.objects.count() == 1


def failing_write():
    with transaction.atomic():
        PatientFactory()
        raise RuntimeError("the work failed")


def test_a_transaction_that_fails_releases_the_writers_lock():
    with pytest.raises(RuntimeError):
        failing_write()
    assert lock_file_is_free()
    assert not Patient.objects.exists()
    with transaction.atomic():  # and the next one gets it
        PatientFactory()
    assert Patient.objects.count() == 1


def test_a_writer_gives_up_with_database_is_locked_at_the_busy_timeout():
    held = os.open(f"{connection.settings_dict['NAME']}-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)  # as another process in a long transaction would
    outcome = {}

    def write():
        mine = connections["default"]
        mine.settings_dict["OPTIONS"] = {**mine.settings_dict["OPTIONS"], "timeout": 0.3}
        started = time.monotonic()
        try:
            with transaction.atomic():
                PatientFactory()
        except OperationalError as exc:
            outcome["error"] = str(exc)
        outcome["waited"] = time.monotonic() - started
        mine.close()

    try:
        thread = threading.Thread(target=write)
        thread.start()
        thread.join(timeout=30)
    finally:
        os.close(held)
    assert outcome["error"] == "database is locked"
    assert outcome["waited"] < 10  # the 0.3 s timeout, not the default 20 s
    assert lock_file_is_free()
    assert not Patient.objects.exists()


def test_threads_writing_at_once_each_wait_their_turn_and_all_commit():
    errors = []

    def write(n: int):
        try:
            for i in range(5):
                with transaction.atomic():
                    PatientFactory(email=f"writer{n}.{i}@example.org", phone=f"+1555{n:03d}{i:04d}")
        except Exception as exc:
            errors.append(exc)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Patient.objects.count() == 60
