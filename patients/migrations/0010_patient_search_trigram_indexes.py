"""Trigram indexes for `?search=` on PostgreSQL, so that a fragment of a name, email or phone
is found through them at a million patients instead of by reading the whole table.

On PostgreSQL only, and so not in Patient's Meta.indexes: those are built on every database,
and SQLite has neither GIN indexes nor pg_trgm (no index of its own can serve a
`LIKE '%ana%'`, docs/benchmarks.md). Here the migration does nothing, both ways; the
autodetector never sees a RunPython, so the model's state stays what Meta says.
"""

from django.db import migrations

# patient_search's filter as PostgreSQL's backend writes it: `name__icontains` is
# UPPER("name"::text) LIKE UPPER('%ana%'), `phone__contains` is "phone"::text LIKE '%555%'.
# An index serves a LIKE only on the expression the query names, so these are the query's
# own (the phone's ::text is a relabelling of varchar that the planner looks through).
INDEXES = {
    "patient_name_trgm_idx": 'UPPER("name"::text) gin_trgm_ops',
    "patient_email_trgm_idx": 'UPPER("email"::text) gin_trgm_ops',
    "patient_phone_trgm_idx": '"phone" gin_trgm_ops',
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        # CONCURRENTLY: building one takes about a minute at a million patients, and a plain
        # CREATE INDEX would block every write to the table for that long during a deploy.
        # An interrupted concurrent build leaves an invalid index of the same name behind;
        # this migration is not recorded then, and the next try drops that one first.
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY "{name}" ON "patients_patient" USING gin ({expression})'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other objects may have come to use it since.
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction block.
    atomic = False

    dependencies = [
        ("patients", "0009_birth_date_index"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
