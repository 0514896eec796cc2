"""The OpenAPI document against the running service. schemathesis reads `/api/schema` and
sends what it generates from it (every operation; valid and invalid data; a fixed seed; every
check it has) to the web server as `make run` runs it (granian with api.serving in front of
Django), on the test database. A server error, a status, header, media type or body the
document does not declare, valid data refused or invalid data accepted: each fails the test,
with a curl command that reproduces it.

docs/api.md#openapi says what runs and what is left out, and why. Alone:
`pytest tests/test_openapi_fuzz.py -s` (prints the cases run per operation);
FUZZ_MAX_EXAMPLES and FUZZ_SEED make a longer or another run than CI's.
"""

import json
import os
import subprocess
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import schemathesis
from django.contrib.auth import get_user_model
from django.db import connection
from schemathesis.engine import Status, events, from_schema
from schemathesis.openapi.checks import RejectedPositiveData

from accounts.services import token_issue
from ops.services import worker_heartbeat_record
from scripts.devstack import web_server_command
from scripts.redis_server import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# CI's run: a fixed seed, and this many cases per operation in the fuzzing phase (the
# examples, coverage and stateful phases add theirs; the writes of patients, where most of the
# rules are, get twice as many). The variables make a longer run, or another, by hand.
SEED = int(os.environ.get("FUZZ_SEED", "20260105"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "40"))
MAX_EXAMPLES_PATIENT_WRITES = 2 * MAX_EXAMPLES
# The calls that would end the run's own session.
LEFT_OUT = ("/auth/logout", "/auth/logoutall")
NAMES = [
    "John Doe",
    "  Émile Zola ",
    "Zoë O'Brien-Smith",
    "李小龍",
    "Иван Петров",
    "محمد علي",
    "राम शर्मा",
    "Σωκράτης",
    "\uff2a\uff4f\uff48\uff4e",  # full-width: John
    "e\u0301",  # composed on the way in: é
    "A" * 200,
]
BIRTH_DATES = [
    "1900-01-01",
    "1931-12-31",
    "1968-02-29",
    "1999-07-14",
    "2024-02-29",
    (date.today() - timedelta(days=1)).isoformat(),
]
BIRTHDATE_SEARCHES = ["1968-02-29", "ge1990-01-01", "lt2000", "1984-03", "ne1931-12-31,le2024"]

# The rules of the patient fields that the document states only in words (see the
# dictionaries below): a refusal that names nothing else, of data the schema admits, is the
# service keeping its contract. The dictionaries keep the fuzzing phase's valid data valid;
# this sets aside the coverage phase's boundary values (a name "0", with no letter).
RULES_IN_WORDS = {
    "name": {"Name must contain a letter", "Name must not contain control or invisible characters"},
    "birth_date": {"Birth date cannot be in the future", "Birth date cannot be before 1900-01-01"},
}


# The same for FHIR's update, whose body's id must be the URL's (R4: else 400): a rule
# between the path and the body, which no schema states.
FHIR_RULES_IN_WORDS = {"The resource's id must be the id in the URL"}


def _refused_for_a_rule_in_words(failure, response) -> bool:
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return False
    try:
        body = response.json()
        if body.get("resourceType") == "OperationOutcome":
            return {issue["diagnostics"] for issue in body["issue"]} <= FHIR_RULES_IN_WORDS
        errors = body["errors"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return bool(errors) and all(
        set(messages) <= RULES_IN_WORDS.get(field, set()) for field, messages in errors.items()
    )


# schemathesis.toml's format: schemathesis.readthedocs.io/en/stable/reference/configuration/
CONFIG = """
seed = {seed}
# Every failure of every operation in the report, not only each operation's first.
continue-on-failure = true

[cache]
enabled = false

[generation]
mode = "all"
max-examples = {max_examples}
database = "none"

[[operations]]
include-path-regex = "^/patients"
include-method-regex = "^(POST|PUT|PATCH)$"
generation.max-examples = {max_examples_writes}

# Every check. `max_response_time` is the one left off: it needs a limit, which would be a
# timing assertion on a shared CI machine.
[checks]
enabled = true
# 412 (a stale If-Match), 422 (an Idempotency-Key used with another body, a FHIR business
# rule), 410 (a deleted patient, an expired FHIR search) and 405 (a FHIR update of an id that
# does not exist: updateCreate is false) answer the state of a record or a key, not the
# request's shape: as 404 and 409, already in the list, do.
positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "401", "403", "404", "405", "409", "410", "412", "422", "429", "5xx",
]

# Wrong credentials are 400, as the original API answered: valid data, refused.
[[operations]]
include-name = "POST /auth/login"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "429", "503"]

# A deleted patient's history stays readable: it is the record of what happened to them.
[[operations]]
include-name = "GET /patients/{{id}}/history"
checks.use_after_free.enabled = false

[auth.openapi.bearerAuth]
bearer = "{token}"

# A cursor is opaque: only those the service put in a Link header are positions, which no
# schema can say; the fuzzer draws them from real ones.
[dictionaries.cursors]
values = {cursors}

# A name holds a letter of any script and nothing invisible: Unicode's categories, which the
# pattern can name only in part (see patients/schema.py). Valid names come from this list.
[dictionaries.names]
values = {names}

# A birth date is a past day since 1900. "Past" is relative to today, which no schema can say:
# valid birth dates come from this list (invalid ones from the schema, as for any field).
[dictionaries.birth_dates]
values = {birth_dates}

# FHIR's birthdate search takes a prefix and a year, month or day: as for birth dates, a real
# calendar day is more than a pattern can say ("1968-02-30" matches it).
[dictionaries.birthdate_searches]
values = {birthdate_searches}

[parameters]
"query.cursor" = {{ dictionary = "cursors" }}
"body.birth_date" = {{ dictionary = "birth_dates" }}
"body.birthDate" = {{ dictionary = "birth_dates" }}
"query.birthdate" = {{ dictionary = "birthdate_searches" }}
"body.birthdate" = {{ dictionary = "birthdate_searches" }}
"body.name" = {{ dictionary = "names" }}
"""


def _database_url() -> str:
    """The test database, as a URL the server process can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def live_service(transactional_db, tmp_path):
    """The web server on the test database, with the rate limits off: the run's thousands of
    calls would meet them, and their 429s (declared) would hide what they refuse."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "API_RATE_USER": "off",
        "API_RATE_ANON": "off",
        "WEB_CONCURRENCY": "1",
        # No Celery worker runs here: the one heartbeat recorded below stands for one for the
        # whole run, so /health/status answers as it does with a worker (its 503 is tested
        # in ops/tests).
        "HEALTH_WORKER_MAX_AGE": "1h",
    }
    worker_heartbeat_record(worker="celery@fuzz")
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            web_server_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _answers(url):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def fuzzer_token(transactional_db) -> str:
    """The run's own token: a superuser's, so that every operation (an export's included)
    is open to it."""
    user, token = token_issue(username="schemathesis", create=True)
    get_user_model().objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
    return token


