"""A deleted patient's personal data is kept for the retention period, then erased from their
versions, their notices and the admin's log; what happened, when and by whom stays."""

import importlib
import io
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from api.models import IdempotencyKey
from audit.models import AccessRecord, Action
from notifications.models import Notification
from notifications.services import NotificationErased, notification_resend
from patients.models import PERSONAL_FIELDS, Patient
from patients.services import (
    PatientNotRestorable,
    patient_create,
    patient_delete,
    patient_restore,
    patient_update,
)
from patients.tasks import patients_purge_deleted_task
from patients.tests.factories import ANN

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "purge_deleted_patients"
BEA = {"name": "Bea Quill", "email": "bea@example.com", "phone": "+15550102222"}
CAL = {"name": "Cal Rivers", "email": "cal@example.com", "phone": "+15550103333"}
DEV = {"name": "Dev Stone", "email": "dev@example.com", "phone": "+15550104444"}
# Patient's fields that hold no personal data. Every field is in this list or in
# patients.models.PERSONAL_FIELDS (the purge erases those): classify a new field there.
NON_PERSONAL_FIELDS = {
    "id",
    "preferred_channel",
    "sms_opt_out",
    "email_opt_out",
    "version",
    "created_at",
    "updated_at",
}


def _days_ago(days: int):
    return time_machine.travel(timezone.now() - timedelta(days=days), tick=False)


def _deleted(details: dict, days_ago: int, actor=None) -> Patient:
    """A patient created, renamed and deleted `days_ago` days ago (by `actor`), whose
    notices were delivered (the tests run no worker)."""
    with _days_ago(days_ago + 1):
        patient = patient_create(**details, actor=actor)
        patient = patient_update(
            patient=patient, data={"name": details["name"] + "-Smith"}, actor=actor
        )
        Notification.objects.filter(patient=patient).update(status="sent", sent_at=timezone.now())
    with _days_ago(days_ago):
        return patient_delete(patient=patient, actor=actor)


def _versions(patient_id) -> list:
    return list(Patient.history.filter(id=patient_id).order_by("history_id"))


def _snapshot(patient_id) -> tuple:
    """Everything kept of a patient outside the live record, to compare before and after."""
    return (
        list(Patient.history.filter(id=patient_id).order_by("history_id").values()),
        list(Notification.objects.filter(patient_ref=patient_id).order_by("id").values()),
        list(LogEntry.objects.filter(object_id=str(patient_id)).order_by("id").values()),
    )


def _purge_records() -> list[AccessRecord]:
    return list(
        AccessRecord.objects.filter(action=Action.PATIENT_PURGE)
        .order_by("id")
        .prefetch_related("patients")
    )


def _admin_log(patient: Patient, message: str, days_ago: int, user) -> LogEntry:
    with _days_ago(days_ago):
        return LogEntry.objects.create(
            user=user,
            content_type=ContentType.objects.get_for_model(Patient),
            object_id=str(patient.pk),
            object_repr=str(patient),
            action_flag=CHANGE,
            change_message=message,
        )


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(COMMAND, *args, stdout=out)
    return out.getvalue()


def test_every_field_of_a_patient_is_classified_as_personal_or_not():
    fields = {f.name for f in Patient._meta.concrete_fields}

    assert fields == set(PERSONAL_FIELDS) | NON_PERSONAL_FIELDS
    assert not set(PERSONAL_FIELDS) & NON_PERSONAL_FIELDS


