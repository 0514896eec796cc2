"""Publishing delivery tasks by name, under a deadline.

Services publish through here instead of importing the tasks (which import the services), so
nothing imports upward. The publish runs in a thread of its own and the caller waits for it
at most `timeout` seconds in all: a broker that accepts connections and never answers (a
frozen Redis) holds a request that long and no longer, whatever the transport does.
"""

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from celery import current_app

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _publisher() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="publisher")
        return _executor


def _forget_after_fork() -> None:
    # Web and Celery workers fork: the child has none of the parent's threads, and a lock
    # the parent held at that instant would stay held. Each process makes its own.
    global _executor, _lock
    _executor = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


class _Batch:
    def __init__(self, task_name: str, ids: list[str], retry_policy: dict, countdown: float | None):
        self.task_name = task_name
        self.ids = ids
        self.retry_policy = retry_policy
        self.countdown = countdown
        self.published: list[str] = []
        self.abandoned = threading.Event()

    def run(self) -> None:
        for task_id in self.ids:
            if self.abandoned.is_set():
                return  # the caller stopped waiting: the rest are left to the sweep
            current_app.send_task(
                self.task_name,
                args=[task_id],
                countdown=self.countdown,
                retry=True,
                retry_policy=self.retry_policy,
            )
            self.published.append(task_id)


def publish(
    task_name: str,
    ids: list[str],
    *,
    timeout: float,
    retry_policy: dict,
    countdown: float | None = None,
) -> list[str]:
    """Publish one `task_name` message per id (to run `countdown` seconds from now, if given);
    return the ids that were not published.

    Never raises: a broker that is down or hung only means ids come back unpublished.
    """
    if not ids:
        return []
    batch = _Batch(task_name, ids, retry_policy, countdown)
    future = _publisher().submit(batch.run)
    try:
        future.result(timeout=timeout)
    except FutureTimeout:
        batch.abandoned.set()
        logger.warning("broker did not answer within %.1fs", timeout)
    except Exception as exc:  # the broker's errors vary by transport; none must escape
        logger.warning("broker unavailable (%s)", type(exc).__name__)
    published = set(batch.published)
    return [task_id for task_id in ids if task_id not in published]
