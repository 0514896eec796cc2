"""The admin in a real browser, as clinic staff use it."""

import pytest
from playwright.sync_api import expect

from notifications.models import Notification
from patients.models import Patient
from patients.services import patient_create
from tests.browser.conftest import admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def marias():
    first = patient_create(name="Maria Lopez", email="maria@example.com", phone="+15550105338")
    second = patient_create(name="Maria Lopez", email="maria2@example.com", phone="+15550107777")
    return first, second


def test_front_desk_finds_a_patient_by_a_spaced_phone_edits_it_and_sees_the_notices(
    page, staff, marias
):
    staff("desk", role="front_desk")
    admin_login(page, "desk", "/admin/patients/patient/")
    page.screenshot_step("patients")

    page.fill("#searchbar", "555 010 5338")
    page.press("#searchbar", "Enter")
    results = page.locator("#result_list tbody tr")
    expect(results).to_have_count(1)
    page.screenshot_step("found")
    results.first.locator("a").first.click()

    expect(page.locator("h2")).to_contain_text("Maria Lopez (phone ending 5338)")
    page.fill("#id_phone", "+1 555 010 4242")
    page.click("input[name=_continue]")  # save and keep editing: back on the same page

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator("h2")).to_contain_text("Maria Lopez (phone ending 4242)")
    notices = page.locator("table.patient-notices tbody tr")
    expect(notices).to_have_count(3)  # the welcome, and the change to the old and new phone
    expect(notices.first).to_contain_text("Details changed")
    expect(page.locator("table.patient-notices")).to_contain_text("+15550105338")
    expect(page.locator("table.patient-notices")).to_contain_text("+15550104242")
    page.screenshot_step("changed-with-notices")
    assert Patient.objects.get(pk=marias[0].pk).phone == "+15550104242"


def test_a_superuser_deletes_a_patient_after_a_confirmation_naming_them_in_full(
    page, staff, marias
):
    staff("root", superuser=True)
    first, second = marias
    admin_login(page, "root", f"/admin/patients/patient/{first.pk}/change/")

    page.click("a.deletelink")
    expect(page.locator("#content")).to_contain_text("Maria Lopez (phone ending 5338)")
    expect(page.locator("#content")).not_to_contain_text("phone ending 7777")
    page.screenshot_step("confirmation")
    page.click("input[type=submit]")

    expect(page.locator(".messagelist")).to_contain_text("was deleted successfully")
    page.screenshot_step("deleted")
    assert list(Patient.objects.values_list("pk", flat=True)) == [second.pk]


def test_an_auditor_sees_patients_and_notices_with_no_save_or_delete(page, staff, marias):
    staff("audit", role="auditor")
    first, _ = marias
    admin_login(page, "audit", "/admin/patients/patient/")

    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("a.addlink")).to_have_count(0)
    page.screenshot_step("patients")
    page.goto(f"/admin/patients/patient/{first.pk}/change/")
    expect(page.locator("table.patient-notices tbody tr")).to_have_count(1)
    expect(page.locator("input[name=_save]")).to_have_count(0)
    expect(page.locator("a.deletelink")).to_have_count(0)
    page.screenshot_step("patient")
    page.goto("/admin/notifications/notification/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("select[name=action]")).to_have_count(0)  # no resend for auditors
    page.screenshot_step("outbox")
    assert Notification.objects.count() == 2
