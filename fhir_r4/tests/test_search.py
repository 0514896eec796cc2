"""Patient search: GET /fhir/Patient?... and POST /fhir/Patient/_search, searchset Bundles
paged by the REST API's cursor; a POST search's links never carry its values."""

from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from audit.models import AccessRecord
from fhir_r4.models import SavedSearch
from fhir_r4.services import saved_searches_expire
from fhir_r4.tests.checks import outcome, r4
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _ids(bundle) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def _link(bundle, relation: str) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == relation), None)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _post_search(client, data: dict):
    return client.post(
        "/fhir/Patient/_search",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )


def _search(client, query: str = "", **headers) -> dict:
    response = client.get(f"/fhir/Patient{query}", **headers)
    assert response.status_code == 200, response.content
    return r4(response, "Bundle")


def test_a_search_is_an_r4_searchset_of_matches_in_the_rest_apis_order(carol):
    patients = [PatientFactory() for _ in range(3)]

    bundle = _search(carol)

    assert bundle["type"] == "searchset"
    assert _ids(bundle) == [str(p.pk) for p in patients]
    entry = bundle["entry"][0]
    assert entry["fullUrl"] == f"http://testserver/fhir/Patient/{patients[0].pk}"
    assert entry["search"] == {"mode": "match"}
    assert _link(bundle, "self") == "http://testserver/fhir/Patient"
    assert _link(bundle, "next") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name=mar", ["ann"]),  # a part of the name starts with it
        ("name=MARLOWE", ["ann"]),
        ("name=arlo", []),
        ("name:contains=arlo", ["ann"]),
        ("name:exact=Ann Marlowe", ["ann"]),
        ("name:exact=ann marlowe", []),
        ("name=bo,ann", ["ann", "bo"]),  # a comma is OR
        ("name=ann&name=mar", ["ann"]),  # twice is AND
        ("email=ANN@Example.COM", ["ann"]),  # normalized as stored
        ("email=ann", []),  # a token: the whole address
        ("phone=%2B1 (555) 010-1234", ["ann"]),  # separators ignored
        ("phone=555-010-1234", []),  # a token: the whole number
        ("phone=%2B1 555 010 9999", ["bo"]),
        ("birthdate=1980-04-02", ["ann"]),
        ("birthdate=1980-04", ["ann"]),
        ("birthdate=1980", ["ann"]),
        ("birthdate=eq1981", []),
        ("birthdate=lt1990", ["ann"]),
        ("birthdate=ge1990-01-01", ["bo"]),
        ("birthdate=gt1980-04-02", ["bo"]),
        ("birthdate=le1980-04-02", ["ann"]),
        ("birthdate=ne1980", ["bo"]),
        ("birthdate=ge1970&birthdate=lt2000", ["ann", "bo"]),
        ("birthdate=ge9999", []),
    ],
)
def test_search_parameters_select_patients(carol, query, expected):
    people = {
        "ann": PatientFactory(
            name="Ann Marlowe",
            email="ann@example.com",
            phone="+15550101234",
            birth_date=date(1980, 4, 2),
        ),
        "bo": PatientFactory(
            name="Bo Ray", email="bo@example.com", phone="+15550109999", birth_date=date(1995, 1, 1)
        ),
    }
    PatientFactory(name="Cy Unborn")  # no birth date: matches no birthdate search

    bundle = _search(carol, f"?{query}")

    assert _ids(bundle) == [str(people[name].pk) for name in expected]


@pytest.mark.parametrize(
    "query",
    [
        "birthdate=1980-13",
        "birthdate=1980-02-30",
        "birthdate=sa1980",
        "birthdate=yesterday",
        "_count=-1",
        "_count=ten",
        "email:exact=a@example.com",
        "cursor=garbage",
        f"name={'x' * 257}",
    ],
)
def test_bad_search_values_are_400(carol, query):
    outcome(carol.get(f"/fhir/Patient?{query}"), 400)


def test_unknown_parameters_are_ignored_and_left_out_of_the_self_link(carol):
    PatientFactory(name="Ann Marlowe")

    bundle = _search(carol, "?name=ann&_sort=name&gender=female")

    assert len(_ids(bundle)) == 1
    assert _path(_link(bundle, "self")) == "/fhir/Patient?name=ann"


