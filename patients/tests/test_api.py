"""The patients API contract of the original, row by row, and its error cases."""

from http import HTTPStatus

import pytest

from patients.models import Patient
from patients.tests.factories import PatientFactory
from patients.tests.pages import walk_pages

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
        ("phone", "١٢٣٤٥٦٧٨", "Invalid phone number format"),
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


@pytest.mark.parametrize("suffix", ["", "/"])
def test_get_returns_the_patient(carol, suffix):
    patient = PatientFactory()

    response = carol.get(f"/patients/{patient.pk}{suffix}")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["id"] == str(patient.pk)
    assert (body["name"], body["email"], body["phone"]) == (
        patient.name,
        patient.email,
        patient.phone,
    )


@pytest.mark.parametrize(
    "patient_id",
    ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "123", "3ce2dd50-7764-42bf"],
)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_unknown_or_malformed_id_is_404(alice, method, patient_id):
    response = getattr(alice, method)(f"/patients/{patient_id}", {"name": "X"}, format="json")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"message": "Patient not found"}


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_changes_the_given_fields_and_keeps_the_others(alice, method):
    patient = PatientFactory(name="John Doe", email="john@example.com", phone="1234567890")

    response = getattr(alice, method)(
        f"/patients/{patient.pk}", {"name": "Jane Doe"}, format="json"
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["message"] == "Patient updated successfully"
    patient.refresh_from_db()
    assert (patient.name, patient.email, patient.phone) == (
        "Jane Doe",
        "john@example.com",
        "1234567890",
    )
    assert response.json()["patient"]["name"] == "Jane Doe"


def test_update_normalizes_like_create(alice):
    patient = PatientFactory()

    response = alice.put(
        f"/patients/{patient.pk}/",
        {"email": "NEW@Example.com", "phone": "(098) 765-4321"},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK
    patient.refresh_from_db()
    assert (patient.email, patient.phone) == ("new@example.com", "0987654321")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": ""}, "Missing required field: name"),
        ({"phone": "  "}, "Missing required field: phone"),
        ({"email": None}, "Missing required field: email"),
        ({"email": "nope"}, "Invalid email format"),
        ({"phone": "12"}, "Invalid phone number format"),
    ],
)
def test_update_with_bad_input_is_400_and_changes_nothing(alice, body, error):
    patient = PatientFactory()
    before = Patient.objects.values().get(pk=patient.pk)

    response = alice.put(f"/patients/{patient.pk}", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == error
    assert Patient.objects.values().get(pk=patient.pk) == before


def test_update_to_another_patients_email_is_409_and_changes_nothing(alice):
    taken = PatientFactory()
    patient = PatientFactory()

    response = alice.put(f"/patients/{patient.pk}", {"email": taken.email.upper()}, format="json")

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"error": "Patient with this phone or email already exists"}
    patient_email = Patient.objects.get(pk=patient.pk).email
    assert patient_email != taken.email


def test_update_with_own_current_values_is_fine(alice):
    patient = PatientFactory()

    response = alice.put(
        f"/patients/{patient.pk}", {"email": patient.email, "phone": patient.phone}, format="json"
    )

    assert response.status_code == HTTPStatus.OK


def test_delete_removes_the_patient(alice):
    patient = PatientFactory()

    response = alice.delete(f"/patients/{patient.pk}/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"message": "Patient deleted successfully"}
    assert not Patient.objects.filter(pk=patient.pk).exists()
    assert alice.get(f"/patients/{patient.pk}").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("path", ["/patients", "/patients/"])
def test_list_is_a_bare_json_array_of_patients(carol, path):
    patients = PatientFactory.create_batch(3)

    response = carol.get(path)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert isinstance(body, list)
    assert [item["id"] for item in body] == [str(p.pk) for p in patients]
    assert set(body[0]) >= {"id", "name", "email", "phone"}
    assert "Link" not in response
    assert "X-Total-Count" not in response


def test_list_pages_follow_the_link_header_and_see_every_patient_once(carol):
    patients = PatientFactory.create_batch(7)

    pages = walk_pages(carol, "/patients?limit=3")

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [item["id"] for page in pages for item in page] == [str(p.pk) for p in patients]


def test_list_page_is_stable_when_patients_are_added_meanwhile(carol, alice):
    first = PatientFactory.create_batch(4)
    response = carol.get("/patients?limit=2")
    next_url = response["Link"].split(";")[0].strip("<>")

    PatientFactory.create_batch(2)
    second = carol.get(next_url).json()

    assert [item["id"] for item in second] == [str(p.pk) for p in first[2:4]]


def test_list_defaults_to_50_and_clamps_limit_to_500(carol):
    PatientFactory.create_batch(501)

    default = carol.get("/patients")
    clamped = carol.get("/patients?limit=100000")

    assert len(default.json()) == 50
    assert len(clamped.json()) == 500
    assert 'rel="next"' in clamped["Link"]


def test_list_count_adds_x_total_count(carol):
    PatientFactory.create_batch(3)

    response = carol.get("/patients?count=true&limit=1")

    assert response["X-Total-Count"] == "3"
    assert len(response.json()) == 1


def test_list_does_not_count_unless_asked(carol, django_assert_max_num_queries):
    PatientFactory.create_batch(3)

    with django_assert_max_num_queries(10) as queries:
        carol.get("/patients")

    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ann", {"Ann Lee"}),
        ("EXAMPLE.ORG", {"Bo Chan"}),
        ("(555) 010", {"Ann Lee"}),
        ("555-0", {"Ann Lee"}),
        ("+44", {"Bo Chan"}),
        ("nobody", set()),
    ],
)
def test_search_matches_name_email_or_normalized_phone(carol, term, expected):
    PatientFactory(name="Ann Lee", email="ann@example.com", phone="5550101234")
    PatientFactory(name="Bo Chan", email="bo@example.org", phone="+447700900123")

    response = carol.get("/patients", {"search": term, "count": "true"})

    assert {item["name"] for item in response.json()} == expected
    assert response["X-Total-Count"] == str(len(expected))


def test_reads_do_not_grow_with_the_page(carol, django_assert_max_num_queries):
    PatientFactory.create_batch(60)

    with django_assert_max_num_queries(6):
        response = carol.get("/patients?limit=60")

    assert len(response.json()) == 60


def test_count_is_not_carried_into_the_next_link(carol):
    PatientFactory.create_batch(3)

    response = carol.get("/patients?count=true&limit=1&search=example")

    next_url = response["Link"].split(";")[0]
    assert "count" not in next_url
    assert "search=example" in next_url
    assert "limit=1" in next_url
