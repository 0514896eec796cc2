"""Every version of a patient is kept: who made it, when, through what, and what changed."""

from http import HTTPStatus

import pytest

from patients.models import Patient
from patients.services import patient_create, patient_update
from patients.tests.admin_pages import change_url
from patients.tests.factories import ANN

pytestmark = pytest.mark.django_db

CREATED_FIELDS = [
    "name",
    "phone",
    "email",
    "preferred_channel",
    "sms_opt_out",
    "email_opt_out",
    "birth_date",
]


def _create(client, **overrides) -> str:
    response = client.post("/patients", {**ANN, **overrides}, format="json")
    assert response.status_code == HTTPStatus.CREATED, response.content
    return response.json()["patient_id"]


def test_create_two_updates_and_delete_make_four_versions_newest_first(alice, bob):
    patient_id = _create(alice)
    writes = [
        bob.put(f"/patients/{patient_id}", {"name": "Ann Roe"}, format="json"),
        alice.patch(
            f"/patients/{patient_id}", {"phone": "+15550109999", "sms_opt_out": True}, format="json"
        ),
        alice.delete(f"/patients/{patient_id}"),
    ]
    assert [w.status_code for w in writes] == [HTTPStatus.OK] * 3

    response = alice.get(f"/patients/{patient_id}/history")

    assert response.status_code == HTTPStatus.OK
    versions = response.json()
    assert [(v["version"], v["kind"], v["actor"], v["via"]) for v in versions] == [
        (4, "deleted", "alice", "api"),
        (3, "updated", "alice", "api"),
        (2, "updated", "bob", "api"),
        (1, "created", "alice", "api"),
    ]
    assert [v["changed"] for v in versions] == [
        [],
        ["phone", "sms_opt_out"],
        ["name"],
        CREATED_FIELDS,
    ]
    # Each version holds the record as it was then.
    assert [v["patient"]["name"] for v in versions] == ["Ann Roe"] * 3 + ["Ann Marlowe"]
    assert versions[0]["patient"]["phone"] == "+15550109999"
    times = [v["at"] for v in versions]
    assert times == sorted(times, reverse=True)


def test_history_of_a_deleted_patient_is_still_there(alice):
    patient_id = _create(alice)
    alice.delete(f"/patients/{patient_id}")

    assert alice.get(f"/patients/{patient_id}").status_code == HTTPStatus.NOT_FOUND
    response = alice.get(f"/patients/{patient_id}/history")

    assert response.status_code == HTTPStatus.OK
    assert [v["kind"] for v in response.json()] == ["deleted", "created"]


@pytest.mark.parametrize(
    "patient_id", ["7d3c2b1a-0000-4000-8000-000000000000", "not-a-uuid", "1.2"]
)
def test_history_of_an_id_that_never_existed_is_404(alice, patient_id):
    response = alice.get(f"/patients/{patient_id}/history")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"message": "Patient not found"}


def test_history_needs_the_view_permission(alice, mallory, anonymous):
    patient_id = _create(alice)

    assert mallory.get(f"/patients/{patient_id}/history").status_code == HTTPStatus.FORBIDDEN
    assert anonymous.get(f"/patients/{patient_id}/history").status_code == (HTTPStatus.UNAUTHORIZED)


def test_history_pages_by_cursor_and_each_page_knows_what_changed(alice):
    patient_id = _create(alice)
    for n in range(4):
        alice.put(f"/patients/{patient_id}", {"name": f"Ann Take{n}"}, format="json")

    first = alice.get(f"/patients/{patient_id}/history?limit=2")
    second = alice.get(first.headers["Link"].split(";")[0].strip("<>"))

    assert [v["version"] for v in first.json()] == [5, 4]
    assert [v["version"] for v in second.json()] == [3, 2]
    # The last entry of a page is compared with the version on the next page.
    assert second.json()[-1]["changed"] == ["name"]


def test_admin_and_command_changes_are_recorded_with_their_channel(superuser_client, superuser):
    patient = patient_create(**ANN)  # as a management command or the shell would
    response = superuser_client.post(
        change_url(patient),
        {
            "name": "Ann Roe",
            "email": ANN["email"],
            "phone": ANN["phone"],
            "preferred_channel": "sms",
            "seen_version": 1,
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    patient_update(patient=patient, data={"name": "Ann Moe"})

    versions = Patient.history.filter(id=patient.pk).order_by("history_id")

    assert [(v.version, v.via, v.history_user) for v in versions] == [
        (1, "command", None),
        (2, "admin", superuser),
        (3, "command", None),
    ]


def test_an_update_that_changes_nothing_makes_no_version(alice):
    patient_id = _create(alice)

    response = alice.put(f"/patients/{patient_id}", {"name": ANN["name"]}, format="json")

    assert response.json()["patient"]["version"] == 1
    assert Patient.history.filter(id=patient_id).count() == 1
