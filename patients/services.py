"""Writes to patient records: every create, update and delete goes through here, from the API,
the admin and the management commands alike. Each change and the notices it calls for commit
together, or not at all. This side decides who is told, at which address and with what
consent; the outbox (notifications) stores, delivers and retries."""

import contextlib
import dataclasses
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from api.exceptions import ConflictError, NotFoundError, PreconditionFailed
from api.preconditions import etag
from api.services import idempotent_responses_forget
from audit.models import Action
from audit.models import Via as AccessVia
from audit.services import COMMAND_SUCCEEDED, access_record
from notifications.models import ERASED, Notification
from notifications.services import (
    Recipient,
    notifications_cancel,
    notifications_erase,
    notifications_erase_unlinked,
    notifications_queue,
)
from patients.models import (
    CONTACT_FIELDS,
    EDITABLE_FIELDS,
    OPT_OUT_FIELDS,
    PERSONAL_FIELDS,
    Channel,
    Patient,
    Via,
)
from patients.validators import normalize_email, normalize_name, normalize_phone

# Ids only: patient details never go into logs.
logger = logging.getLogger(__name__)


class PatientConflict(ConflictError):
    message = "Patient with this phone or email already exists"


class PatientNotFound(NotFoundError):
    message = "Patient not found"


class PatientModified(PreconditionFailed):
    message = "Patient was modified by someone else"

    def __init__(self, current_version: int):
        super().__init__(headers={"ETag": etag(current_version)})
        self.current_version = current_version


class PatientNotRestorable(ConflictError):
    pass


_NORMALIZERS = {"name": normalize_name, "email": normalize_email, "phone": normalize_phone}


def _normalized(data: dict) -> dict:
    values = {field: data[field] for field in EDITABLE_FIELDS if field in data}
    for field, normalize in _NORMALIZERS.items():
        if field in values:
            try:
                values[field] = normalize(values[field])
            except ValidationError as exc:  # named after its field, as model validation does
                raise ValidationError({field: exc.error_list}) from exc
    return values


def _actor_id(actor: AbstractBaseUser | None):
    return actor.pk if actor is not None else None


def _attribute(patient: Patient, actor: AbstractBaseUser | None, via: str, reason=None) -> None:
    # What django-simple-history records with the version this save or delete makes.
    patient._history_user = actor
    patient._history_via = via
    if reason is not None:
        patient._change_reason = reason


def _locked(patient_id, expected_versions: frozenset[int] | None) -> Patient:
    """The patient's row, locked until the transaction ends, if it still exists and its
    version is one the caller expects (None: any). Holding the lock from this check to the
    write is what makes two writers with the same ETag give one success and one 412. On
    SQLite, whose transactions take the write lock at BEGIN (IMMEDIATE), the lock is the
    whole database."""
    current = Patient.objects.select_for_update().filter(pk=patient_id).first()
    if current is None:
        raise PatientNotFound()
    if expected_versions is not None and current.version not in expected_versions:
        raise PatientModified(current.version)
    return current


def _save(patient: Patient, **save_kwargs) -> None:
    # Uniqueness is left to the database constraints: a check-then-insert here would let two
    # simultaneous requests both pass the check.
    patient.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            patient.save(**save_kwargs)
    except IntegrityError as exc:
        raise PatientConflict() from exc


def _recipients(patient: Patient, previous: dict) -> list[Recipient]:
    """Who hears of a change: the preferred channel and, for a phone or email that changed,
    the old and the new address, so a hijacked record is noticed at the address it was taken
    from. The old address keeps the consent the patient had before the change."""
    preferred = patient.preferred_channel
    recipients = [Recipient(preferred, patient.address(preferred), patient.refuses(preferred))]
    for channel, field in CONTACT_FIELDS.items():
        if field in previous:
            refused_before = previous.get(OPT_OUT_FIELDS[channel], patient.refuses(channel))
            recipients.append(Recipient(channel, previous[field], refused_before))
            recipients.append(
                Recipient(channel, patient.address(channel), patient.refuses(channel))
            )
    return recipients


def _notify(patient: Patient, kind: str, previous: dict | None = None) -> None:
    notifications_queue(
        patient_id=patient.pk,
        first_name=patient.first_name,
        kind=kind,
        recipients=_recipients(patient, previous or {}),
    )