def test_a_patient_deleted_before_the_retention_period_is_erased_everywhere(settings):
    settings.PATIENT_RETENTION_DAYS = 30
    clinician = UserFactory(username="drno")
    patient = _deleted({**ANN, "birth_date": date(1984, 3, 2)}, days_ago=40, actor=clinician)
    _admin_log(patient, json.dumps([{"changed": {"fields": ["Name"]}}]), 41, clinician)
    versions_before = _versions(patient.pk)
    notices_before = list(Notification.objects.filter(patient_ref=patient.pk).order_by("id"))
    assert notices_before  # the welcome and the change's notices

    output = _run()

    versions = _versions(patient.pk)
    assert [v.history_id for v in versions] == [v.history_id for v in versions_before]
    for before, after in zip(versions_before, versions, strict=True):
        for name in PERSONAL_FIELDS:
            erased = getattr(after, name)  # text is marked; a date cannot be, and is cleared
            assert erased is None if name == "birth_date" else erased.startswith("[erased")
        assert after.erased_at is not None
        kept = ("history_date", "history_type", "history_user_id", "version", "via", "created_at")
        assert [getattr(after, f) for f in kept] == [getattr(before, f) for f in kept]
    assert all(ANN["phone"] not in str(v.__dict__) for v in versions)
    assert all("Ann" not in str(v.__dict__) for v in versions)
    notices = list(Notification.objects.filter(patient_ref=patient.pk).order_by("id"))
    assert [(n.id, n.status, n.kind, n.channel, n.created_at, n.updated_at) for n in notices] == [
        (n.id, n.status, n.kind, n.channel, n.created_at, n.updated_at) for n in notices_before
    ]
    assert {(n.recipient, n.first_name) for n in notices} == {("[erased]", "[erased]")}
    assert all(n.erased_at is not None for n in notices)
    (entry,) = LogEntry.objects.filter(object_id=str(patient.pk))
    assert entry.object_repr == f"[erased] ({str(patient.pk)[:8]})"
    assert entry.user == clinician
    assert json.loads(entry.change_message) == [{"changed": {"fields": ["Name"]}}]
    assert output.strip() == (
        "Purged 1 deleted patient(s): erased 3 version(s), "
        f"{len(notices)} notification(s) and 1 admin log entry(ies)."
    )
    (record,) = _purge_records()
    assert (record.via, record.user, record.status, record.path) == ("command", None, 0, COMMAND)
    assert [p.patient_id for p in record.patients.all()] == [patient.pk]


def test_the_admins_log_entries_of_a_deleted_patient_lose_the_first_name(
    settings, superuser_client
):
    settings.PATIENT_RETENTION_DAYS = 30
    with _days_ago(40):
        patient = patient_create(**ANN)
        superuser_client.post(f"/admin/patients/patient/{patient.pk}/delete/", {"post": "yes"})
    (entry,) = LogEntry.objects.filter(object_id=str(patient.pk))
    assert entry.object_repr.startswith("Ann")

    _run()

    entry.refresh_from_db()
    assert entry.object_repr == f"[erased] ({str(patient.pk)[:8]})"
    assert entry.action_time < timezone.now() - timedelta(days=39)


def test_a_change_message_holding_more_than_field_names_is_erased(settings):
    settings.PATIENT_RETENTION_DAYS = 30
    user = UserFactory()
    patient = _deleted(ANN, days_ago=40)
    free_text = _admin_log(patient, "Phone was +15550101234", 41, user)
    related = _admin_log(
        patient, json.dumps([{"added": {"name": "note", "object": "Ann's note"}}]), 41, user
    )

    _run()

    free_text.refresh_from_db()
    related.refresh_from_db()
    assert free_text.change_message == "[erased]"
    assert json.loads(related.change_message) == [{"added": {}}]


def test_patients_deleted_recently_restored_or_never_deleted_are_untouched(settings):
    settings.PATIENT_RETENTION_DAYS = 30
    recent = _deleted(BEA, days_ago=10)
    with _days_ago(40):
        current = patient_create(**CAL)
    restored = _deleted(DEV, days_ago=40)
    with _days_ago(35):
        patient_restore(patient_id=restored.pk)
    before = {p.pk: _snapshot(p.pk) for p in (recent, current, restored)}

    output = _run()

    assert {p.pk: _snapshot(p.pk) for p in (recent, current, restored)} == before
    assert output.startswith("Purged 0 deleted patient(s)")
    assert Patient.objects.get(pk=restored.pk).email == DEV["email"]


def test_a_second_run_finds_nothing_more_to_erase(settings):
    settings.PATIENT_RETENTION_DAYS = 30
    patient = _deleted(ANN, days_ago=40)
    _run()
    erased = _snapshot(patient.pk)

    output = _run()

    assert output.startswith("Purged 0 deleted patient(s): erased 0 version(s), 0 notification")
    assert _snapshot(patient.pk) == erased


def test_the_history_of_a_purged_patient_shows_who_changed_what_when_but_no_data(settings, alice):
    settings.PATIENT_RETENTION_DAYS = 30
    patient = _deleted(ANN, days_ago=40, actor=UserFactory(username="drno"))

    _run()
    response = alice.get(f"/patients/{patient.pk}/history")

    assert response.status_code == 200
    history = response.json()
    assert [(v["version"], v["kind"], v["actor"], v["patient"]) for v in history] == [
        (3, "deleted", "drno", None),
        (2, "updated", "drno", None),
        (1, "created", "drno", None),
    ]
    # Each distinct value got its own marker: which fields a change changed still shows.
    assert history[1]["changed"] == ["name"]
    assert "Ann" not in response.content.decode()


