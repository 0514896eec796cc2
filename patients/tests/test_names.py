"""Names: at least one letter, nothing invisible or unprintable, stored composed (NFC); and
the first name that notices carry is the name's first word, never the whole name."""

from http import HTTPStatus

import pytest

from notifications.models import Notification
from patients.models import Patient
from patients.tests.admin_pages import ADD, form_data
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

JOHN = {"name": "John Doe", "email": "john@example.com", "phone": "5550101234"}


def _post(client, name):
    return client.post("/patients", {**JOHN, "name": name}, format="json")


@pytest.mark.parametrize(
    "name",
    [
        "Ann\u202eeoD",  # a right-to-left override: shown as "AnnDoe" reversed
        "Ann\u2066Lee",  # a bidirectional isolate
        "Ann\u200bLee",  # a zero-width space
        "Ann\u00adLee",  # a soft hyphen
        "\ufeffAnn",  # a byte order mark
        "Ann\nLee",
        "Ann\tLee",
        "Ann\u0000",
        "Ann\u0007",
        "Ann\u2028Lee",  # a line separator
        "Ann\ue000",  # private use
    ],
)
def test_a_name_with_a_control_or_invisible_character_is_400(alice, name):
    response = _post(alice, name)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "Name must not contain control or invisible characters"
    assert "name" in response.json()["errors"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("name", ["123", "---", "\u263a", "\u0301", "42 ."])
def test_a_name_with_no_letter_is_400(alice, name):
    response = _post(alice, name)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "Name must contain a letter"
    assert not Patient.objects.exists()


def test_an_update_to_a_name_with_a_control_character_is_400(alice):
    patient = PatientFactory(name="Ann Lee")

    response = alice.patch(f"/patients/{patient.pk}", {"name": "Ann\u202eLee"}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    patient.refresh_from_db()
    assert patient.name == "Ann Lee"


@pytest.mark.parametrize("name", ["José Ñúñez", "李小龍", "O'Brien-Smith", "Zoë d'Arc", "Ng"])
def test_names_in_any_script_are_accepted(alice, name):
    response = _post(alice, name)

    assert response.status_code == HTTPStatus.CREATED
    assert Patient.objects.get().name == name


def test_a_name_is_stored_with_composed_accents(alice):
    response = _post(alice, "Jose\u0301 Doe")

    assert response.status_code == HTTPStatus.CREATED
    assert Patient.objects.get().name == "Jos\u00e9 Doe"


@pytest.mark.parametrize("name", ["Ann\u202eLee", "1234"])
def test_the_admin_shows_a_refused_name_as_a_form_error(superuser_client, name):
    response = superuser_client.post(ADD, form_data(name=name))

    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors["name"]
    assert not Patient.objects.exists()


def test_the_welcome_notice_of_doe_comma_john_carries_doe_only(alice):
    response = _post(alice, "Doe,John")

    assert response.status_code == HTTPStatus.CREATED
    notice = Notification.objects.get(patient_id=response.json()["patient_id"])
    assert notice.first_name == "Doe"


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("John Doe", "John"),
        ("Doe,John", "Doe"),
        ("Doe, John", "Doe"),
        ("Doe;John", "Doe"),
        ("Doe\uff0cJohn", "Doe"),  # a full-width comma
        ("Doe\u3001John", "Doe"),  # an ideographic comma
        ("Ann\u00a0Lee", "Ann"),  # a no-break space
        ("Ann\u3000Lee", "Ann"),  # an ideographic space
        ("Doe/John", "Doe"),
        ('"Johnny" Doe', "Johnny"),
        ("1. Ann Lee", "Ann"),  # the first word with a letter
        ("Mary-Jane O'Neil", "Mary-Jane"),
        ("A" * 80, "A" * 50),
    ],
)
def test_the_first_name_is_the_first_word_of_the_name(name, first):
    assert Patient(name=name).first_name == first