def patient_create(
    *,
    name: str,
    email: str,
    phone: str,
    preferred_channel: str = Channel.SMS,
    sms_opt_out: bool = False,
    email_opt_out: bool = False,
    birth_date: date | None = None,
    actor: AbstractBaseUser | None = None,
    via: str = Via.COMMAND,
) -> Patient:
    """Create a patient (version 1) and queue their welcome notice.

    Raises ValidationError for bad details and PatientConflict for a used email or phone.
    """
    patient = Patient(
        **_normalized(
            {
                "name": name,
                "email": email,
                "phone": phone,
                "preferred_channel": preferred_channel,
                "sms_opt_out": sms_opt_out,
                "email_opt_out": email_opt_out,
                "birth_date": birth_date,
            }
        )
    )
    _attribute(patient, actor, via)
    with transaction.atomic():
        _save(patient, force_insert=True)
        _notify(patient, Notification.Kind.WELCOME)
    logger.info("patient %s created by user %s", patient.pk, _actor_id(actor))
    return patient


def patient_update(
    *,
    patient: Patient,
    data: dict,
    actor: AbstractBaseUser | None = None,
    via: str = Via.COMMAND,
    expected_versions: frozenset[int] | None = None,
) -> Patient:
    """Change the given fields of a patient, keep the others (the original's PUT), and queue
    a details-changed notice when anything changed. A change makes a new version. Returns
    the patient as saved.

    The row is read again under a lock in the transaction, so the version check, what counts
    as changed, the old addresses that get warned and the write all see the same row,
    whatever another request did since `patient` was loaded. Raises PatientNotFound if it
    was deleted since, and PatientModified if its version is not one of `expected_versions`
    (the versions the client's If-Match names; None: no condition). A channel the patient
    opts out of gets none of the notices still waiting to go to it.
    """
    values = _normalized(data)
    with transaction.atomic():
        current = _locked(patient.pk, expected_versions)
        changes = {f: v for f, v in values.items() if getattr(current, f) != v}
        if not changes:
            return current
        previous = {field: getattr(current, field) for field in changes}
        for field, value in changes.items():
            setattr(current, field, value)
        current.version += 1
        _attribute(current, actor, via)
        _save(current, update_fields=[*changes, "version", "updated_at"])
        for channel, field in OPT_OUT_FIELDS.items():
            if changes.get(field) is True:
                notifications_cancel(
                    patient_id=current.pk, channel=channel, address=current.address(channel)
                )
        _notify(current, Notification.Kind.DETAILS_CHANGED, previous)
    logger.info(
        "patient %s updated (%s) by user %s", current.pk, ", ".join(changes), _actor_id(actor)
    )
    return current


@transaction.atomic
def patient_delete(
    *,
    patient: Patient,
    actor: AbstractBaseUser | None = None,
    via: str = Via.COMMAND,
    expected_versions: frozenset[int] | None = None,
) -> Patient:
    """Delete a patient record; its last version (the record as it was, numbered one past
    the last change) stays in the history, from which staff can restore it. Their notices
    stay in the outbox (without the link), and those not yet sent still go out: the change
    that queued them was committed.

    Of several requests deleting the same patient at once, one deletes it and the others
    find it gone (PatientNotFound), so one "deleted" version is recorded. Raises
    PatientModified as patient_update does. Returns the patient as it was deleted.
    """
    current = _locked(patient.pk, expected_versions)
    current.version += 1
    _attribute(current, actor, via)
    patient_id = current.pk
    current.delete()
    current.pk = patient_id  # delete() clears it; callers report the id
    logger.info("patient %s deleted by user %s", patient_id, _actor_id(actor))
    return current


