"""POST /fhir/Patient: a patient from a FHIR Patient, through the patients' services."""

import pytest

from audit.models import AccessRecord
from fhir_r4.tests.checks import FHIR_JSON, outcome, patient_body, r4, send
from notifications.models import Notification
from patients.models import Patient, Via
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_create_answers_201_with_the_resource_its_location_and_etag(bob):
    response = send(bob, "post", "/fhir/Patient", patient_body())

    assert response.status_code == 201
    body = r4(response, "Patient")
    patient = Patient.objects.get()
    assert body["id"] == str(patient.pk)
    assert response["Location"] == f"http://testserver/fhir/Patient/{patient.pk}/_history/1"
    assert response["ETag"] == 'W/"1"'
    assert (patient.name, patient.phone, patient.email) == (
        "Ann Marlowe",
        "+15550101234",
        "ann@example.com",
    )
    assert patient.birth_date.isoformat() == "1980-04-02"
    assert patient.preferred_channel == "sms"
    assert Patient.history.get().via == Via.API


def test_create_queues_the_welcome_notice(bob):
    send(bob, "post", "/fhir/Patient", patient_body())

    notice = Notification.objects.get()
    assert notice.patient_id == Patient.objects.get().pk
    assert notice.kind == Notification.Kind.WELCOME


def test_the_lower_ranked_contact_point_is_the_preferred_channel(bob):
    telecom = [
        {"system": "email", "value": "ann@example.com", "rank": 1},
        {"system": "phone", "value": "(555) 010-1234"},
    ]

    send(bob, "post", "/fhir/Patient", patient_body(telecom=telecom))

    patient = Patient.objects.get()
    assert patient.preferred_channel == "email"
    assert patient.phone == "5550101234"  # normalized as the REST API does


def test_given_and_family_make_the_name_when_there_is_no_text(bob):
    name = [{"use": "old", "text": "Ann Old"}, {"given": ["Ann", "B."], "family": "Marlowe"}]

    send(bob, "post", "/fhir/Patient", patient_body(name=name))

    assert Patient.objects.get().name == "Ann B. Marlowe"


def test_a_body_id_is_ignored_on_create(bob):
    response = send(bob, "post", "/fhir/Patient", patient_body(id="made-up"))

    assert response.status_code == 201
    assert response.json()["id"] != "made-up"


def test_a_clients_meta_version_and_time_are_ignored_even_when_odd(bob):
    # The server assigns both; "0073-02-29T17:01:60" (no such day) is no reason to refuse.
    meta = {"versionId": "Im2uKK", "lastUpdated": "0073-02-29T17:01:60+02:34"}

    response = send(bob, "post", "/fhir/Patient", patient_body(meta=meta))

    assert response.status_code == 201, response.content
    assert response.json()["meta"]["versionId"] == "1"


def test_a_meta_that_is_not_an_object_is_still_400(bob):
    response = send(bob, "post", "/fhir/Patient", patient_body(meta=7))

    outcome(response, 400, "structure")


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        '"Patient"',
        {"resourceType": "Observation", "status": "final"},
        patient_body(resourceType=None),
        patient_body(birthDate=19800402),
        patient_body(name="Ann Marlowe"),
        patient_body(telecom=[{"system": "pigeon", "value": "x"}]),
        patient_body(telecom=[{"system": "phone", "value": "1234567", "use": "cell"}]),
        patient_body(unknownElement=True),
    ],
)
def test_a_body_that_is_not_a_valid_r4_patient_is_400(bob, body):
    response = send(bob, "post", "/fhir/Patient", body)

    outcome(response, 400)
    assert response.json()["issue"][0]["code"] in ("invalid", "structure", "code-invalid")
    assert not Patient.objects.exists()


def test_a_400_names_where_the_structure_is_wrong_without_echoing_values(bob):
    response = send(bob, "post", "/fhir/Patient", patient_body(birthDate="secret-value"))

    body = outcome(response, 400, "structure")
    assert body["issue"][0]["expression"] == ["Patient.birthDate"]
    assert "secret-value" not in response.content.decode()


def _telecom(phone: str, email: str) -> list[dict]:
    return [{"system": "phone", "value": phone}, {"system": "email", "value": email}]


@pytest.mark.parametrize(
    ("overrides", "expression", "code"),
    [
        ({"name": None}, "Patient.name", "required"),
        ({"telecom": [{"system": "email", "value": "a@example.com"}]}, "phone", "required"),
        ({"telecom": _telecom("12", "a@example.com")}, "phone", "value"),
        ({"telecom": _telecom("+15550101234", "nope")}, "email", "value"),
        ({"birthDate": "2999-01-01"}, "Patient.birthDate", "value"),
        ({"birthDate": "1980"}, "Patient.birthDate", "value"),
        ({"name": [{"text": "12345"}]}, "Patient.name", "value"),
    ],
)
def test_a_valid_patient_our_rules_refuse_is_422(bob, overrides, expression, code):
    response = send(bob, "post", "/fhir/Patient", patient_body(**overrides))

    body = outcome(response, 422, code)
    assert expression in body["issue"][0]["expression"][0]
    assert not Patient.objects.exists()


def test_two_phones_are_422_not_one_silently_dropped(bob):
    telecom = [
        {"system": "phone", "value": "+15550101234"},
        {"system": "phone", "value": "+15550109999"},
        {"system": "email", "value": "ann@example.com"},
    ]

    outcome(send(bob, "post", "/fhir/Patient", patient_body(telecom=telecom)), 422)


