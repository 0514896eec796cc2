"""At scale, every lookup and filter the API offers on patients is answered through an index:
each request's queries on the patients' tables are EXPLAINed on a table of 20,000 patients
(large enough for the planners to prefer an index where one fits), on SQLite and PostgreSQL,
and none reads the whole table. A request's query count does not grow with its page.

Not here, because no B-tree index can serve them: `?search=` with a fragment of a name,
email or phone, FHIR's `name` search, and `?count=true` (docs/benchmarks.md says so)."""

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import Patient
from patients.selectors import LIST_ORDERING
from patients.services import patients_seed_demo

pytestmark = pytest.mark.django_db

SIZE = 20_000
LARGE_TABLES = ("patients_patient", "patients_historicalpatient")


@pytest.fixture(scope="module")
def patients(django_db_setup, django_db_blocker):
    """20,000 patients, their statistics gathered, for the whole module (removed after it)."""
    with django_db_blocker.unblock():
        patients_seed_demo(count=SIZE)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        rows = Patient.objects.order_by(*LIST_ORDERING)
        yield rows[SIZE // 2]
        Patient.objects.all().delete()
        Patient.history.all().delete()  # the versions, the deletions' included
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # statistics of the emptied tables, for later tests


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(row[-1] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def full_scans(plan_text: str, *, filtered: bool) -> list[str]:
    """The lines of a plan that read one of the large tables whole.

    On SQLite, a scan in an index's order ("SCAN t USING INDEX i") is how the unfiltered list
    reads its page: it stops at the page's LIMIT. Under a filter it would read on until
    enough rows matched, possibly all of them, so there a filtered query must seek
    ("SEARCH"). PostgreSQL's planner weighs that itself: for a birth-year range (1% of the
    patients) it walks the list's index and filters, expecting the page's 51 rows within a
    few thousand; only its sequential scans are counted here.
    """
    tables = "|".join(LARGE_TABLES)
    if connection.vendor == "sqlite":
        pattern = rf"^SCAN ({tables})\b" if filtered else rf"^SCAN ({tables})( AS \w+)?$"
    else:
        pattern = rf"Seq Scan on ({tables})\b"
    return [line for line in plan_text.splitlines() if re.search(pattern, line.strip())]


def queries_of(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.content[:300])
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT") and any(t in query["sql"] for t in LARGE_TABLES)
    ]


def paths(patient: Patient, client) -> list[tuple[str, bool]]:
    """The API's reads of patients, each with whether it filters (False: the first page)."""
    deep = client.get("/patients?limit=500")["Link"].split(">", 1)[0].lstrip("<")
    year = patient.birth_date.year
    return [
        (f"/patients/{patient.pk}", True),
        ("/patients", False),
        ("/patients?" + deep.split("?", 1)[1], True),
        ("/patients?" + urlencode({"search": patient.email}), True),
        ("/patients?" + urlencode({"search": patient.phone}), True),
        (f"/patients/{patient.pk}/history", True),
        (f"/fhir/Patient/{patient.pk}", True),
        (f"/fhir/Patient/{patient.pk}/_history", True),
        ("/fhir/Patient?" + urlencode({"email": patient.email}), True),
        ("/fhir/Patient?" + urlencode({"phone": patient.phone}), True),
        (f"/fhir/Patient?birthdate={patient.birth_date.isoformat()}", True),
        (f"/fhir/Patient?birthdate=ge{year}&birthdate=lt{year + 1}", True),
        (f"/fhir/Patient?_id={patient.pk}", True),
        (f"/fhir/Patient?identifier=urn:uuid:{patient.pk}", True),
    ]


def test_every_lookup_and_filter_on_patients_uses_an_index(patients, alice):
    checked = 0
    for path, filtered in paths(patients, alice):
        for sql in queries_of(alice, path):
            text = plan(sql)
            assert full_scans(text, filtered=filtered) == [], f"{path}\n{sql}\n{text}"
            checked += 1
    assert checked >= 14  # every path ran at least one query on the patients' tables


@pytest.mark.parametrize("limit", [1, 50, 500])
def test_a_page_costs_the_same_queries_whatever_its_size(patients, alice, limit):
    with CaptureQueriesContext(connection) as captured:
        response = alice.get(f"/patients?limit={limit}")
    assert len(response.json()) == limit
    # The token, the permissions and the page; the access record and its patient ids.
    assert len(captured.captured_queries) <= 8
