"""The browsable API's forms in a real browser."""

import pytest
from playwright.sync_api import expect

from patients.models import Patient
from tests.browser.conftest import admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_form(page, name: str, phone: str, email: str) -> None:
    form = page.locator("#post-object-form form")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=email]").fill(email)
    form.locator("button").click()


def test_the_browsable_api_creates_a_patient_through_its_form(page, staff):
    staff("desk", role="front_desk")
    admin_login(page, "desk", "/patients")  # the session login serves both
    page.click("a[name=html-tab]")
    page.screenshot_step("form")

    _fill_form(page, "Ann Lee", "555-010-1234", "ann@example.com")

    expect(page.locator(".response-info")).to_contain_text("201 Created")
    expect(page.locator(".response-info")).to_contain_text("Patient created successfully")
    page.screenshot_step("created")
    assert Patient.objects.get().phone == "5550101234"


def test_the_browsable_api_keeps_what_was_typed_and_shows_each_error_by_its_field(page, staff):
    staff("desk", role="front_desk")
    admin_login(page, "desk", "/patients")
    page.click("a[name=html-tab]")

    _fill_form(page, "Ann Lee", "12", "not-an-email")

    expect(page.locator(".response-info")).to_contain_text("400 Bad Request")
    page.click("a[name=html-tab]")
    form = page.locator("#post-object-form form")
    expect(form.locator("input[name=name]")).to_have_value("Ann Lee")
    expect(form.locator("input[name=email]")).to_have_value("not-an-email")
    phone_group = form.locator(".form-group", has=page.locator("input[name=phone]"))
    email_group = form.locator(".form-group", has=page.locator("input[name=email]"))
    expect(phone_group).to_have_class("form-group has-error")
    expect(phone_group.locator(".help-block")).to_have_text("Invalid phone number format")
    expect(email_group.locator(".help-block")).to_have_text("Invalid email format")
    page.screenshot_step("errors")
    assert not Patient.objects.exists()