def test_with_strict_handling_an_unknown_parameter_is_400(carol):
    response = carol.get("/fhir/Patient?gender=female", HTTP_PREFER="handling=strict")

    outcome(response, 400, "not-supported")


def test_count_zero_gives_the_total_only(carol):
    PatientFactory.create_batch(3)

    bundle = _search(carol, "?_count=0")

    assert bundle["total"] == 3
    assert "entry" not in bundle


def test_a_get_search_pages_by_its_next_link_with_the_rest_apis_cursor(carol):
    patients = [PatientFactory(name=f"Ann Number{i}") for i in range(5)]
    PatientFactory(name="Bo Ray")

    seen, url = [], "/fhir/Patient?name=ann&_count=2"
    while url:
        bundle = _search(carol, url.removeprefix("/fhir/Patient"))
        seen += _ids(bundle)
        next_url = _link(bundle, "next")
        url = _path(next_url) if next_url else None
        if url:
            assert parse_qs(urlsplit(url).query)["name"] == ["ann"]

    assert seen == [str(p.pk) for p in patients]
    # The cursor is the REST API's: it pages /patients the same way.
    cursor = parse_qs(urlsplit(_link(_search(carol, "?_count=2"), "next")).query)["cursor"][0]
    rest = carol.get(f"/patients?limit=2&cursor={cursor}").json()
    assert [p["id"] for p in rest] == [str(p.pk) for p in patients[2:4]]


def test_a_post_search_pages_without_its_values_in_any_link(carol):
    patients = [
        PatientFactory(name=f"Ann Number{i}", email=f"ann{i}@example.com") for i in range(5)
    ]
    PatientFactory(name="Bo Ray")

    response = _post_search(carol, {"name": "Number", "_count": "2"})
    assert response.status_code == 200
    bundle = r4(response, "Bundle")
    seen = _ids(bundle)
    links = [_link(bundle, "self")]
    while _link(bundle, "next"):
        links.append(_link(bundle, "next"))
        bundle = _search(carol, _path(_link(bundle, "next")).removeprefix("/fhir/Patient"))
        seen += _ids(bundle)

    assert seen == [str(p.pk) for p in patients]
    assert len(links) == 3
    for link in links:
        query = parse_qs(urlsplit(link).query)
        assert "Number" not in link
        assert "name" not in query
        assert "_count" not in query
        assert query["_search_id"] == [SavedSearch.objects.get().pk]


def test_a_post_search_takes_the_same_parameters_as_a_get(carol):
    ann = PatientFactory(email="ann@example.com", birth_date=date(1980, 4, 2))
    PatientFactory(email="bo@example.com")

    response = _post_search(carol, {"email": "Ann@example.com"})

    assert _ids(r4(response, "Bundle")) == [str(ann.pk)]
    response = _post_search(carol, {"birthdate": "lt1990"})
    assert _ids(response.json()) == [str(ann.pk)]


def test_a_post_search_with_a_json_body_is_415(carol):
    response = carol.post("/fhir/Patient/_search", {"name": "ann"}, format="json")

    outcome(response, 415, "not-supported")


def test_a_saved_search_is_its_users_only(carol, roles):
    PatientFactory.create_batch(3)
    bundle = _post_search(carol, {"_count": "1"}).json()
    next_path = _path(_link(bundle, "next"))

    other = UserFactory(username="dave", staff=True, role="auditor")
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other)
    outcome(client.get(next_path), 410, "expired")
    assert carol.get(next_path).status_code == 200


def test_a_saved_search_expires_and_the_beat_task_deletes_it(carol, settings):
    PatientFactory.create_batch(2)
    bundle = _post_search(carol, {"_count": "1"}).json()
    next_path = _path(_link(bundle, "next"))
    SavedSearch.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    outcome(carol.get(next_path), 410, "expired")
    assert saved_searches_expire() == 1
    assert not SavedSearch.objects.exists()