def _real_cursors(url: str, token: str) -> list[str]:
    """The cursors of a list's next and previous pages, as the service gives them."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for n in range(3):
        body = {
            "name": f"Cursor Seed{n}",
            "email": f"seed{n}@example.com",
            "phone": f"555010000{n}",
        }
        session.post(f"{url}/patients", json=body).raise_for_status()
    following = session.get(f"{url}/patients", params={"limit": 1}).links["next"]["url"]
    preceding = session.get(following).links["prev"]["url"]
    return [parse_qs(urlsplit(link).query)["cursor"][0] for link in (following, preceding)]


class Run:
    """What the engine reported: cases per operation and phase, and one example of each
    distinct failure."""

    def __init__(self):
        self.cases = Counter()
        self.phases = Counter()
        self.failures = {}
        self.errors = []
        self.set_aside = 0

    def record(self, event) -> None:
        if isinstance(event, events.ScenarioFinished):
            self._scenario(event)
        elif isinstance(event, events.NonFatalError):
            self.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            self.errors.append(repr(event.exception))

    def _scenario(self, event) -> None:
        recorder = event.recorder
        self.set_aside += sum(recorder.filtered_failures.values())
        for node in recorder.cases.values():
            self.cases[node.value.operation.label] += 1
            self.phases[event.phase.name.lower()] += 1
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.status != Status.FAILURE:
                    continue
                case = recorder.cases[case_id].value
                failure = check.failure_info.failure
                key = (case.operation.label, check.name, failure.title)
                if key in self.failures:
                    continue
                interaction = recorder.interactions.get(case_id)
                response = interaction.response if interaction else None
                self.failures[key] = "\n".join(
                    [
                        f"{key[0]}: {check.name} ({event.phase.name.lower()} phase)",
                        f"  {failure.message}".replace("\n", "\n  "),
                        f"  {case.as_curl_command()}",
                        f"  -> {response.status_code} {response.content[:500]!r}"
                        if response is not None
                        else "  -> no response",
                    ]
                )

    def summary(self) -> str:
        lines = [
            f"schemathesis ran {self.total} cases (seed {SEED}), by phase {dict(self.phases)}; "
            f"{self.set_aside} refusals for a rule the document states in words set aside:"
        ]
        lines += [f"  {count:5d}  {label}" for label, count in sorted(self.cases.items())]
        return "\n".join(lines)

    @property
    def total(self) -> int:
        return sum(self.cases.values())


def test_every_operation_answers_as_the_document_says(live_service, fuzzer_token):
    config = schemathesis.Config.from_str(
        CONFIG.format(
            seed=SEED,
            max_examples=MAX_EXAMPLES,
            max_examples_writes=MAX_EXAMPLES_PATIENT_WRITES,
            token=fuzzer_token,
            cursors=json.dumps(_real_cursors(live_service, fuzzer_token)),
            birth_dates=json.dumps(BIRTH_DATES),
            birthdate_searches=json.dumps(BIRTHDATE_SEARCHES),
            names=json.dumps(NAMES, ensure_ascii=False),
        )
    )
    schema = schemathesis.openapi.from_url(f"{live_service}/api/schema?format=json", config=config)
    schema = schema.exclude(path=list(LEFT_OUT))

    @schema.hook
    def filter_failure(context, failure, case, response):
        return not _refused_for_a_rule_in_words(failure, response)

    operations = {operation.label for operation in _operations(schema)}

    run = Run()
    for event in from_schema(schema).execute():
        run.record(event)

    print("\n" + run.summary())
    assert not run.errors, "\n\n".join(run.errors)
    assert not run.failures, "\n\n".join(run.failures.values())
    assert set(run.cases) == operations  # every operation of the document ran
    assert not any(label.split()[1] in LEFT_OUT for label in operations)


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()
