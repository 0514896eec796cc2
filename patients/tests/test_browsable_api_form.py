"""The browsable API's form after a POST with errors: what was typed is kept, and each field's
error stands beside that field (tests/browser/ does the same in Chromium)."""

import re
from http import HTTPStatus

import pytest

from patients.models import Patient

pytestmark = pytest.mark.django_db


def test_a_bad_post_keeps_what_was_typed_and_shows_each_error_by_its_field(admin_client):
    response = admin_client.post(
        "/patients",
        {"name": "Typed Name", "phone": "12", "email": "not-an-email"},
        HTTP_ACCEPT="text/html",
    )

    page = response.content.decode()
    assert response.status_code == HTTPStatus.BAD_REQUEST
    form = page[page.index('id="post-object-form"') :]
    assert 'value="Typed Name"' in form
    phone = re.search(r'<div class="form-group has-error">.*?name="phone".*?</div>', form, re.S)
    email = re.search(r'<div class="form-group has-error">.*?name="email".*?</div>', form, re.S)
    assert "Invalid phone number format" in phone.group(0)
    assert "Invalid email format" in email.group(0)
    assert not Patient.objects.exists()
