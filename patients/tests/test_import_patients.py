"""`manage.py import_patients FILE`: CSV, NDJSON and the original service's SQLite database,
checked by the API's rules, idempotent, with a private report of every row."""

import csv
import io
import json
import re
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit.models import AccessRecord
from notifications.models import Notification
from patients.imports import MAX_LINE_BYTES, RawRow, RowValidator
from patients.models import Patient
from patients.services import Outcome, PatientsImport, patient_create, patient_delete

pytestmark = pytest.mark.django_db

HEADER = "name,phone,email,preferred_channel,sms_opt_out,email_opt_out,birth_date\n"


def _import(path: Path, *args: str) -> tuple[str, list[dict]]:
    """Runs the import; returns its summary and the report's rows."""
    report = path.with_name(path.name + ".report.csv")
    report.unlink(missing_ok=True)
    out = io.StringIO()
    call_command(
        "import_patients",
        str(path),
        "--report",
        str(report),
        "--no-progress",
        *args,
        stdout=out,
        stderr=io.StringIO(),
    )
    with report.open(newline="", encoding="utf-8") as file:
        return out.getvalue(), list(csv.DictReader(file))


def _csv(tmp_path: Path, body: str, name: str = "patients.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _outcomes(report: list[dict]) -> dict[int, tuple[str, str]]:
    return {int(row["line"]): (row["outcome"], row["reason"]) for row in report}


def test_a_csv_import_creates_each_patient_with_a_created_version_and_no_notice(tmp_path):
    path = _csv(
        tmp_path,
        "Ana Lima,+15550001111,ana@example.org,email,true,false,1990-01-02\n"
        "Bob Ruiz,(555) 000-1112,Bob@Example.ORG,,,,\n",
    )

    summary, report = _import(path)

    assert "Imported 2 new patient(s)" in summary
    ana = Patient.objects.get(email="ana@example.org")
    assert (ana.name, ana.phone, ana.preferred_channel) == ("Ana Lima", "+15550001111", "email")
    assert (ana.sms_opt_out, ana.email_opt_out, str(ana.birth_date)) == (True, False, "1990-01-02")
    bob = Patient.objects.get(email="bob@example.org")  # normalized as the API does
    assert (bob.phone, bob.preferred_channel, bob.birth_date) == ("5550001112", "sms", None)
    assert [row["outcome"] for row in report] == ["created", "created"]
    assert {row["patient_id"] for row in report} == {str(ana.pk), str(bob.pk)}
    versions = Patient.history.all()
    assert set(versions.values_list("history_type", "via")) == {("+", "command")}
    assert versions.count() == 2
    assert not Notification.objects.exists()


def test_a_second_run_of_the_same_file_creates_nothing(tmp_path):
    path = _csv(
        tmp_path,
        "Ana Lima,+15550001111,ana@example.org,,,,\nBob Ruiz,+15550001112,bob@example.org,,,,\n",
    )
    _import(path)

    summary, report = _import(path)

    assert "Imported 0 new patient(s)" in summary
    assert "2 already present" in summary
    assert Patient.objects.count() == 2
    assert Patient.history.count() == 2
    assert [(row["outcome"], row["reason"]) for row in report] == [("present", "same email")] * 2


def test_a_row_is_the_same_patient_by_its_normalized_email(tmp_path):
    stored = patient_create(name="Ana Lima", email="ana@example.org", phone="+15550001111")
    # Full-width letters and an upper-case domain: the same mailbox.
    path = _csv(tmp_path, "Ana L.,+15559999999,\uff21\uff2e\uff21@EXAMPLE.org,,,,\n")

    _, report = _import(path)

    assert report == [
        {"line": "2", "outcome": "present", "patient_id": str(stored.pk), "reason": "same email"}
    ]
    stored.refresh_from_db()
    assert (stored.name, stored.version) == ("Ana Lima", 1)  # an import never changes a patient


def test_bad_rows_are_reported_with_their_line_numbers_and_the_good_ones_imported(tmp_path):
    path = _csv(
        tmp_path,
        "Good One,+15550001111,good@example.org,,,,\n"
        "Bad Email,+15550001112,not-an-email,,,,\n"
        "Bad Phone,12,phone@example.org,,,,\n"
        "\u202eevil,+15550001113,rtl@example.org,,,,\n"
        "Opt Out,+15550001114,opt@example.org,,maybe,,\n"
        "Future Born,+15550001115,future@example.org,,,,2999-01-01\n"
        "Channel,+15550001116,channel@example.org,pigeon,,,\n"
        "Too,Few,Cells\n"
        ",+15550001117,noname@example.org,,,,\n"
        "\n"
        "Good Two,+15550001118,good2@example.org,,,,\n",
    )

    summary, report = _import(path)

    outcomes = _outcomes(report)
    assert outcomes[2][0] == outcomes[12][0] == "created"
    assert outcomes[3] == ("invalid", "email: Invalid email format")
    assert outcomes[4] == ("invalid", "phone: Invalid phone number format")
    assert outcomes[5][0] == "invalid"
    assert outcomes[5][1].startswith("name: ")
    assert outcomes[6] == ("invalid", "sms_opt_out: must be true or false")
    assert outcomes[7][0] == "invalid"
    assert outcomes[7][1].startswith("birth_date: ")
    assert outcomes[8][0] == "invalid"
    assert outcomes[8][1].startswith("preferred_channel: ")
    assert outcomes[9] == ("invalid", "the row has 3 cells and the header 7")
    assert outcomes[10] == ("invalid", "name: Name may not be blank.")
    assert 11 not in outcomes  # a blank line is no row
    assert "Imported 2 new patient(s)" in summary
    assert "8 invalid" in summary
    assert set(Patient.objects.values_list("email", flat=True)) == {
        "good@example.org",
        "good2@example.org",
    }


def test_rows_for_one_patient_twice_in_a_file_are_reported_as_duplicates(tmp_path):
    known = uuid.uuid4()
    path = tmp_path / "dupes.csv"
    path.write_text(
        "id,name,phone,email\n"
        f"{known},Ana Lima,+15550001111,ana@example.org\n"
        f"{known},Ana Again,+15550001112,ana2@example.org\n"
        ",Ana Third,+15550001113,ANA@example.org\n"
        ",Ben Share,+15550001111,ben@example.org\n",
        encoding="utf-8",
    )

    _, report = _import(path)

    assert _outcomes(report) == {
        2: ("created", ""),
        3: ("duplicate", "same id as line 2"),
        4: ("duplicate", "same email as line 2"),
        5: ("conflict", "same phone as line 2"),
    }
    assert list(Patient.objects.values_list("pk", flat=True)) == [known]


def test_an_email_or_phone_another_patient_holds_is_a_conflict(tmp_path):
    holder = patient_create(name="Held", email="held@example.org", phone="+15550001111")
    path = tmp_path / "clash.csv"
    path.write_text(
        "id,name,phone,email\n"
        f"{uuid.uuid4()},Other,+15550002222,held@example.org\n"
        ",Another,+15550001111,another@example.org\n",
        encoding="utf-8",
    )

    _, report = _import(path)

    assert [(row["outcome"], row["patient_id"], row["reason"]) for row in report] == [
        ("conflict", str(holder.pk), "another patient has this email"),
        ("conflict", str(holder.pk), "another patient has this phone"),
    ]
    assert Patient.objects.count() == 1


def test_a_deleted_patients_id_does_not_bring_them_back(tmp_path):
    gone = patient_create(name="Gone", email="gone@example.org", phone="+15550001111")
    patient_delete(patient=gone)
    path = tmp_path / "gone.csv"
    path.write_text(f"id,name,phone,email\n{gone.pk},Gone,+15550001111,gone@example.org\n")

    _, report = _import(path)

    assert report[0]["outcome"] == "deleted"
    assert "restore" in report[0]["reason"]
    assert not Patient.objects.exists()


def test_notify_queues_a_welcome_notice_for_each_new_patient_only(tmp_path):
    patient_create(name="Old", email="old@example.org", phone="+15550001111")
    Notification.objects.all().delete()
    path = _csv(
        tmp_path,
        "Old,+15550001111,old@example.org,,,,\nNew Person,+15550001112,new@example.org,,,,\n",
    )

    _import(path, "--notify")

    new = Patient.objects.get(email="new@example.org")
    notices = list(Notification.objects.all())
    assert [(n.patient_id, n.kind) for n in notices] == [(new.pk, Notification.Kind.WELCOME)]
    assert notices[0].first_name == "New"  # at most the first name


def test_each_batch_is_recorded_in_the_access_audit_with_the_patients_it_named(tmp_path):
    path = _csv(tmp_path, "".join(f"P{i},+1555000{i:04d},p{i}@example.org,,,,\n" for i in range(5)))

    _import(path, "--batch-size", "2")

    records = AccessRecord.objects.filter(action="patient.import").order_by("id")
    assert [(r.via, r.status, r.path) for r in records] == [("command", 0, "import_patients")] * 3
    named = {str(p.patient_id) for r in records for p in r.patients.all()}
    assert named == {str(pk) for pk in Patient.objects.values_list("pk", flat=True)}


def test_the_report_is_readable_by_its_owner_only_and_never_replaces_a_file(tmp_path):
    path = _csv(tmp_path, "Ana Lima,+15550001111,ana@example.org,,,,\n")
    report = tmp_path / "report.csv"

    call_command("import_patients", str(path), "--report", str(report), "--no-progress")

    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    before = report.read_bytes()
    with pytest.raises(CommandError, match="File exists"):
        call_command("import_patients", str(path), "--report", str(report), "--no-progress")
    assert report.read_bytes() == before


def test_the_report_goes_beside_the_file_by_default_and_progress_to_stderr(tmp_path):
    path = _csv(tmp_path, "Ana Lima,+15550001111,ana@example.org,,,,\n")
    out, err = io.StringIO(), io.StringIO()

    call_command("import_patients", str(path), stdout=out, stderr=err)

    (report,) = tmp_path.glob("patients.csv.import-*.csv")
    assert str(report) in out.getvalue()
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert "1/1" in err.getvalue()
    assert "rows" in err.getvalue()


def test_the_original_services_database_is_migrated_keeping_its_ids(tmp_path, client):
    original = tmp_path / "patients.db"
    database = sqlite3.connect(original)
    # The original's table, as Flask-SQLAlchemy made it: no unique constraints.
    database.execute(
        "CREATE TABLE patient (id VARCHAR(36) NOT NULL, name VARCHAR(100) NOT NULL, "
        "email VARCHAR(100) NOT NULL, phone VARCHAR(15) NOT NULL, PRIMARY KEY (id))"
    )
    ids = [str(uuid.uuid4()) for _ in range(4)]
    database.executemany(
        "INSERT INTO patient VALUES (?, ?, ?, ?)",
        [
            (ids[0], "John Doe", "john@example.com", "1234567890"),
            (ids[1], "Jane Doe", "jane@example.com", "0987654321"),
            (ids[2], "John Again", "JOHN@example.com", "1234567899"),  # the original allowed it
            (ids[3], "No Phone", "nophone@example.com", "abc"),
        ],
    )
    database.commit()
    database.close()

    _, report = _import(original)

    assert _outcomes(report) == {
        1: ("created", ""),
        2: ("created", ""),
        3: ("duplicate", "same email as line 1"),
        4: ("invalid", "phone: Invalid phone number format"),
    }
    assert set(map(str, Patient.objects.values_list("pk", flat=True))) == set(ids[:2])
    assert Patient.objects.get(pk=ids[0]).email == "john@example.com"
    # The original's file is read, never written.
    assert sqlite3.connect(original).execute("SELECT count(*) FROM patient").fetchone() == (4,)


def test_a_sqlite_file_that_is_not_the_originals_is_refused(tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE people (id TEXT)").connection.commit()

    with pytest.raises(CommandError, match="no patient table"):
        _import(other)


def test_ndjson_rows_are_checked_as_the_apis_json_bodies(tmp_path):
    path = tmp_path / "patients.ndjson"
    lines = [
        {"name": "Ana Lima", "phone": "+15550001111", "email": "ana@example.org"},
        {"name": 12, "phone": "+15550001112", "email": "n@example.org"},
        {"name": "Opt", "phone": "+15550001113", "email": "o@example.org", "sms_opt_out": 1},
        {"name": "Extra", "phone": "+15550001114", "email": "e@example.org", "admin": True},
        ["not", "an", "object"],
    ]
    path.write_text(
        "\n".join(json.dumps(line) for line in lines) + "\n{not json\n" + "[" * 50_000 + "\n",
        encoding="utf-8",
    )

    _, report = _import(path)

    assert _outcomes(report) == {
        1: ("created", ""),
        2: ("invalid", "name: Name must be a string."),
        3: ("invalid", "sms_opt_out: Must be a valid boolean."),
        4: ("invalid", "unknown field(s) 'admin'"),
        5: ("invalid", "the line is not a JSON object"),
        6: ("invalid", "the line is not a JSON object"),
        7: ("invalid", "the line is not a JSON object"),
    }


def test_bytes_that_are_not_utf8_spoil_only_their_row(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        HEADER.encode()
        + b"Ana Lima,+15550001111,ana@example.org,,,,\n"
        + b"Bad \xff\xfe Name,+15550001112,bad@example.org,,,,\n"
        + b"Ben Ruiz,+15550001113,ben@example.org,,,,\n"
    )

    _, report = _import(path)

    assert _outcomes(report) == {
        2: ("created", ""),
        3: ("invalid", "the row is not UTF-8 text"),
        4: ("created", ""),
    }


def test_cells_the_export_escaped_as_formulas_are_read_back_and_others_kept(tmp_path):
    path = _csv(
        tmp_path,
        "'=Eve Formula,'+15550001111,eve@example.org,,,,\n"
        "'Quoted Name,+15550001112,quote@example.org,,,,\n"
        "''=Quoted Formula,+15550001113,quoted@example.org,,,,\n",
    )

    _import(path)

    assert Patient.objects.get(email="eve@example.org").name == "=Eve Formula"
    assert Patient.objects.get(email="eve@example.org").phone == "+15550001111"
    assert Patient.objects.get(email="quote@example.org").name == "'Quoted Name"
    assert Patient.objects.get(email="quoted@example.org").name == "'=Quoted Formula"


GOOD_ROW = "Ana Lima,+15550001111,ana@example.org,,,,\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("name,phone,email,ssn\n", "unknown column(s) 'ssn'"),
        ("name,phone\nAna,+15550001111\n", "no 'email' column"),
        ("name,phone,email,email\n", "'email' appear twice"),
        # A good row before the long line: it is not added either.
        (HEADER + GOOD_ROW + "A," + "x" * MAX_LINE_BYTES + ",a@example.org,,,,\n", "longer than"),
        # A quote never closed would take in every row after it as one cell.
        (
            HEADER + GOOD_ROW + '"Bob,+15550001112,bob@example.org,,,,\n' + GOOD_ROW,
            "line 3: unexpected end of data",
        ),
        # Old Macs' line ends (CR alone): no line the reader can split.
        ("name,phone,email\rAna Lima,+15550001111,ana@example.org\r", "line 1: new-line"),
        (b"SQLite format 3\x00" + b"\x13" * 200, "not a readable SQLite database"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_before_anything_changes(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, newline="")

    with pytest.raises(CommandError, match=re.escape(message)):
        _import(path)
    assert not Patient.objects.exists()
    assert not list(tmp_path.glob("*.report.csv"))


def test_a_row_another_writer_takes_between_the_check_and_the_insert_is_a_conflict():
    validator = RowValidator()
    emails = ["first@example.org", "taken@example.org", "third@example.org"]
    rows = [
        validator.check(RawRow(line, {"name": "P", "phone": f"+1555000{line:04d}", "email": email}))
        for line, email in enumerate(emails)
    ]
    run = PatientsImport()
    decided, to_create = run._against_stored(rows)
    assert not decided
    assert len(to_create) == 3
    # Another writer, after the batch was checked against what is stored:
    patient_create(name="Quick", email="taken@example.org", phone="+15559999999")

    outcomes = run._create(to_create)

    assert [outcomes[line].outcome for line in range(3)] == [
        Outcome.CREATED,
        Outcome.CONFLICT,
        Outcome.CREATED,
    ]
    assert Patient.objects.count() == 3


@pytest.mark.parametrize("file_format", ["csv", "ndjson"])
def test_an_export_imports_into_an_empty_database_unchanged(tmp_path, file_format):
    for name, email, phone in [
        ('=HYPERLINK("http://x")', "formula@example.org", "+15550001111"),
        ("'=Quoted", "quoted@example.org", "5550001112"),
        ("Zoë Ångström-Nuñez", "zoe@xn--bcher-kva.example", "+4930123456"),
        ("O'Brien, Seán", "Sean.OBrien@example.org", "+15550001113"),
    ]:
        patient_create(name=name, email=email, phone=phone, sms_opt_out=True)
    fields = ["id", "name", "phone", "email", "preferred_channel", "sms_opt_out", "birth_date"]
    before = sorted(Patient.objects.values_list(*fields))
    exported = tmp_path / f"patients.{file_format}"
    call_command(
        "export_patients", "--format", file_format, "--output", str(exported), "--no-progress"
    )
    # As a database that never had them: no record and no history of them.
    Patient.objects.all().delete()
    Patient.history.all().delete()

    summary, report = _import(exported)

    assert "Imported 4 new patient(s)" in summary
    assert [row["outcome"] for row in report] == ["created"] * 4
    assert sorted(Patient.objects.values_list(*fields)) == before


def test_a_file_without_a_header_is_refused_without_repeating_its_first_patient(tmp_path):
    path = tmp_path / "no-header.csv"
    path.write_text("Ana Lima,+15550001111,ana@example.org\n")

    with pytest.raises(CommandError) as refused:
        _import(path)

    message = str(refused.value)
    assert "the first line is not a header" in message
    assert "Ana" not in message
    assert "ana@example.org" not in message


def test_a_stored_id_with_other_details_is_present_and_says_so(tmp_path):
    stored = patient_create(name="Ana Lima", email="ana@example.org", phone="+15550001111")
    path = tmp_path / "edited.csv"
    path.write_text(f"id,name,phone,email\n{stored.pk},Ana Lima,+15550001111,new@example.org\n")

    _, report = _import(path)

    assert report[0]["outcome"] == "present"
    assert "email differs" in report[0]["reason"]
    stored.refresh_from_db()
    assert stored.email == "ana@example.org"


def test_bytes_that_are_not_utf8_inside_a_quoted_cell_spoil_only_their_row(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_bytes(
        HEADER.encode()
        + b'"Ana\n\xff Lima",+15550001111,ana@example.org,,,,\n'
        + b"Ben Ruiz,+15550001113,ben@example.org,,,,\n"
    )

    _, report = _import(path)

    assert _outcomes(report) == {
        2: ("invalid", "the row is not UTF-8 text"),
        4: ("created", ""),
    }
