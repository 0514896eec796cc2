"""One person, one record: an email or phone is compared in the form it is delivered by, so a
lookalike spelling of a patient's address is that patient's address (409), or is refused
(400), and never makes a second patient. The 0006 migration puts stored rows in that form and
reports, by id, the ones it cannot."""

# The tables are of lookalike characters on purpose.
# ruff: noqa: RUF001, RUF003

import importlib
import logging
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from patients.models import Patient
from patients.tests.admin_pages import ADD, form_data
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

JOHN = {"name": "John Doe", "email": "john@example.com", "phone": "5550101234"}
INVALID_EMAIL = {"error": "Invalid email format"}


def _post(client, **details):
    return client.post("/patients", {**JOHN, **details}, format="json")


def _other_phone():
    return {"phone": "5550109999"}


@pytest.mark.parametrize(
    ("twin", "lookalike", "status"),
    [
        ("john@example.com", "john@ｅｘａｍｐｌｅ.com", HTTPStatus.CONFLICT),
        ("john@example.com", "ｊｏｈｎ@example.com", HTTPStatus.CONFLICT),
        ("john@example.com", "john＠example.com", HTTPStatus.CONFLICT),
        ("john@example.com", "john@example\u3002com", HTTPStatus.CONFLICT),
        ("john@example.com", '"john"@example.com', HTTPStatus.CONFLICT),
        ("john@example.com", '"jo\\hn"@example.com', HTTPStatus.CONFLICT),
        ("john@example.com", "john@example.com.", HTTPStatus.CONFLICT),
        ("john@example.com", "JOHN@EXAMPLE.COM.", HTTPStatus.CONFLICT),
        ("john@example.com", " john@example.com\u3000", HTTPStatus.CONFLICT),
        ("john@example.com", "john@exa\u200bmple.com", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "john@exam\u00adple.com", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "john@ex\u200dample.com", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "\ufeffjohn@example.com", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "jo\u202ehn@example.com", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "john@example.com\u0000", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "john\u0007@example.com", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "mailto:john@example.com", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "jo hn@example.com", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "john@example\u00a0.com", HTTPStatus.BAD_REQUEST),
        ("john@example.com", "john@example.com..", HTTPStatus.BAD_REQUEST),
        ("ann@bücher.com", "ann@xn--bcher-kva.com", HTTPStatus.CONFLICT),
        ("ann@xn--bcher-kva.com", "ann@bücher.com", HTTPStatus.CONFLICT),
        ("ann@bücher.com", "ann@BÜCHER.com", HTTPStatus.CONFLICT),
        ("ann@bücher.com", "ann@XN--BCHER-KVA.COM", HTTPStatus.CONFLICT),
        ("ann@bücher.com", "ann@bu\u0308cher.com", HTTPStatus.CONFLICT),
        ("ann@bücher.com", "ann@xn--bcher-kva.com.", HTTPStatus.CONFLICT),
    ],
)
def test_a_lookalike_email_is_the_twins_address_or_refused_never_a_new_patient(
    alice, twin, lookalike, status
):
    assert _post(alice, email=twin).status_code == HTTPStatus.CREATED

    response = _post(alice, email=lookalike, **_other_phone())

    assert response.status_code == status
    if status == HTTPStatus.BAD_REQUEST:
        assert response.json()["error"] == "Invalid email format"
        assert "email" in response.json()["errors"]
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    "email",
    [
        '"john doe"@example.com',  # quoted, and no dot-atom once unquoted
        '"john@home"@example.com',
        "john@[192.0.2.1]",  # a domain literal
        "john@localhost",
        "john@xn---bbk.com",  # a fake A-label: not the Punycode of any name
        "john@xn--bcher-kva-.com",
        "john@-example.com",
        "john@exa_mple.com",
        "john@example.c0m",
        f"{'j' * 65}@example.com",  # a local part over 64 characters
        "john@" + "a" * 64 + ".com",  # a label over 63
        "john@\u0627\u0644\u0639\u0631\u0628\u064a\u0629a.com",  # IDNA's bidi rule: RTL + LTR
    ],
)
def test_an_email_with_no_canonical_form_is_400(alice, email):
    response = _post(alice, email=email)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "Invalid email format"
    assert not Patient.objects.exists()


def test_an_internationalized_domain_is_stored_in_its_ascii_form(alice):
    response = _post(alice, email="Ann@Bücher.com")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["patient"]["email"] == "ann@xn--bcher-kva.com"
    assert Patient.objects.get().email == "ann@xn--bcher-kva.com"