@transaction.atomic
def patient_restore(
    *, patient_id, actor: AbstractBaseUser | None = None, via: str = Via.ADMIN
) -> Patient:
    """Bring a deleted patient back as their last version had them, with the same id and a
    new version number (so an ETag from before the delete stays stale).

    Refused (PatientNotRestorable) when the patient exists, when their data was purged,
    when another patient now holds their email or phone, and when their details fail
    today's rules (a version recorded before the rules changed); an email or phone recorded
    in an older spelling is put in today's stored form, as the migration did for current
    patients. No notice is sent: the patient was told of the record when it was made.
    """
    # The last version is locked before anything is checked, so of a restore and a purge
    # (or two restores) running at the same moment, the second to get the lock sees what
    # the first did: an erased version, or a patient who exists again.
    last = (
        Patient.history.select_for_update()
        .filter(id=patient_id)
        .order_by("-history_date", "-history_id")
        .first()
    )
    if Patient.objects.filter(pk=patient_id).exists():
        raise PatientNotRestorable("Patient is not deleted")
    if last is None:
        raise PatientNotFound()
    if last.erased_at is not None:
        raise PatientNotRestorable(
            "Patient cannot be restored: their data was purged after the retention period"
        )
    patient = last.instance
    patient.version = last.version + 1
    _attribute(patient, actor, via, reason="restored")
    refused = set()
    for field, normalize in _NORMALIZERS.items():
        try:
            setattr(patient, field, normalize(getattr(patient, field)))
        except ValidationError:
            refused.add(field)
    try:
        patient.full_clean(exclude=refused, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        refused.update(exc.message_dict)
    if refused:
        # The fields' names only: the message is shown, and their values are PHI.
        raise PatientNotRestorable(
            "Patient cannot be restored: their recorded details fail today's rules for "
            f"patient details ({', '.join(sorted(refused))})"
        )
    try:
        with transaction.atomic():
            patient.save(force_insert=True)
    except IntegrityError as exc:
        raise PatientNotRestorable(
            "Patient cannot be restored: another patient now has their email or phone"
        ) from exc
    # Saving stamped a new creation time; the record keeps its place in the list.
    Patient.objects.filter(pk=patient.pk).update(created_at=last.created_at)
    patient.created_at = last.created_at
    logger.info("patient %s restored by user %s", patient.pk, _actor_id(actor))
    return patient


# Retention: after PATIENT_RETENTION_DAYS a deleted patient's personal data is erased from
# their versions, their notices and the admin's log. What is left says what happened, when
# and by whom, but no longer to whom.

# Chunk for `IN (...)` lists, under every database's limit on query parameters.
_CHUNK = 2000


class PatientNotPurgeable(ConflictError):
    message = "Patient is not deleted: only a deleted patient's data can be purged"


@dataclass
class PurgeReport:
    """What a purge erased: whose data (patient ids) and how many rows of each kind."""

    patient_ids: list[uuid.UUID] = dataclasses.field(default_factory=list)
    versions: int = 0
    notifications: int = 0
    log_entries: int = 0

    def add(self, other: "PurgeReport") -> None:
        self.patient_ids += other.patient_ids
        self.versions += other.versions
        self.notifications += other.notifications
        self.log_entries += other.log_entries


@transaction.atomic
def patients_purge_deleted(*, older_than: timedelta, now: datetime | None = None) -> PurgeReport:
    """Erase the personal data of every patient deleted longer ago than `older_than` (and
    not restored since). Also erased, by their own age: the notices and admin log entries of
    patients deleted before versions were kept, whose deletion time nobody knows."""
    cutoff = (now or timezone.now()) - older_than
    report = PurgeReport()
    for patient_id in _deleted_before(cutoff):
        with contextlib.suppress(PatientNotPurgeable):  # restored since it was listed
            report.add(_purge(patient_id))
    report.notifications += notifications_erase_unlinked(created_before=cutoff)
    report.log_entries += _log_entries_erase_unlinked(cutoff)
    logger.info(
        "purge: %s deleted patients, %s versions, %s notifications, %s admin log entries erased",
        len(report.patient_ids),
        report.versions,
        report.notifications,
        report.log_entries,
    )
    return report


@transaction.atomic
def patient_purge(*, patient_id, actor: AbstractBaseUser | None = None) -> PurgeReport:
    """Erase one deleted patient's personal data now, whatever the retention period (a
    patient's request to be forgotten). After it, the patient can no longer be restored.

    Raises PatientNotPurgeable if the patient exists and PatientNotFound for an id that never
    was a patient's. A patient already purged gives an empty report.
    """
    if Patient.objects.filter(pk=patient_id).exists():
        raise PatientNotPurgeable()
    if not Patient.history.filter(id=patient_id).exists():
        raise PatientNotFound()
    report = _purge(patient_id)
    logger.info("patient %s purged by user %s", patient_id, _actor_id(actor))
    return report


def _deleted_before(cutoff: datetime) -> list[uuid.UUID]:
    """The patients whose last version is a deletion made before `cutoff` and not yet erased."""
    last = (
        Patient.history.filter(id=OuterRef("id"))
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    return list(
        Patient.history.filter(history_type="-", history_date__lt=cutoff, erased_at__isnull=True)
        .filter(history_id=Subquery(last))
        .exclude(Exists(Patient.objects.filter(pk=OuterRef("id"))))
        .values_list("id", flat=True)
    )


def _purge(patient_id) -> PurgeReport:
    """Erase the personal fields of all of one patient's versions, notices and log entries
    (and the stored responses of Idempotency-Key retries that show them). Raises
    PatientNotPurgeable if the patient exists.

    Each distinct value of a field becomes its own marker ("[erased 1]", "[erased 2]"), so
    the history still tells which fields each change changed, but not from what to what.
    """
    history = Patient.history.model
    versions = list(
        history.objects.select_for_update()
        .filter(id=patient_id)
        .order_by("history_date", "history_id")
    )
    # Checked again now that the versions are locked: a restore that held them until it
    # committed has brought the patient back, and a current patient is never erased.
    if Patient.objects.filter(pk=patient_id).exists():
        raise PatientNotPurgeable()
    now = timezone.now()
    for name in PERSONAL_FIELDS:
        model_field = history._meta.get_field(name)
        markers: dict = {}
        for version in versions:
            value = getattr(version, name)
            if value not in markers:
                markers[value] = _erased_value(model_field, len(markers) + 1)
            setattr(version, name, markers[value])
    for version in versions:
        version.erased_at = version.erased_at or now
    history.objects.bulk_update(versions, [*PERSONAL_FIELDS, "erased_at"], batch_size=_CHUNK)
    # A create's stored response (for Idempotency-Key retries) holds the patient's details.
    idempotent_responses_forget(mentioning=str(patient_id))
    return PurgeReport(
        patient_ids=[patient_id],
        versions=len(versions),
        notifications=notifications_erase(patient_id=patient_id),
        log_entries=_log_entries_erase(
            LogEntry.objects.filter(content_type=_patient_type(), object_id=str(patient_id))
        ),
    )


def _erased_value(model_field: models.Field, number: int):
    if isinstance(model_field, models.CharField | models.TextField):
        return f"[erased {number}]"[: model_field.max_length]
    if model_field.null:
        return None
    # A personal field must be erasable: text, or nullable (PERSONAL_FIELDS).
    raise TypeError(f"Patient.{model_field.name} holds personal data but cannot be erased")


def _patient_type() -> ContentType:
    return ContentType.objects.get_for_model(Patient)


def _log_entries_erase(entries) -> int:
    """Erase the patient's name from the admin's log entries about them: their object_repr
    is the patient's str() (the first name), and a change message may, unlike Django's own,
    hold values. The action, its time, its user and the changed fields' names stay."""
    erased = []
    for entry in entries.exclude(object_repr__startswith=ERASED):
        entry.object_repr = f"{ERASED} ({entry.object_id[:8]})"
        entry.change_message = _change_message_without_values(entry.change_message)
        erased.append(entry)
    LogEntry.objects.bulk_update(erased, ["object_repr", "change_message"], batch_size=_CHUNK)
    return len(erased)


def _change_message_without_values(message: str) -> str:
    """Django's change message, kept to what it says of Django's own: which fields were
    changed. Anything else (free text, the names of related objects) is erased."""
    try:
        parts = json.loads(message) if message else []
    except ValueError:
        return ERASED
    if not isinstance(parts, list):
        return ERASED
    kept = []
    for part in parts:
        if not isinstance(part, dict):
            return ERASED
        kept_part = {}
        for action, detail in part.items():
            if action not in ("added", "changed", "deleted") or not isinstance(detail, dict):
                return ERASED
            names = detail.get("fields")
            if isinstance(names, list) and all(isinstance(n, str) for n in names):
                kept_part[action] = {"fields": names}
            else:
                kept_part[action] = {}
        kept.append(kept_part)
    return json.dumps(kept) if kept else message


def _log_entries_erase_unlinked(cutoff: datetime) -> int:
    """Erase the admin's log entries made before `cutoff` about patients who neither exist
    nor have versions: deleted before versions were kept, at a time nobody knows."""
    entries = LogEntry.objects.filter(content_type=_patient_type(), action_time__lt=cutoff)
    entries = entries.exclude(object_repr__startswith=ERASED)
    ids = set()
    for object_id in entries.order_by().values_list("object_id", flat=True).distinct().iterator():
        try:
            ids.add(uuid.UUID(object_id))
        except ValueError:
            continue
    unknown = []
    ids = sorted(ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        known = set(Patient.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        known |= set(
            Patient.history.filter(id__in=chunk).order_by().values_list("id", flat=True).distinct()
        )
        unknown += [str(patient_id) for patient_id in chunk if patient_id not in known]
    erased = 0
    for start in range(0, len(unknown), _CHUNK):
        erased += _log_entries_erase(entries.filter(object_id__in=unknown[start : start + _CHUNK]))
    return erased


# Made-up names for demo and benchmark patients: varied enough that a name search finds a
# realistic share of the table, not one row or all of them.
_DEMO_GIVEN = [
    "Ada",
    "Ali",
    "Ana",
    "Ben",
    "Chen",
    "Dana",
    "Eli",
    "Emma",
    "Femi",
    "Hana",
    "Ivan",
    "Jae",
    "Kai",
    "Lena",
    "Luis",
    "Maya",
    "Mei",
    "Nia",
    "Omar",
    "Pia",
    "Raj",
    "Rosa",
    "Sam",
    "Sara",
    "Tom",
    "Uma",
    "Vera",
    "Wei",
    "Yara",
    "Zoe",
]
_DEMO_FAMILY = [
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jones",
    "Kim",
    "Lopez",
    "Mehta",
    "Novak",
    "Okafor",
    "Park",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Vargas",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
]


def patients_seed_demo(
    *, count: int, batch_size: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Add made-up patients until there are `count`: bulk inserts, each with its "created"
    version, and no notices (their addresses are reserved example ones). Returns how many
    it added; `progress` is called with the number of patients already there, then with each
    batch's. For demos and benchmarks, never for real data: it skips the per-row checks,
    its rows being valid by construction.

    Patient i gets seed<i>@example.org and +1555<i, 7 digits> (at most 10,000,000 of them).
    Raises PatientConflict if an existing patient holds one of those addresses."""
    existing = Patient.objects.count()
    if count > 10_000_000:
        raise ValueError("at most 10,000,000 demo patients")
    added = 0
    if progress is not None:
        progress(min(existing, count))
    for start in range(existing, count, batch_size):
        batch = [_demo_patient(i) for i in range(start, min(start + batch_size, count))]
        try:
            with transaction.atomic():
                bulk_create_with_history(
                    batch,
                    Patient,
                    batch_size=batch_size,
                    custom_historical_attrs={"via": Via.COMMAND},
                )
        except IntegrityError as exc:
            raise PatientConflict() from exc
        added += len(batch)
        if progress is not None:
            progress(len(batch))
    logger.info("seeded %d demo patients", added)
    return added


def _demo_patient(i: int) -> Patient:
    return Patient(
        name=f"{_DEMO_GIVEN[i % len(_DEMO_GIVEN)]} {_DEMO_FAMILY[i // 7 % len(_DEMO_FAMILY)]}",
        email=f"seed{i}@example.org",
        phone=f"+1555{i:07d}",
        preferred_channel=Channel.EMAIL if i % 4 == 0 else Channel.SMS,
        birth_date=date(1930, 1, 1) + timedelta(days=i * 37 % 30000),
    )


class Outcome(models.TextChoices):
    """What became of one row of an import."""

    CREATED = "created", "created"
    PRESENT = "present", "already present"
    DUPLICATE = "duplicate", "duplicate in the file"
    CONFLICT = "conflict", "in conflict with another patient"
    DELETED = "deleted", "of a deleted patient"
    INVALID = "invalid", "invalid"


@dataclass(frozen=True)
class ImportRow:
    """A row of an import that passed the API's checks: its line in the file, its fields
    (validated and normalized) and the id it brings, if any."""

    line: int
    values: dict
    patient_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ImportOutcome:
    line: int
    outcome: str
    reason: str = ""
    patient_id: uuid.UUID | None = None


class PatientsImport:
    """One run of `import_patients`: rows go in by batches, each batch in one transaction
    with its access record, and come out as outcomes.

    A row is the same patient as one already stored by its id when it brings one, else by
    its normalized email; such a row creates nothing, so importing a file twice creates its
    patients once. The run remembers the rows it took, so that a file's second row for a
    patient is reported as a duplicate of the first. An import only creates: it never
    changes a stored patient, and it never brings back a deleted one (the admin restores).
    """

    def __init__(self, *, notify: bool = False, command: str = "import_patients"):
        self.notify = notify
        self.command = command
        # Line of the row that took each id, email and phone in this run.
        self._ids: dict[uuid.UUID, int] = {}
        self._emails: dict[str, int] = {}
        self._phones: dict[str, int] = {}

    def add(self, rows: list[ImportRow]) -> list[ImportOutcome]:
        if not rows:
            return []
        outcomes: dict[int, ImportOutcome] = {}
        fresh = []
        for row in rows:
            repeated = self._repeated(row)
            if repeated is not None:
                outcomes[row.line] = repeated
            else:
                fresh.append(row)
        with transaction.atomic():
            decided, to_create = self._against_stored(fresh)
            outcomes.update(decided)
            outcomes.update(self._create(to_create))
            named = [o.patient_id for o in outcomes.values() if o.patient_id is not None]
            # What the run read (the matches it reports) and wrote, in one record a batch.
            access_record(
                action=Action.PATIENT_IMPORT,
                via=AccessVia.COMMAND,
                patient_ids=named,
                status_code=COMMAND_SUCCEEDED,
                path=self.command,
            )
        created = sum(o.outcome == Outcome.CREATED for o in outcomes.values())
        logger.info("import: %d of %d rows created patients", created, len(rows))
        return [outcomes[row.line] for row in rows]

    def _repeated(self, row: ImportRow) -> ImportOutcome | None:
        email, phone = row.values["email"], row.values["phone"]
        if row.patient_id is not None and row.patient_id in self._ids:
            first = self._ids[row.patient_id]
            return ImportOutcome(row.line, Outcome.DUPLICATE, f"same id as line {first}")
        if email in self._emails:
            first = self._emails[email]
            return ImportOutcome(row.line, Outcome.DUPLICATE, f"same email as line {first}")
        if phone in self._phones:
            first = self._phones[phone]
            return ImportOutcome(row.line, Outcome.CONFLICT, f"same phone as line {first}")
        if row.patient_id is not None:
            self._ids[row.patient_id] = row.line
        self._emails[email] = row.line
        self._phones[phone] = row.line
        return None

    def _against_stored(self, rows: list[ImportRow]):
        ids = [row.patient_id for row in rows if row.patient_id is not None]
        stored_emails = dict(Patient.objects.filter(pk__in=ids).values_list("pk", "email"))
        deleted_ids = set(
            Patient.history.filter(id__in=set(ids) - stored_emails.keys()).values_list(
                "id", flat=True
            )
        )
        by_email = dict(
            Patient.objects.filter(email__in=[row.values["email"] for row in rows]).values_list(
                "email", "pk"
            )
        )
        by_phone = dict(
            Patient.objects.filter(phone__in=[row.values["phone"] for row in rows]).values_list(
                "phone", "pk"
            )
        )
        decided, to_create = {}, []
        for row in rows:
            line, given = row.line, row.patient_id
            holder = by_email.get(row.values["email"])
            if given in stored_emails:
                # Never changed by an import; said, so that an edited file is not taken
                # for one imported.
                reason = (
                    "same id"
                    if stored_emails[given] == row.values["email"]
                    else "same id; the stored patient's email differs and was left as it is"
                )
                decided[line] = ImportOutcome(line, Outcome.PRESENT, reason, given)
            elif given in deleted_ids:
                decided[line] = ImportOutcome(
                    line, Outcome.DELETED, "a deleted patient's id: restore them instead", given
                )
            elif given is None and holder is not None:
                decided[line] = ImportOutcome(line, Outcome.PRESENT, "same email", holder)
            elif holder is not None:
                decided[line] = ImportOutcome(
                    line, Outcome.CONFLICT, "another patient has this email", holder
                )
            elif row.values["phone"] in by_phone:
                decided[line] = ImportOutcome(
                    line,
                    Outcome.CONFLICT,
                    "another patient has this phone",
                    by_phone[row.values["phone"]],
                )
            else:
                to_create.append(row)
        return decided, to_create

    def _create(self, rows: list[ImportRow]) -> dict[int, ImportOutcome]:
        patients = {
            row.line: Patient(id=row.patient_id or uuid.uuid4(), **row.values) for row in rows
        }
        try:
            with transaction.atomic():
                self._insert(list(patients.values()))
            created = patients
        except IntegrityError:
            # Another writer took an email or phone since the batch was checked: one row
            # at a time, so that only the rows that clash are left out.
            created = {}
            for line, patient in patients.items():
                try:
                    with transaction.atomic():
                        self._insert([patient])
                    created[line] = patient
                except IntegrityError:
                    pass
        return {
            line: (
                ImportOutcome(line, Outcome.CREATED, "", patients[line].pk)
                if line in created
                else ImportOutcome(
                    line, Outcome.CONFLICT, "another patient took this email or phone"
                )
            )
            for line in patients
        }

    def _insert(self, patients: list[Patient]) -> None:
        bulk_create_with_history(patients, Patient, custom_historical_attrs={"via": Via.COMMAND})
        if self.notify:
            for patient in patients:
                _notify(patient, Notification.Kind.WELCOME)