def test_a_saved_search_lives_for_fhir_search_lifetime(carol, settings):
    settings.FHIR_SEARCH_LIFETIME = timedelta(minutes=5)
    before = timezone.now()

    _post_search(carol, {"name": "x"})

    expires = SavedSearch.objects.get().expires_at
    assert before + timedelta(minutes=5) <= expires <= timezone.now() + timedelta(minutes=5)


def test_a_post_search_needs_only_the_view_permission(carol, mallory):
    assert _post_search(carol, {}).status_code == 200
    outcome(_post_search(mallory, {}), 403, "forbidden")
    outcome(mallory.get("/fhir/Patient"), 403, "forbidden")


def test_searches_are_in_the_access_audit_with_the_patients_returned(carol):
    ann = PatientFactory(name="Ann Marlowe")
    PatientFactory(name="Bo Ray")

    carol.get("/fhir/Patient?name=ann")
    _post_search(carol, {"name": "bo"})

    records = list(AccessRecord.objects.order_by("id"))
    assert [(r.action, r.status, r.path) for r in records] == [
        ("patient.list", 200, "/fhir/Patient"),
        ("patient.list", 200, "/fhir/Patient/_search"),
    ]
    assert [p.patient_id for p in records[0].patients.all()] == [ann.pk]


def test_a_post_search_without_a_body_lists_everyone(carol):
    PatientFactory.create_batch(2)

    response = carol.post("/fhir/Patient/_search")

    assert len(_ids(r4(response, "Bundle"))) == 2


def test_a_malformed_search_id_or_a_bad_parameter_beside_one_is_400(carol):
    outcome(carol.get(f"/fhir/Patient?_search_id={'x' * 65}"), 400, "invalid")
    outcome(carol.get("/fhir/Patient?_search_id=abc&birthdate=never"), 400, "invalid")


def test_id_and_identifier_find_exactly_that_patient(carol):
    ann, _bo = PatientFactory(), PatientFactory()
    urn = f"urn:uuid:{ann.pk}"

    for query in (
        {"_id": str(ann.pk)},
        {"_id": str(ann.pk).upper()},
        {"identifier": urn},
        {"identifier": f"urn:ietf:rfc:3986|{urn}"},
    ):
        assert _ids(_search(carol, f"?{urlencode(query)}")) == [str(ann.pk)], query
    assert _ids(r4(_post_search(carol, {"identifier": urn}), "Bundle")) == [str(ann.pk)]


@pytest.mark.parametrize(
    "query",
    [
        {"_id": "not-a-uuid"},
        {"_id": "{UUID}"},
        {"identifier": "UUID"},
        {"identifier": "http://other.example|urn:uuid:UUID"},
        {"identifier": "|urn:uuid:UUID"},
        {"identifier": "urn:uuid:garbage"},
    ],
)
def test_a_malformed_or_foreign_id_or_identifier_matches_nothing(carol, query):
    patient = PatientFactory()
    query = {key: value.replace("UUID", str(patient.pk)) for key, value in query.items()}

    assert _ids(_search(carol, f"?{urlencode(query)}")) == []


@pytest.mark.parametrize(
    "query",
    [
        "name=" + ",".join(["a"] * 11),
        "&".join(["name=a"] * 11),
        "&".join(["name=a,a,a,a,a", "email=a,b,c,d,e", "phone=1,2,3,4,5", "birthdate=1980"] * 2),
        "&".join(["name=" + ",".join(["a"] * 120)] * 500),
    ],
)
def test_a_search_with_too_many_values_is_400_too_costly(carol, query):
    outcome(carol.get(f"/fhir/Patient?{query}"), 400, "too-costly")
    outcome(
        carol.post(
            "/fhir/Patient/_search", query, content_type="application/x-www-form-urlencoded"
        ),
        400,
        "too-costly",
    )
    assert not SavedSearch.objects.exists()


def test_a_search_at_the_value_limits_is_answered(carol):
    PatientFactory(name="Ann Marlowe", email="ann@example.com")
    emails = ["x@example.com"] * 9 + ["ann@example.com"]
    query = "&".join(["name=" + ",".join(["an"] * 10), "email=" + ",".join(emails)])

    assert len(_ids(_search(carol, f"?{query}"))) == 1