def test_a_cyrillic_lookalike_domain_is_a_different_mailbox(alice):
    # "е" below is CYRILLIC SMALL LETTER IE: another domain, so another patient may hold it.
    assert _post(alice).status_code == HTTPStatus.CREATED

    response = _post(alice, email="john@\u0435xample.com", **_other_phone())

    assert response.status_code == HTTPStatus.CREATED
    assert Patient.objects.filter(email="john@xn--xample-2of.com").exists()


def test_an_update_to_a_lookalike_of_another_patients_email_is_409(alice):
    assert _post(alice).status_code == HTTPStatus.CREATED
    other = PatientFactory(email="jane@example.com")

    response = alice.patch(
        f"/patients/{other.pk}", {"email": "JOHN@ｅｘａｍｐｌｅ.com."}, format="json"
    )

    assert response.status_code == HTTPStatus.CONFLICT
    other.refresh_from_db()
    assert other.email == "jane@example.com"


@pytest.mark.parametrize(
    ("twin", "lookalike", "status"),
    [
        ("5550101234", "٥٥٥٠١٠١٢٣٤", HTTPStatus.CONFLICT),  # Arabic-Indic digits
        ("5550101234", "۵۵۵۰۱۰۱۲۳۴", HTTPStatus.CONFLICT),  # Extended Arabic-Indic
        ("5550101234", "५५५०१०१२३४", HTTPStatus.CONFLICT),  # Devanagari
        ("5550101234", "５５５０１０１２３４", HTTPStatus.CONFLICT),
        ("5550101234", "555010123４", HTTPStatus.CONFLICT),
        ("5550101234", "\U0001d7d3\U0001d7d3\U0001d7d30101234", HTTPStatus.CONFLICT),  # math 5
        ("5550101234", "（５５５）０１０－１２３４", HTTPStatus.CONFLICT),
        ("5550101234", "555\u00a0010\u30001234", HTTPStatus.CONFLICT),
        ("+15550101234", "＋1 555 010 1234", HTTPStatus.CONFLICT),
        ("+15550101234", "+١ ٥٥٥ ٠١٠ ١٢٣٤", HTTPStatus.CONFLICT),
        ("5550101234", "555\u200b0101234", HTTPStatus.BAD_REQUEST),
        ("5550101234", "5550101234\u202e", HTTPStatus.BAD_REQUEST),
        ("5550101234", "555\u00ad0101234", HTTPStatus.BAD_REQUEST),
        ("5550101234", "555\t0101234", HTTPStatus.BAD_REQUEST),
        ("5550101234", "555\u00000101234", HTTPStatus.BAD_REQUEST),
        ("5550101234", "555-010-ABCD", HTTPStatus.BAD_REQUEST),
        ("5550101234", "\u00b2555010123", HTTPStatus.BAD_REQUEST),  # a superscript 2
        ("5550101234", "tel:5550101234", HTTPStatus.BAD_REQUEST),
    ],
)
def test_a_lookalike_phone_is_the_twins_number_or_refused_never_a_new_patient(
    alice, twin, lookalike, status
):
    assert _post(alice, phone=twin).status_code == HTTPStatus.CREATED

    response = _post(alice, phone=lookalike, email="other@example.com")

    assert response.status_code == status
    if status == HTTPStatus.BAD_REQUEST:
        assert response.json()["error"] == "Invalid phone number format"
    assert Patient.objects.count() == 1


def test_a_phone_in_other_digits_is_stored_in_ascii_digits(alice):
    response = _post(alice, phone="＋٤٤ ２٠ ७९४६ 0958")

    assert response.status_code == HTTPStatus.CREATED
    assert Patient.objects.get().phone == "+442079460958"


def test_a_00_international_prefix_is_kept_as_typed(alice):
    # "00" dials out of many countries but not all; like the + it is kept, not guessed at.
    assert _post(alice, phone="+15550101234").status_code == HTTPStatus.CREATED

    response = _post(alice, phone="0015550101234", email="other@example.com")

    assert response.status_code == HTTPStatus.CREATED
    assert Patient.objects.filter(phone="0015550101234").exists()


