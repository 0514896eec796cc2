"""The publisher's own thread survives the forks of web and Celery worker processes."""

import os

from notifications import publisher


def test_a_forked_process_gets_a_publisher_thread_of_its_own():
    assert publisher._publisher().submit(lambda: "parent").result(timeout=5) == "parent"

    pid = os.fork()
    if pid == 0:  # the child: the parent's thread is not here; its own must run the work
        try:
            ran = publisher._publisher().submit(lambda: "child").result(timeout=5) == "child"
        except Exception:
            ran = False
        os._exit(0 if ran else 1)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
