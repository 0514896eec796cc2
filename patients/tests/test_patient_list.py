"""GET /patients: a bare JSON array (the original's shape), paged by cursor through the Link
header, counted only when asked, and searched by name, email or phone as typed."""

from http import HTTPStatus

import pytest

from patients.tests.factories import PatientFactory
from patients.tests.pages import walk_pages

pytestmark = pytest.mark.django_db


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


def test_count_is_not_carried_into_the_next_link(carol):
    PatientFactory.create_batch(3)

    response = carol.get("/patients?count=true&limit=1&search=example")

    next_url = response["Link"].split(";")[0]
    assert "count" not in next_url
    assert "search=example" in next_url
    assert "limit=1" in next_url


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ann", {"Ann Lee"}),
        ("EXAMPLE.ORG", {"Bo Chan"}),
        ("(555) 010", {"Ann Lee"}),
        ("555-0", {"Ann Lee"}),
        ("+44", {"Bo Chan"}),
        ("nobody", set()),
        # An internationalized domain, typed as people write it, stored in its ASCII form.
        ("bücher", {"Cy Roth"}),
        ("cy@BÜCHER.com", {"Cy Roth"}),
        ("\uff43\uff59@\uff42\u00fc\uff43\uff48\uff45\uff52", {"Cy Roth"}),  # full width
    ],
)
def test_search_matches_name_email_or_normalized_phone(carol, term, expected):
    PatientFactory(name="Ann Lee", email="ann@example.com", phone="5550101234")
    PatientFactory(name="Bo Chan", email="bo@example.org", phone="+447700900123")
    PatientFactory(name="Cy Roth", email="cy@xn--bcher-kva.com", phone="+4930901820")

    response = carol.get("/patients", {"search": term, "count": "true"})

    assert {item["name"] for item in response.json()} == expected
    assert response["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # A whole address is the patient who has it, not every address that contains it.
        ("ann@example.com", {"Ann Lee"}),
        ("ANN@Example.COM", {"Ann Lee"}),
        ("n@example.com", {"Nn Ives"}),
        # A whole number with its country code likewise; without it, a part of a number.
        ("+1 555 010 1234", {"Ann Lee"}),
        ("+1555010123", set()),
        ("555 010 1234", {"Ann Lee", "Jo Ann"}),
    ],
)
def test_a_whole_email_or_international_number_finds_its_one_patient(carol, term, expected):
    PatientFactory(name="Ann Lee", email="ann@example.com", phone="+15550101234")
    PatientFactory(name="Jo Ann", email="joann@example.com", phone="+445550101234")
    PatientFactory(name="Nn Ives", email="n@example.com", phone="+15550109999")

    response = carol.get("/patients", {"search": term})

    assert {item["name"] for item in response.json()} == expected


def test_reads_do_not_grow_with_the_page(carol, django_assert_max_num_queries):
    PatientFactory.create_batch(60)

    # The token, the permissions and the page; then the access record and its patient ids
    # (two inserts, in a savepoint).
    with django_assert_max_num_queries(10):
        response = carol.get("/patients?limit=60")

    assert len(response.json()) == 60
