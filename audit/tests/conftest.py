"""Shared by the audit tests: a database that refuses new access records."""

import pytest
from django.db import connection

REFUSE = {
    "sqlite": [
        "CREATE TRIGGER test_refuse_records BEFORE INSERT ON audit_accessrecord "
        "BEGIN SELECT RAISE(ABORT, 'test: no records'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION test_refuse_records() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'test: no records'; END $$",
        "CREATE TRIGGER test_refuse_records BEFORE INSERT ON audit_accessrecord "
        "FOR EACH ROW EXECUTE FUNCTION test_refuse_records()",
    ],
}


@pytest.fixture
def records_refused(db):
    """The database refuses to store an access record (as a full disk or a broken table
    would). Made inside the test's transaction, so it goes with the rollback at its end."""
    if connection.vendor not in REFUSE:
        pytest.skip(f"no refusing trigger written for {connection.vendor}")
    with connection.cursor() as cursor:
        for statement in REFUSE[connection.vendor]:
            cursor.execute(statement)
