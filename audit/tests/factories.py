"""factory_boy factories for the access audit.

An `AccessRecordFactory()` is a successful API read of one new patient by no one in
particular; `AccessRecordFactory(patient_ids=[a, b], user=user)` names those patients and that
user (its username is kept as the snapshot the service would take).
"""

import uuid

import factory
from django.utils import timezone

from audit.models import AccessRecord, AccessRecordPatient, Action, Via


class AccessRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessRecord
        skip_postgeneration_save = True

    at = factory.LazyFunction(timezone.now)
    user = None
    username = factory.LazyAttribute(lambda record: record.user.username if record.user else "")
    via = Via.API
    action = Action.PATIENT_READ
    status = 200
    client_ip = "127.0.0.1"
    path = "/patients"

    @factory.post_generation
    def patient_ids(record, create, extracted, **kwargs):
        """The patients the record names: one new id unless given (an empty list: none)."""
        ids = [uuid.uuid4()] if extracted is None else list(extracted)
        if create:
            AccessRecordPatient.objects.bulk_create(
                [AccessRecordPatient(record=record, patient_id=patient_id) for patient_id in ids]
            )