def test_one_patient_is_purged_at_once_by_name_of_an_actor_and_can_no_longer_be_restored():
    actor = UserFactory(username="privacy")
    patient = patient_delete(patient=patient_create(**ANN))
    (welcome,) = Notification.objects.filter(patient_ref=patient.pk)
    assert welcome.status == "pending"  # not yet delivered

    output = _run("--patient", str(patient.pk), "--actor", "privacy")

    assert output.startswith("Purged 1 deleted patient(s): erased 2 version(s), 1 notification")
    assert all(v.erased_at is not None for v in _versions(patient.pk))
    welcome.refresh_from_db()
    # Its address is gone, so it is never sent, and cannot be resent.
    assert (welcome.recipient, welcome.status, welcome.withdrawn) == ("[erased]", "skipped", True)
    with pytest.raises(NotificationErased):
        notification_resend(notification=welcome)
    (record,) = _purge_records()
    assert (record.via, record.user, record.username, record.status) == (
        "command",
        actor,
        "privacy",
        0,
    )
    assert [p.patient_id for p in record.patients.all()] == [patient.pk]
    with pytest.raises(PatientNotRestorable, match="purged"):
        patient_restore(patient_id=patient.pk)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--patient", str(uuid.UUID(int=7)), "--actor", "privacy"], "no deleted patient has"),
        (["--patient", "not-an-id", "--actor", "privacy"], "must be a patient id (a UUID)"),
        (["--patient", "{existing}"], "--patient needs --actor"),
        (["--patient", "{existing}", "--actor", "nobody"], "--actor: no user named 'nobody'"),
        (["--patient", "{existing}", "--actor", "privacy"], "is not deleted"),
        (["--actor", "privacy"], "--actor goes with --patient"),
        (["--older-than-days", "-1"], "must be from 0 to 36500"),
        (["--older-than-days", "999999999"], "must be from 0 to 36500"),
        (["--older-than-days", "ten"], "must be a whole number of days"),
        (["--patient", "{existing}", "--actor", "privacy", "--older-than-days", "1"], "either"),
    ],
)
def test_wrong_arguments_are_refused_in_one_line_and_nothing_is_erased(args, error):
    UserFactory(username="privacy")
    patient = patient_create(**ANN)
    before = _snapshot(patient.pk)
    args = [arg.replace("{existing}", str(patient.pk)) for arg in args]

    with pytest.raises(CommandError, match=re.escape(error)) as refused:
        _run(*args)

    assert "\n" not in str(refused.value)
    assert _snapshot(patient.pk) == before
    assert Patient.objects.get(pk=patient.pk).name == ANN["name"]


def test_a_refused_purge_of_one_patient_is_recorded_as_failed():
    UserFactory(username="privacy")
    patient = patient_create(**ANN)

    with pytest.raises(CommandError):
        _run("--patient", str(patient.pk), "--actor", "privacy")

    (record,) = _purge_records()
    assert (record.username, record.status) == ("privacy", 1)
    assert [p.patient_id for p in record.patients.all()] == [patient.pk]


def test_without_a_retention_period_the_command_keeps_everything_unless_given_one(settings):
    settings.PATIENT_RETENTION_DAYS = None
    patient = _deleted(ANN, days_ago=40)
    before = _snapshot(patient.pk)

    with pytest.raises(CommandError, match="PATIENT_RETENTION_DAYS is not set"):
        _run()
    assert _snapshot(patient.pk) == before

    output = _run("--older-than-days", "39")
    assert output.startswith("Purged 1 deleted patient(s)")


@pytest.mark.slow
def test_the_command_fails_in_one_line_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PATIENT_RETENTION_DAYS"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "manage.py", COMMAND, "--patient", str(uuid.uuid4())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "CommandError: --patient needs --actor USERNAME: who asked for the purge"
    ]


