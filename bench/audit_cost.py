"""`make bench-audit`: what the access audit costs a request, in-process.

On a fresh database of its own (SQLite under var/, or the one --database-url names: never
the environment's DATABASE_URL, as it creates a user and a patient), times GET /patients/<id>
through Django's test client (no server, rate limits off) and, alone, the access record such
a read writes: with one patient id, and with the 50 of a list page. Prints milliseconds per
call.
A benchmark, not a test: figures vary between machines; the web benchmark is `make bench`'s.

    .venv/bin/python bench/audit_cost.py [--count 2000] [--database-url postgres://...]
"""

import argparse
import os
import secrets
import shutil
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench-audit"
sys.path.insert(0, str(ROOT))


def _per_call_ms(call, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - start) / count * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--database-url", default=f"sqlite:///{WORK / 'bench.sqlite3'}")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "telehealth.settings",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
            "DJANGO_HTTPS": "0",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "API_RATE_USER": "off",
            "API_RATE_ANON": "off",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": args.database_url,
            # Nothing is published: the welcome notice of the patient it makes stays queued.
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from accounts.services import roles_setup, token_issue
    from audit.models import Action, Via
    from audit.services import access_record
    from patients.services import patient_create

    setup_test_environment()
    call_command("migrate", verbosity=0)
    roles_setup()
    _, token = token_issue(username=f"bench-{uuid.uuid4().hex[:8]}", create=True, role="clinician")
    patient = patient_create(
        name="Ann Lee", email=f"{uuid.uuid4().hex[:12]}@example.com", phone="+15550100000"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/patients/{patient.pk}"
    for _ in range(200):  # warm-up
        assert client.get(url).status_code == 200

    def record(ids):
        return lambda: access_record(
            action=Action.PATIENT_READ, via=Via.API, patient_ids=ids, status_code=200, path=url
        )

    page = [uuid.uuid4() for _ in range(50)]
    database = os.environ["DATABASE_URL"].split(":", 1)[0]
    print(f"database: {database}; {args.count} calls each")
    print(
        f"GET one patient:               {_per_call_ms(lambda: client.get(url), args.count):.3f} ms"
    )
    print(f"its access record alone:       {_per_call_ms(record([patient.pk]), args.count):.3f} ms")
    print(f"a record naming 50 patients:   {_per_call_ms(record(page), args.count):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
