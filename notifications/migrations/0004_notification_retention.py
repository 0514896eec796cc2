import logging
from collections import defaultdict

from django.db import migrations, models

# Ids and counts only: addresses never go into logs.
logger = logging.getLogger("notifications.migrations")

# Which field of a patient's version holds the address of each channel.
ADDRESS_FIELDS = {"sms": "phone", "email": "email"}


def keep_patient_ids(apps, schema_editor):
    """Copy each notice's patient id into patient_ref, which the patient's deletion does not
    clear. The notices of patients deleted before now have lost their link: each gets the id
    of the only patient whose versions ever held its address, if there is exactly one. The
    others (their patient was deleted before versions were kept, or two patients held the
    address) are erased by age instead; see docs/operations.md, "Retention and erasure"."""
    Notification = apps.get_model("notifications", "Notification")
    HistoricalPatient = apps.get_model("patients", "HistoricalPatient")
    Notification.objects.filter(patient__isnull=False).update(patient_ref=models.F("patient"))

    unlinked = Notification.objects.filter(patient__isnull=True)
    if not unlinked.exists():
        return
    holders = defaultdict(set)
    for patient_id, email, phone in HistoricalPatient.objects.values_list(
        "id", "email", "phone"
    ).iterator(chunk_size=2000):
        holders[("email", email)].add(patient_id)
        holders[("sms", phone)].add(patient_id)
    by_patient = defaultdict(list)
    unmatched = 0
    for pk, channel, recipient in unlinked.values_list("pk", "channel", "recipient").iterator(
        chunk_size=2000
    ):
        candidates = holders.get((channel, recipient), set())
        if len(candidates) == 1:
            by_patient[next(iter(candidates))].append(pk)
        else:
            unmatched += 1
    for patient_id, pks in by_patient.items():
        Notification.objects.filter(pk__in=pks).update(patient_ref=patient_id)
    if unmatched:
        logger.info(
            "notifications 0004: %s notices of deleted patients match no single patient",
            unmatched,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_notification_withdrawn"),
        ("patients", "0005_version_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="patient_ref",
            field=models.UUIDField(blank=True, db_index=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="erased_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(keep_patient_ids, migrations.RunPython.noop),
    ]