def test_a_write_that_skips_normalization_cannot_store_a_second_spelling():
    patient = PatientFactory.build(email="john@ｅｘａｍｐｌｅ.com")

    with pytest.raises(ValidationError) as excinfo:
        patient.full_clean(validate_unique=False, validate_constraints=False)

    assert excinfo.value.message_dict["email"] == ["Invalid email format"]


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("JOHN@ｅｘａｍｐｌｅ.com", "already exists"),
        ('"john"@example.com', "already exists"),
        ("john@exa\u200bmple.com", "Invalid email format"),
        ("john@localhost", "Invalid email format"),
    ],
)
def test_the_admin_shows_a_lookalike_email_as_a_form_error(superuser_client, email, error):
    PatientFactory(email="john@example.com")

    response = superuser_client.post(ADD, form_data(email=email))

    assert response.status_code == HTTPStatus.OK
    assert error in str(response.context["adminform"].form.errors["email"])
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("phone", ["５５５ ０１０ １２３４", "٥٥٥٠١٠١٢٣٤"])
def test_the_admin_shows_a_lookalike_phone_as_a_form_error(superuser_client, phone):
    PatientFactory(phone="5550101234")

    response = superuser_client.post(ADD, form_data(phone=phone))

    assert response.status_code == HTTPStatus.OK
    assert "already exists" in str(response.context["adminform"].form.errors["phone"])
    assert Patient.objects.count() == 1


# The data migration, called as `migrate` calls it, on rows written straight to the table.

_migration = importlib.import_module("patients.migrations.0006_canonical_contacts")


def _stored(*, age_days: int, **details) -> Patient:
    """A row as an older release could have stored it: no normalization, no validation."""
    patient = PatientFactory(**details)
    Patient.objects.filter(pk=patient.pk).update(
        created_at=timezone.now() - timedelta(days=age_days)
    )
    return patient


def _migrate(caplog) -> list[str]:
    caplog.set_level(logging.INFO, logger="patients.migrations")
    _migration.canonicalize_contacts(apps, None)
    return [r.getMessage() for r in caplog.records if r.name == "patients.migrations"]


def test_the_migration_puts_emails_and_phones_in_canonical_form(caplog):
    patient = _stored(age_days=1, email="ann@bücher.com", phone="５５５ ０１０ １２３４")
    untouched = _stored(age_days=1, email="bo@example.com", phone="5550105555")

    messages = _migrate(caplog)

    patient.refresh_from_db()
    assert (patient.email, patient.phone, patient.version) == (
        "ann@xn--bcher-kva.com",
        "5550101234",
        2,
    )
    latest = patient.history.latest()
    assert (latest.history_type, latest.email, latest.via) == ("~", patient.email, "command")
    untouched.refresh_from_db()
    assert untouched.version == 1
    assert messages == ["patients 0006: 1 patients' contact details put in canonical form"]


def test_the_migration_keeps_both_duplicates_and_reports_their_ids_only(caplog):
    original = _stored(age_days=3, email="john@ｅｘａｍｐｌｅ.com", phone="5550101234")
    duplicate = _stored(age_days=2, email='"john"@example.com', phone="555-010-1234")
    already = _stored(age_days=1, email="ann@example.com", phone="5550102222")
    later = _stored(age_days=0, email="ann@example.com.", phone="5550103333")

    messages = _migrate(caplog)

    # The older of two spellings gets the canonical form; the later row stays as it was.
    original.refresh_from_db()
    assert (original.email, original.phone) == ("john@example.com", "5550101234")
    duplicate.refresh_from_db()
    assert (duplicate.email, duplicate.phone, duplicate.version) == (
        '"john"@example.com',
        "555-010-1234",
        1,
    )
    # A row already in canonical form keeps it, however new it is.
    later.refresh_from_db()
    assert later.email == "ann@example.com."
    report = "\n".join(messages)
    assert f"email of patient {duplicate.pk} is the same as patient {original.pk}'s" in report
    assert f"phone of patient {duplicate.pk} is the same as patient {original.pk}'s" in report
    assert f"email of patient {later.pk} is the same as patient {already.pk}'s" in report
    assert "example" not in report
    assert "555-010-1234" not in report


def test_the_migration_reports_details_the_new_rules_refuse_and_leaves_them(caplog):
    email = _stored(age_days=1, email="john@exa\u200bmple.com")
    phone = _stored(age_days=1, phone="555\u200b0101234")
    name = _stored(age_days=1, name="Ann\u202eLee")

    messages = _migrate(caplog)

    email.refresh_from_db()
    assert email.email == "john@exa\u200bmple.com"
    report = "\n".join(messages)
    assert f"email of patient {email.pk} is refused by the new rules" in report
    assert f"phone of patient {phone.pk} is refused by the new rules" in report
    assert f"name of patient {name.pk} is refused by the new rules" in report
    assert "Ann" not in report


def test_the_migration_reports_nothing_when_every_row_is_canonical(caplog):
    PatientFactory.create_batch(3)

    assert _migrate(caplog) == []
