"""Metrics with several processes (prometheus_client's multiprocess mode): a scrape from any
one process sums what every process counted. Real processes: two Python processes counting
logins, and the web server as `make run` runs it with two workers."""

import os
import socket
import subprocess
import sys
import time
from http import HTTPStatus
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from ops.tests.conftest import value
from scripts.devstack import fresh_metrics_dir, web_server_command
from scripts.redis_server import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
COUNT_FAILURES = (
    "import django; django.setup(); from api import metrics; "
    "metrics.LOGIN_FAILURES.inc({n}); print('counted')"
)


def _in_multiprocess_mode(directory: Path, code: str) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "counted", result.stderr[-3000:]


@pytest.mark.django_db
def test_a_scrape_sums_the_counts_of_every_process(tmp_path, settings, client):
    _in_multiprocess_mode(tmp_path, COUNT_FAILURES.format(n=3))
    _in_multiprocess_mode(tmp_path, COUNT_FAILURES.format(n=4))
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)

    response = client.get("/metrics")

    assert response.status_code == HTTPStatus.OK
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per process
    assert value(response.content.decode(), "telehealth_login_failures_total") == 7


def test_make_runs_metrics_directory_starts_empty(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_4242.db").write_bytes(b"an earlier run's counts")

    fresh_metrics_dir(directory)

    assert list(directory.iterdir()) == []
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory)


HEALTHZ_OK = {"route": "healthz", "method": "GET", "status": "200"}


def _healthz_count(path: Path) -> float:
    """GET /healthz 200s counted in one process's file."""
    for metric in MultiProcessCollector.merge([str(path)]):
        for sample in metric.samples:
            if sample.name == "telehealth_http_requests_total" and sample.labels == HEALTHZ_OK:
                return sample.value
    return 0.0


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_the_web_servers_two_workers_are_summed_in_one_scrape(tmp_path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            web_server_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        # Both workers have loaded the application, and the server listens.
        while len(list(directory.glob("counter_*.db"))) < 2 or not _listens(port):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        sent = 0
        files = []
        # Each on a new connection, until both workers have answered some.
        while sent < 400 and not (sent >= 60 and len(files) == 2):
            assert requests.get(url + "/healthz", headers={"Connection": "close"}).ok
            sent += 1
            files = [f for f in directory.glob("counter_*.db") if _healthz_count(f)]
        scrape = requests.get(url + "/metrics", timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert scrape.status_code == HTTPStatus.OK, scrape.text
    assert len(files) == 2, "one worker answered every request: nothing to sum"
    per_process = [_healthz_count(f) for f in files]
    assert all(count > 0 for count in per_process)
    counted = value(scrape.text, "telehealth_http_requests_total", **HEALTHZ_OK)
    assert counted == sent == sum(per_process)
    families = {family.name for family in text_string_to_metric_families(scrape.text)}
    assert {"telehealth_http_requests", "telehealth_notifications"} <= families