@pytest.mark.slow
def test_an_argument_that_is_not_text_is_one_line_without_a_traceback():
    result = subprocess.run(
        [sys.executable, "manage.py", COMMAND, "--patient", str(uuid.uuid4()), "--actor", "\udcff"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        errors="surrogateescape",
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_the_daily_task_purges_by_the_setting_and_is_recorded(settings):
    patient = _deleted(ANN, days_ago=40)
    settings.PATIENT_RETENTION_DAYS = None
    assert patients_purge_deleted_task() == 0
    assert _versions(patient.pk)[0].erased_at is None

    settings.PATIENT_RETENTION_DAYS = 30
    assert patients_purge_deleted_task() == 1

    assert _versions(patient.pk)[0].erased_at is not None
    (record,) = _purge_records()
    assert record.path == "patients.tasks.patients_purge_deleted_task"
    assert [p.patient_id for p in record.patients.all()] == [patient.pk]


def test_notices_and_log_entries_of_patients_deleted_before_versions_were_kept_erase_by_age(
    settings,
):
    settings.PATIENT_RETENTION_DAYS = 30
    user = UserFactory()
    kinds = {"channel": "sms", "kind": "welcome", "status": "sent"}
    with _days_ago(40):
        old = Notification.objects.create(recipient="+15550109999", first_name="Old", **kinds)
    recent = Notification.objects.create(recipient="+15550108888", first_name="New", **kinds)
    gone = uuid.uuid4()
    for days, name in ((40, "Old"), (5, "New")):
        with _days_ago(days):
            LogEntry.objects.create(
                user=user,
                content_type=ContentType.objects.get_for_model(Patient),
                object_id=str(gone),
                object_repr=f"{name} ({str(gone)[:8]})",
                action_flag=CHANGE,
            )
    with _days_ago(40):
        living = patient_create(**BEA)
    living_entry = _admin_log(living, "", 40, user)

    _run()

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.recipient, old.first_name) == ("[erased]", "[erased]")
    assert (recent.recipient, recent.first_name) == ("+15550108888", "New")
    reprs = set(LogEntry.objects.filter(object_id=str(gone)).values_list("object_repr", flat=True))
    assert reprs == {f"[erased] ({str(gone)[:8]})", f"New ({str(gone)[:8]})"}
    living_entry.refresh_from_db()
    assert living_entry.object_repr.startswith("Bea")


def test_the_migration_links_notices_of_already_deleted_patients_by_their_address():
    migration = importlib.import_module("notifications.migrations.0004_notification_retention")
    patient = patient_delete(patient=patient_create(**ANN))
    other = patient_create(**BEA)
    # As before the migration: the deletion cleared the link, and nothing else held the id.
    Notification.objects.update(patient_ref=None)
    unknown = Notification.objects.create(recipient="+15550100000", channel="sms", kind="welcome")

    migration.keep_patient_ids(apps, None)

    assert set(Notification.objects.filter(patient_ref=patient.pk).values_list("pk", flat=True))
    assert Notification.objects.filter(patient=other, patient_ref=other.pk).exists()
    unknown.refresh_from_db()
    assert unknown.patient_ref is None


def _beat_schedule(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "PATIENT_RETENTION_DAYS"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from telehealth import settings as s; print(sorted(s.CELERY_BEAT_SCHEDULE))",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def test_the_daily_purge_is_scheduled_only_when_a_retention_period_is_set():
    unset, set_, negative = (
        _beat_schedule(),
        _beat_schedule(PATIENT_RETENTION_DAYS="30"),
        _beat_schedule(PATIENT_RETENTION_DAYS="-1"),
    )

    assert unset.returncode == 0, unset.stderr
    assert "patients-purge-deleted" not in unset.stdout
    assert set_.returncode == 0, set_.stderr
    assert "patients-purge-deleted" in set_.stdout
    assert negative.returncode != 0
    assert "PATIENT_RETENTION_DAYS must be 0 or more days" in negative.stderr


def test_a_purge_forgets_the_stored_response_a_retry_of_the_patients_create_would_replay(alice):
    created = alice.post("/patients", ANN, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    alice.post("/patients", BEA, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    patient_id = created.json()["patient_id"]
    alice.delete(f"/patients/{patient_id}")

    _run("--patient", patient_id, "--actor", "alice")
    retry = alice.post("/patients", ANN, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    # Not the stored 201 with the erased details: the key is forgotten, the retry is new.
    assert "Idempotent-Replayed" not in retry.headers
    assert retry.json()["patient_id"] != patient_id
    assert list(IdempotencyKey.objects.order_by("key").values_list("key", flat=True)) == [
        "k1",
        "k2",
    ]
