"""Writes to patient records: every create, update and delete goes through here, from the API,
the admin and the management commands alike. Each change and the notices it calls for commit
together, or not at all. This side decides who is told, at which address and with what
consent; the outbox (notifications) stores, delivers and retries."""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from api.exceptions import ConflictError, NotFoundError
from notifications.models import Notification
from notifications.services import Recipient, notifications_cancel, notifications_queue
from patients.models import CONTACT_FIELDS, EDITABLE_FIELDS, OPT_OUT_FIELDS, Channel, Patient
from patients.validators import normalize_email, normalize_phone

# Ids only: patient details never go into logs.
logger = logging.getLogger(__name__)


class PatientConflict(ConflictError):
    message = "Patient with this phone or email already exists"


class PatientNotFound(NotFoundError):
    message = "Patient not found"


def _normalized(data: dict) -> dict:
    values = {field: data[field] for field in EDITABLE_FIELDS if field in data}
    if "name" in values:
        values["name"] = values["name"].strip()
    if "email" in values:
        values["email"] = normalize_email(values["email"])
    if "phone" in values:
        values["phone"] = normalize_phone(values["phone"])
    return values


def _actor_id(actor: AbstractBaseUser | None):
    return actor.pk if actor is not None else None


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
    actor: AbstractBaseUser | None = None,
) -> Patient:
    """Create a patient and queue their welcome notice.

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
            }
        )
    )
    with transaction.atomic():
        _save(patient, force_insert=True)
        _notify(patient, Notification.Kind.WELCOME)
    logger.info("patient %s created by user %s", patient.pk, _actor_id(actor))
    return patient


def patient_update(
    *, patient: Patient, data: dict, actor: AbstractBaseUser | None = None
) -> Patient:
    """Change the given fields of a patient, keep the others (the original's PUT), and queue
    a details-changed notice when anything changed. Returns the patient as saved.

    The row is read again under a lock in the transaction, so what counts as changed, the
    old addresses that get warned and the write all see the same row, whatever another
    request did since `patient` was loaded. Raises PatientNotFound if it was deleted since.
    A channel the patient opts out of gets none of the notices still waiting to go to it.
    """
    values = _normalized(data)
    with transaction.atomic():
        current = Patient.objects.select_for_update().filter(pk=patient.pk).first()
        if current is None:
            raise PatientNotFound()
        changes = {f: v for f, v in values.items() if getattr(current, f) != v}
        if not changes:
            return current
        previous = {field: getattr(current, field) for field in changes}
        for field, value in changes.items():
            setattr(current, field, value)
        _save(current, update_fields=[*changes, "updated_at"])
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
def patient_delete(*, patient: Patient, actor: AbstractBaseUser | None = None) -> None:
    """Delete a patient record. Their notices stay in the outbox (without the link), and
    those not yet sent still go out: the change that queued them was committed."""
    patient_id = patient.pk
    patient.delete()
    logger.info("patient %s deleted by user %s", patient_id, _actor_id(actor))
