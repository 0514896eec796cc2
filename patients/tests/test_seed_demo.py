"""`manage.py seed_demo --patients N`: made-up patients for demos and benchmarks, in bulk."""

import io

import pytest
from django.core.management import CommandError, call_command

from notifications.models import Notification
from patients.models import Patient
from patients.services import patient_create

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_seed_demo_makes_valid_patients_each_with_a_created_version_and_no_notice():
    _seed("--patients", "130", "--batch-size", "50")

    patients = list(Patient.objects.all())
    assert len(patients) == 130
    for patient in patients[:20]:
        patient.full_clean()  # the API's rules hold for every made-up row
    assert len({p.email for p in patients}) == len({p.phone for p in patients}) == 130
    versions = Patient.history.all()
    assert versions.count() == 130
    assert set(versions.values_list("history_type", "via").distinct()) == {("+", "command")}
    assert not Notification.objects.exists()


def test_seed_demo_tops_up_to_the_count_and_a_second_run_adds_nothing():
    _seed("--patients", "40")
    assert "Added 20 " in _seed("--patients", "60")
    assert "Added 0 " in _seed("--patients", "60")
    assert Patient.objects.count() == 60


def test_seed_demo_refuses_to_collide_with_an_existing_patient_and_adds_nothing():
    patient_create(name="Real Person", email="real@example.com", phone="+15550000001")

    with pytest.raises(CommandError, match="already has one of the demo addresses"):
        _seed("--patients", "5")
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("count", ["-1", "ten", "10000001"])
def test_seed_demo_refuses_a_bad_count(count):
    with pytest.raises(CommandError):
        _seed("--patients", count)
