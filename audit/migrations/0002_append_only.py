"""The database refuses to change access records, so that not even code that bypasses the
service (or a shell) can rewrite who looked at what.

One change is allowed: deleting a user sets their records' `user_id` to NULL (the
foreign key's SET_NULL), and the records keep the `username` they had.

Deletes are refused on PostgreSQL only. Its test runs empty the tables between
transactional tests with TRUNCATE, which fires no row trigger, and a deliberate purge of old
records is a TRUNCATE or a DBA's `ALTER TABLE ... DISABLE TRIGGER`. SQLite has no TRUNCATE:
Django's flush (transactional tests, `manage.py flush`) empties a table with DELETE, which a
trigger would refuse, so on SQLite a delete is refused by the application alone (no API, no
admin permission, no delete permission at all).

On SQLite, a later migration that alters either table makes it anew (SQLite's ALTER TABLE
is limited), which drops these triggers: such a migration must create them again.
audit/tests/test_append_only.py fails if they are missing.
"""

from django.db import migrations

SQLITE_COLUMNS = ("id", "at", "username", "token", "via", "action", "status", "client_ip", "path")

SQLITE_CREATE = [
    "CREATE TRIGGER audit_accessrecord_no_update BEFORE UPDATE ON audit_accessrecord "
    "WHEN NEW.user_id IS NOT NULL OR "
    + " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in SQLITE_COLUMNS)
    + " BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END",
    "CREATE TRIGGER audit_accessrecordpatient_no_update BEFORE UPDATE ON "
    "audit_accessrecordpatient "
    "BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_accessrecord_no_update",
    "DROP TRIGGER IF EXISTS audit_accessrecordpatient_no_update",
]

# Every column but user_id compared at once, so a column added later is covered too.
POSTGRESQL_CREATE = [
    """
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_accessrecord'
                AND NEW.user_id IS NULL
                AND to_jsonb(NEW) - 'user_id' = to_jsonb(OLD) - 'user_id' THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'access records are append-only';
    END
    $$
    """,
    "CREATE TRIGGER audit_accessrecord_append_only BEFORE UPDATE OR DELETE ON "
    "audit_accessrecord FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "CREATE TRIGGER audit_accessrecordpatient_append_only BEFORE UPDATE OR DELETE ON "
    "audit_accessrecordpatient FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS audit_accessrecordpatient_append_only ON audit_accessrecordpatient",
    "DROP TRIGGER IF EXISTS audit_accessrecord_append_only ON audit_accessrecord",
    "DROP FUNCTION IF EXISTS audit_append_only()",
]

STATEMENTS = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
    "postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP),
}


def _run(which: int):
    def run(apps, schema_editor):
        # Another database gets no guard; the application's own refusals still hold.
        for statement in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[which]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(_run(0), _run(1), elidable=False)]
