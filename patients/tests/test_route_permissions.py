"""Every patient route and method, for everyone who may call it: anonymous (401), each role
(allowed, or 403), and staff without a role (403). A refusal changes nothing."""

from http import HTTPStatus

import pytest

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NEW = {"name": "Ann Lee", "email": "ann@example.com", "phone": "5550101234"}
OK, CREATED = HTTPStatus.OK, HTTPStatus.CREATED
DENIED, ANON = HTTPStatus.FORBIDDEN, HTTPStatus.UNAUTHORIZED

# Who gets what: alice is a clinician, bob works the front desk, carol is an auditor and
# mallory is staff with no role.
READ = {"alice": OK, "bob": OK, "carol": OK, "mallory": DENIED}
CREATE = {"alice": CREATED, "bob": CREATED, "carol": DENIED, "mallory": DENIED}
CHANGE = {"alice": OK, "bob": OK, "carol": DENIED, "mallory": DENIED}
DELETE = {"alice": OK, "bob": DENIED, "carol": DENIED, "mallory": DENIED}
AUDIT = {"alice": DENIED, "bob": DENIED, "carol": OK, "mallory": DENIED}

ROUTES = [
    ("get", "/patients", None, READ),
    ("head", "/patients", None, READ),
    ("options", "/patients", None, READ),
    ("post", "/patients", NEW, CREATE),
    ("get", "/patients/{id}", None, READ),
    ("put", "/patients/{id}", {"name": "Ann Roe"}, CHANGE),
    ("patch", "/patients/{id}", {"name": "Ann Roe"}, CHANGE),
    ("delete", "/patients/{id}", None, DELETE),
    ("get", "/patients/{id}/history", None, READ),
    ("get", "/patients/{id}/notifications", None, READ),
    ("get", "/audit", None, AUDIT),
]

CASES = [
    pytest.param(method, path, body, who, expected, id=f"{method} {path} as {who}")
    for method, path, body, outcomes in ROUTES
    for who, expected in [*outcomes.items(), ("anonymous", ANON)]
]


@pytest.mark.parametrize(("method", "path", "body", "who", "expected"), CASES)
def test_route_answers_each_caller_as_their_role_allows(request, method, path, body, who, expected):
    patient = PatientFactory(name="Ann Marlowe")
    client = request.getfixturevalue(who)
    before = list(Patient.objects.values_list("id", "name", "version"))

    kwargs = {"format": "json"} if body is not None else {}
    response = getattr(client, method)(path.format(id=patient.pk), body, **kwargs)

    assert response.status_code == expected, response.content
    if expected in (DENIED, ANON):
        key = "message"
        assert method == "head" or response.json() == {
            key: "Forbidden" if expected == DENIED else "Unauthorized"
        }
        assert list(Patient.objects.values_list("id", "name", "version")) == before
