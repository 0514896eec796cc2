"""Writing access records. Callers are the faces that read or write patient data: the API's
views and the admin's pages (through audit.mixins) and the management commands."""

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connections, router, transaction
from rest_framework.exceptions import APIException

from api.clientip import client_ip as request_client_ip
from api.clientip import ip_address_or_none
from audit.models import (
    PATH_MAX_LENGTH,
    TOKEN_PREFIX_LENGTH,
    AccessRecord,
    AccessRecordPatient,
    Via,
)

# A command's status in its record: its exit status.
COMMAND_SUCCEEDED = 0
COMMAND_FAILED = 1


def _unique_ids(patient_ids: Iterable) -> list[uuid.UUID]:
    """The ids as UUIDs, each once, in their order (a list page names each patient once)."""
    seen: dict[uuid.UUID, None] = {}
    for patient_id in patient_ids:
        if patient_id is None:
            continue
        seen.setdefault(
            patient_id if isinstance(patient_id, uuid.UUID) else uuid.UUID(str(patient_id))
        )
    return list(seen)


@transaction.atomic
def access_record(
    *,
    action: str,
    via: str,
    patient_ids: Iterable = (),
    status_code: int,
    user: AbstractBaseUser | AnonymousUser | None = None,
    token_digest: str = "",
    client_ip: str | None = None,
    path: str = "",
) -> AccessRecord:
    """Record one access: one INSERT for the record and one for all its patient ids.

    `token_digest` is the stored digest of the knox token used (never the token); only its
    first characters are kept. `path` must come without its query string. Raises whatever
    the database raises: a caller must not answer as if the access were recorded.
    """
    if user is not None and not user.is_authenticated:
        user = None
    record = AccessRecord.objects.create(
        user=user,
        username=user.get_username() if user is not None else "",
        token=(token_digest or "")[:TOKEN_PREFIX_LENGTH],
        via=via,
        action=action,
        status=status_code,
        # The address column (PostgreSQL's inet) refuses anything else, and the record must
        # not fail over a caller's bad value.
        client_ip=ip_address_or_none(client_ip),
        path=path[:PATH_MAX_LENGTH],
    )
    ids = _unique_ids(patient_ids)
    if ids:
        _insert_patient_ids(record, ids)
    record.patient_ids = ids
    return record


def _insert_patient_ids(record: AccessRecord, ids: list[uuid.UUID]) -> None:
    """One INSERT for all of a record's patient ids, with the ids as one parameter.

    Every list page pays for this. bulk_create would make a model instance and two
    parameters per id and, on SQLite, split the rows into batches of 499 (Django assumes
    999 variables at most): a page of 500 would be two INSERTs, about four times the time
    of this one on SQLite and twice on PostgreSQL.
    """
    connection = connections[router.db_for_write(AccessRecordPatient)]
    quote = connection.ops.quote_name
    insert = (
        f"INSERT INTO {quote(AccessRecordPatient._meta.db_table)} "
        f"({quote('record_id')}, {quote('patient_id')}) "
    )
    if connection.vendor == "sqlite":  # UUIDField stores 32 hex digits there
        sql, ids_param = (
            insert + "SELECT %s, value FROM json_each(%s)",
            json.dumps([patient_id.hex for patient_id in ids]),
        )
    elif connection.vendor == "postgresql":
        sql, ids_param = insert + "SELECT %s, unnest(%s::uuid[])", ids
    else:
        AccessRecordPatient.objects.bulk_create(
            [AccessRecordPatient(record=record, patient_id=patient_id) for patient_id in ids]
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, [record.pk, ids_param])


def _request_user(request) -> AbstractBaseUser | None:
    try:
        user = request.user
    except APIException:
        # A DRF request asked for its user before authenticating (an error raised before the
        # view's checks): it did not get as far as being someone.
        return None
    except AttributeError:  # no authentication middleware
        return None
    return user if user is not None and user.is_authenticated else None


def request_access_record(
    request,
    *,
    action: str,
    patient_ids: Iterable = (),
    status_code: int,
    via: str = Via.API,
) -> AccessRecord:
    """Record one access by an HTTP request (a DRF Request or Django's HttpRequest)."""
    user = _request_user(request)  # first: it authenticates a DRF request not yet done
    # Under token authentication DRF's `request.auth` is the knox AuthToken row.
    token = getattr(request, "auth", None)
    return access_record(
        action=action,
        via=via,
        patient_ids=patient_ids,
        status_code=status_code,
        user=user,
        token_digest=getattr(token, "digest", "") or "",
        client_ip=request_client_ip(request),
        path=request.path,
    )


@contextmanager
def command_access(
    *, command: str, action: str, user: AbstractBaseUser | None = None
) -> Iterator[list]:
    """Run a management command's reads or writes of patients with their record.

    Yields a list to which the command appends the ids of the patients it read or wrote.
    The command's work and its record commit in one transaction. If the work raises, it is
    rolled back and the attempt is still recorded (status 1) before the error goes on.

        with command_access(command="export_patients", action=Action.PATIENT_EXPORT) as ids:
            for patient in patients:
                ids.append(patient.pk)
    """
    patient_ids: list = []

    def record(status_code: int) -> None:
        access_record(
            action=action,
            via=Via.COMMAND,
            patient_ids=patient_ids,
            status_code=status_code,
            user=user,
            path=command,
        )

    try:
        with transaction.atomic():
            yield patient_ids
            record(COMMAND_SUCCEEDED)
    except BaseException:
        record(COMMAND_FAILED)
        raise
