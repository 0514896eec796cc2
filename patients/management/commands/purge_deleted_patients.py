"""`manage.py purge_deleted_patients`: erase the personal data of patients deleted longer ago
than the retention period, or of one deleted patient now. Each run is in the access audit."""

import argparse
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from api import commands
from audit.models import Action
from audit.services import command_access
from patients.services import (
    PatientNotFound,
    PatientNotPurgeable,
    PurgeReport,
    patient_purge,
    patients_purge_deleted,
)

COMMAND = "purge_deleted_patients"
MAX_DAYS = 36500


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number of days") from None
    # The upper bound keeps the date arithmetic in range (a century is longer than any
    # retention rule).
    if not 0 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_DAYS}")
    return days


def _patient_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a patient id (a UUID)") from None


class Command(commands.Command):
    help = (
        "Erase the personal data (name, email, phone) of patients deleted more than "
        "PATIENT_RETENTION_DAYS days ago from their versions, notices and admin log entries; "
        "or, with --patient and --actor, of one deleted patient now."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=_days,
            metavar="N",
            help="Purge patients deleted more than N days ago (default: PATIENT_RETENTION_DAYS).",
        )
        parser.add_argument(
            "--patient",
            type=_patient_id,
            metavar="ID",
            help="Purge this deleted patient now, whenever they were deleted.",
        )
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help="With --patient: the staff user who asked for it (recorded in the audit).",
        )

    def handle(self, *args, patient=None, actor=None, older_than_days=None, **options):
        if patient is not None:
            if older_than_days is not None:
                raise CommandError("give either --patient or --older-than-days, not both")
            report = self._purge_one(patient, actor)
        else:
            if actor is not None:
                raise CommandError("--actor goes with --patient")
            report = self._purge_deleted(older_than_days)
        self.stdout.write(
            f"Purged {len(report.patient_ids)} deleted patient(s): erased "
            f"{report.versions} version(s), {report.notifications} notification(s) and "
            f"{report.log_entries} admin log entry(ies)."
        )

    def _purge_one(self, patient_id: uuid.UUID, username: str | None) -> PurgeReport:
        if not username:
            raise CommandError("--patient needs --actor USERNAME: who asked for the purge")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--actor: no user named {username!r}")
        # The attempt is recorded whatever its outcome, naming the patient.
        with command_access(command=COMMAND, action=Action.PATIENT_PURGE, user=user) as ids:
            ids.append(patient_id)
            try:
                return patient_purge(patient_id=patient_id, actor=user)
            except PatientNotFound:
                raise CommandError(f"no deleted patient has the id {patient_id}") from None
            except PatientNotPurgeable:
                raise CommandError(
                    f"patient {patient_id} is not deleted: only a deleted patient can be purged"
                ) from None

    def _purge_deleted(self, days: int | None) -> PurgeReport:
        if days is None:
            days = settings.PATIENT_RETENTION_DAYS
        if days is None:
            raise CommandError(
                "PATIENT_RETENTION_DAYS is not set, so deleted patients are kept: "
                "set it, or give --older-than-days N"
            )
        with command_access(command=COMMAND, action=Action.PATIENT_PURGE) as ids:
            report = patients_purge_deleted(older_than=timedelta(days=days))
            ids.extend(report.patient_ids)
        return report
