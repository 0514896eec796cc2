"""At scale, every lookup and filter the API offers on patients is answered through an index:
each request's queries on the patients' tables are EXPLAINed on a table of 20,000 patients
(large enough for the planners to prefer an index where one fits), on SQLite and PostgreSQL,
and none reads the whole table. A request's query count does not grow with its page.

`?search=` with a fragment of a name, email or phone, and FHIR's `name` search, are served
on PostgreSQL by trigram indexes (migration 0010); on SQLite no index can serve them, and a
test says a fragment search reads the table, as docs/benchmarks.md does. Not here, because
no index serves it: `?count=true`."""

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from patients.models import Patient
from patients.selectors import LIST_ORDERING
from patients.services import patients_seed_demo
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

SIZE = 20_000
LARGE_TABLES = ("patients_patient", "patients_historicalpatient")
# Migration 0010's, one for each column patient_search matches a fragment in.
TRIGRAM_INDEXES = ("patient_name_trgm_idx", "patient_email_trgm_idx", "patient_phone_trgm_idx")
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


@pytest.fixture(scope="module")
def patients(django_db_setup, django_db_blocker):
    """20,000 patients, their statistics gathered, for the whole module (removed after it)."""
    with django_db_blocker.unblock():
        patients_seed_demo(count=SIZE)
        with connection.cursor() as cursor:
            # On PostgreSQL, as autovacuum leaves a table: a GIN index takes new rows into a
            # pending list, which the planner costs as slow to read until a vacuum merges it.
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        rows = Patient.objects.order_by(*LIST_ORDERING)
        yield rows[SIZE // 2]
        # In SQL, not by the ORM's delete(), which would make and then remove a "deleted"
        # version for each of the 20,000 (most of this module's time). Notices first: they
        # point at patients the module's tests made.
        Notification.objects.all().delete()
        with connection.cursor() as cursor:
            for model in (Patient.history.model, Patient):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
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


@on_postgresql
def test_a_rare_fragment_search_on_postgresql_uses_the_trigram_indexes(patients, alice):
    PatientFactory(name="Zebulon Quarrington", email="zq@example.com", phone="+15559990001")
    for fragment in ("quarr", "9990"):  # in one name; in a few emails and phones
        [sql] = queries_of(alice, "/patients?" + urlencode({"search": fragment}))
        text = plan(sql)
        assert full_scans(text, filtered=True) == [], f"{fragment}\n{text}"
        # A bitmap OR of the three: the name's, the email's and the phone's.
        for index in TRIGRAM_INDEXES:
            assert f"Bitmap Index Scan on {index}" in text, f"{fragment}\n{text}"


@on_postgresql
def test_a_fhir_name_search_on_postgresql_uses_the_name_trigram_index(patients, alice):
    PatientFactory(name="Zebulon Quarrington", email="zq@example.com", phone="+15559990001")
    plans = [plan(sql) for sql in queries_of(alice, "/fhir/Patient?name=quarr")]
    assert plans
    for text in plans:
        assert full_scans(text, filtered=True) == [], text
    assert any("Bitmap Index Scan on patient_name_trgm_idx" in text for text in plans), plans


@on_postgresql
def test_a_common_fragment_search_on_postgresql_reads_no_whole_table(patients, alice):
    # "ana" is in one name in seven: the planner may walk the list's index until the page
    # is full rather than gather every match, and either way reads no whole table.
    [sql] = queries_of(alice, "/patients?search=ana")
    text = plan(sql)
    assert full_scans(text, filtered=True) == [], text


@on_sqlite
def test_a_fragment_search_on_sqlite_reads_the_table(patients, alice):
    # No index of SQLite's serves LIKE '%ana%': docs/benchmarks.md gives its time at a
    # million patients. A whole email or phone number is found by its unique index (above).
    [sql] = queries_of(alice, "/patients?search=ana")
    assert full_scans(plan(sql), filtered=True) != []