@pytest.mark.parametrize("taken", ["email", "phone"])
def test_an_email_or_phone_another_patient_has_is_422_duplicate(bob, taken):
    other = {"email": "other@example.com", "phone": "+15550109999"}
    PatientFactory(**{**other, taken: {"email": "ann@example.com", "phone": "+15550101234"}[taken]})

    response = send(bob, "post", "/fhir/Patient", patient_body())

    outcome(response, 422, "duplicate")
    assert Patient.objects.count() == 1


def test_a_body_in_another_media_type_is_415(bob):
    response = bob.post("/fhir/Patient", data="name=Ann", content_type="text/plain")

    outcome(response, 415, "not-supported")


def test_plain_application_json_is_accepted(bob):
    response = bob.post("/fhir/Patient", patient_body(), format="json")

    assert response.status_code == 201


def test_a_user_without_the_add_permission_is_403(carol):
    outcome(send(carol, "post", "/fhir/Patient", patient_body()), 403, "forbidden")


def test_an_idempotency_key_retry_replays_the_first_answer(bob):
    first = send(bob, "post", "/fhir/Patient", patient_body(), HTTP_IDEMPOTENCY_KEY="k-1")
    again = send(bob, "post", "/fhir/Patient", patient_body(), HTTP_IDEMPOTENCY_KEY="k-1")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert again["Content-Type"] == FHIR_JSON
    assert Patient.objects.count() == 1


def test_an_idempotency_key_reused_with_another_body_is_422(bob):
    send(bob, "post", "/fhir/Patient", patient_body(), HTTP_IDEMPOTENCY_KEY="k-2")

    other = patient_body(name=[{"text": "Someone Else"}])
    outcome(send(bob, "post", "/fhir/Patient", other, HTTP_IDEMPOTENCY_KEY="k-2"), 422)


def test_creates_are_in_the_access_audit(bob):
    created = send(bob, "post", "/fhir/Patient", patient_body()).json()["id"]
    send(bob, "post", "/fhir/Patient", patient_body())  # a duplicate now

    records = [
        (r.action, r.status, [str(p.patient_id) for p in r.patients.all()])
        for r in AccessRecord.objects.order_by("id")
    ]
    assert records == [("patient.create", 201, [created]), ("patient.create", 422, [])]


def test_a_null_given_name_beside_its_extension_is_skipped(bob):
    name = [
        {
            "given": [None, "Ann"],
            "_given": [{"extension": [{"url": "http://example.com/x", "valueString": "y"}]}, None],
            "family": "Marlowe",
        }
    ]

    response = send(bob, "post", "/fhir/Patient", patient_body(name=name))

    assert response.status_code == 201, response.content
    assert Patient.objects.get().name == "Ann Marlowe"


@pytest.mark.parametrize(
    "contained",
    [
        [{"resourceType": "FooType"}],
        [{"resourceType": "HumanName"}],
        [{"id": "x"}],
        ["x"],
        [{"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"}}, {}],
    ],
)
def test_a_contained_entry_that_is_not_an_r4_resource_is_400_structure(bob, contained):
    response = send(bob, "post", "/fhir/Patient", patient_body(contained=contained))

    body = outcome(response, 400, "structure")
    assert body["issue"][0]["expression"][0].startswith("Patient.contained[")
    assert not Patient.objects.exists()


def test_an_unknown_contained_resource_type_nested_deeper_is_400_not_500(bob):
    inner = {"resourceType": "Patient", "id": "p", "contained": [{"resourceType": "FooType"}]}

    response = send(bob, "post", "/fhir/Patient", patient_body(contained=[inner]))

    outcome(response, 400, "structure")


def test_a_contained_r4_resource_is_accepted_and_not_kept(bob):
    contained = [{"resourceType": "Observation", "id": "o", "status": "final", "code": {}}]

    response = send(bob, "post", "/fhir/Patient", patient_body(contained=contained))

    assert response.status_code == 201, response.content
    assert "contained" not in response.json()


@pytest.mark.parametrize(
    "overrides",
    [
        {"modifierExtension": [{"url": "http://example.com/m", "valueBoolean": True}]},
        {"contact": [{"modifierExtension": [{"url": "http://example.com/m", "valueCode": "x"}]}]},
        {"name": [{"text": "Ann", "modifierExtension": [{"url": "http://example.com/m"}]}]},
        {
            "contained": [
                {
                    "resourceType": "Basic",
                    "code": {"text": "x"},
                    "modifierExtension": [{"url": "http://example.com/m", "valueBoolean": True}],
                }
            ]
        },
    ],
)
def test_a_modifier_extension_anywhere_is_refused(bob, overrides):
    response = send(bob, "post", "/fhir/Patient", patient_body(**overrides))

    outcome(response, 400)
    assert response.json()["issue"][0]["code"] in ("not-supported", "structure")
    assert not Patient.objects.exists()


def test_a_resource_modifier_extension_is_400_not_supported_naming_where(bob):
    body = patient_body(
        contact=[{"modifierExtension": [{"url": "http://example.com/m", "valueCode": "x"}]}]
    )

    response = send(bob, "post", "/fhir/Patient", body)

    issue = outcome(response, 400, "not-supported")["issue"][0]
    assert issue["expression"] == ["Patient.contact[0].modifierExtension"]


def test_an_sms_contact_point_is_the_phone_when_there_is_no_phone(bob):
    telecom = [
        {"system": "sms", "value": "+15550101234"},
        {"system": "email", "value": "ann@example.com"},
    ]

    response = send(bob, "post", "/fhir/Patient", patient_body(telecom=telecom))

    assert response.status_code == 201, response.content
    assert Patient.objects.get().phone == "+15550101234"
