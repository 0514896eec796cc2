"""POST /patients, the original's contract: 201 with the id, a message and the Location, the
details stored normalized, and 400 or 409 (with the original's messages) for bad or used
details."""

from http import HTTPStatus

import pytest

from patients.models import Patient

pytestmark = pytest.mark.django_db

JOHN = {"name": "John Doe", "email": "john@example.com", "phone": "1234567890"}


def _post(client, body, path="/patients"):
    return client.post(path, body, format="json")


@pytest.mark.parametrize("path", ["/patients", "/patients/"])
def test_create_answers_201_with_id_message_and_location(alice, path):
    response = _post(alice, JOHN, path)

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert body["message"] == "Patient created successfully"
    patient = Patient.objects.get(pk=body["patient_id"])
    assert body["patient"]["id"] == str(patient.pk)
    assert response["Location"] == f"http://testserver/patients/{patient.pk}"


def test_create_stores_email_lowercased_and_phone_normalized(alice):
    body = {"name": "  Ann Lee ", "email": "Ann.Lee@Example.COM", "phone": "+1 (555) 123-45.67"}

    response = _post(alice, body)

    assert response.status_code == HTTPStatus.CREATED
    patient = Patient.objects.get()
    assert (patient.name, patient.email, patient.phone) == (
        "Ann Lee",
        "ann.lee@example.com",
        "+15551234567",
    )


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, "name"),
        ({"email": "a@example.com", "phone": "1234567"}, "name"),
        ({"name": "A", "email": "a@example.com"}, "phone"),
        ({"name": "A", "phone": "1234567"}, "email"),
        ({"name": "A"}, "phone"),
        ({"name": "   ", "email": "a@example.com", "phone": "1234567"}, "name"),
        ({"name": "A", "email": "", "phone": "1234567"}, "email"),
        ({"name": "A", "email": "a@example.com", "phone": None}, "phone"),
    ],
)
def test_missing_field_is_400_naming_the_first_missing_in_the_originals_order(alice, body, missing):
    response = _post(alice, body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == f"Missing required field: {missing}"
    assert missing in response.json()["errors"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Invalid email format"),
        ("email", "a@b", "Invalid email format"),
        ("phone", "12345", "Invalid phone number format"),
        ("phone", "1234567890123456", "Invalid phone number format"),
        ("phone", "12-34-ab-567", "Invalid phone number format"),
        ("phone", "++1234567", "Invalid phone number format"),
        ("phone", "١٢٣٤", "Invalid phone number format"),
    ],
)
def test_invalid_email_or_phone_is_400_with_error(alice, field, value, message):
    response = _post(alice, {**JOHN, field: value})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == message
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    "duplicate",
    [
        {"email": "JOHN@example.com", "phone": "5550000000"},
        {"email": "other@example.com", "phone": "123-456-7890"},
    ],
)
def test_duplicate_email_or_phone_is_409_regardless_of_case_or_format(alice, duplicate):
    assert _post(alice, JOHN).status_code == HTTPStatus.CREATED

    response = _post(alice, {"name": "Jane", **duplicate})

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"error": "Patient with this phone or email already exists"}
    assert Patient.objects.count() == 1


def test_plus_prefixed_phone_is_a_different_number(alice):
    assert _post(alice, JOHN).status_code == HTTPStatus.CREATED

    response = _post(alice, {"name": "Jane", "email": "jane@example.com", "phone": "+1234567890"})

    assert response.status_code == HTTPStatus.CREATED
