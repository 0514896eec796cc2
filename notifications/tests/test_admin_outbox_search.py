"""The outbox in the admin, as staff look a notice up: by what they know of the patient."""

import pytest

from patients.services import patient_create, patient_update

pytestmark = pytest.mark.django_db

OUTBOX = "/admin/notifications/notification/"


@pytest.fixture
def maria():
    patient = patient_create(name="Maria Lopez", email="maria@example.com", phone="+15550105338")
    patient_create(name="John Smith", email="john@example.com", phone="+15550107777")
    return patient


@pytest.mark.parametrize(
    "term",
    ["Lopez", "maria@example", "5550105338", "555 010 5338", "555-010-5338", "(555) 010-5338"],
)
def test_the_outbox_is_searchable_by_the_patients_name_email_or_phone(admin_client, maria, term):
    page = admin_client.get(OUTBOX, {"q": term}).content.decode()

    assert "+15550105338" in page
    assert "+15550107777" not in page


def test_the_outbox_list_shows_the_recipient_so_old_and_new_phone_differ(admin_client, maria):
    patient_update(patient=maria, data={"phone": "+15550109999"})

    page = admin_client.get(OUTBOX, {"q": "Lopez"}).content.decode()

    assert "+15550105338" in page
    assert "+15550109999" in page
    assert "column-recipient" in page


def test_the_link_from_a_patient_page_lists_only_their_notices(admin_client, maria):
    page = admin_client.get(OUTBOX, {"patient__id__exact": str(maria.pk)}).content.decode()

    assert "+15550105338" in page
    assert "+15550107777" not in page


def test_the_outbox_finds_a_notice_by_its_own_id(admin_client, maria):
    notice = maria.notifications.get()

    page = admin_client.get(OUTBOX, {"q": str(notice.pk)}).content.decode()

    assert f"/admin/notifications/notification/{notice.pk}/change/" in page
    assert "+15550107777" not in page
