"""SMART's fhirclient (a FHIR library nobody here wrote) against a live server: it reads the
CapabilityStatement, reads, searches (following `next` links), creates and updates
patients, and parses every answer with its own strict R4 models."""

import gc
import threading

import pytest
from fhirclient import client as fhir_client
from fhirclient.models.bundle import Bundle
from fhirclient.models.contactpoint import ContactPoint
from fhirclient.models.fhirdate import FHIRDate
from fhirclient.models.fhirsearch import FHIRSearch
from fhirclient.models.humanname import HumanName
from fhirclient.models.patient import Patient as ClientPatient
from fhirclient.server import FHIRUnauthorizedException

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def connect(live_server):
    """A fhirclient server for the live server, with a bearer token (or none). Its sessions
    are closed after the test: a kept-alive connection would keep the server's thread, and
    its database connection, past the test."""
    sessions = []

    def connect(token: str | None):
        smart = fhir_client.FHIRClient(
            settings={"app_id": "telehealth-tests", "api_base": f"{live_server.url}/fhir/"}
        )
        # fhirclient signs requests only for SMART's OAuth2; a bearer token from elsewhere
        # goes on its requests session, which every request goes through.
        if token is not None:
            smart.server.session.headers["Authorization"] = f"Bearer {token}"
        sessions.append(smart.server.session)
        return smart.server

    yield connect
    for session in sessions:
        session.close()
    # The server's threads for those connections end (closing their database connections)
    # once they see the close; waited for, so none outlives the test database.
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout=10)


def _new_patient(name: str, phone: str, email: str) -> ClientPatient:
    patient = ClientPatient()
    patient.name = [HumanName({"text": name})]
    patient.telecom = [
        ContactPoint({"system": "phone", "value": phone, "rank": 1}),
        ContactPoint({"system": "email", "value": email, "rank": 2}),
    ]
    return patient


def test_fhirclient_reads_the_capability_statement(connect):
    statement = connect(None).capabilityStatement

    assert statement.fhirVersion == "4.0.1"
    resource = statement.rest[0].resource[0]
    assert resource.type == "Patient"
    assert resource.updateCreate is False


def test_fhirclient_creates_reads_and_updates_a_patient(connect, bob):
    server = connect(bob.token)

    new = _new_patient("Ann Marlowe", "+15550101234", "ann@example.com")
    new.birthDate = FHIRDate("1980-04-02")
    patient_id = new.create(server)["id"]
    read = ClientPatient.read(patient_id, server)
    assert read.name[0].text == "Ann Marlowe"
    assert read.birthDate.isostring == "1980-04-02"
    assert read.meta.versionId == "1"

    read.name = [HumanName({"given": ["Ann"], "family": "Bright"})]
    read.birthDate = None  # a FHIR update replaces: left out is cleared
    read.update(server)

    again = ClientPatient.read(patient_id, server)
    assert again.name[0].text == "Ann Bright"
    assert again.birthDate is None
    assert again.meta.versionId == "2"
    assert Patient.objects.get(pk=patient_id).name == "Ann Bright"


def test_fhirclient_searches_and_follows_next_links(connect, carol):
    expected = [str(PatientFactory(name=f"Ann Number{i}").pk) for i in range(5)]
    PatientFactory(name="Bo Ray")
    server = connect(carol.token)

    search = FHIRSearch(ClientPatient, {"name": "ann", "_count": "2"})
    bundles = list(search.perform_iter(server))
    found = [entry.resource.id for bundle in bundles for entry in bundle.entry or []]

    assert found == expected
    assert len(bundles) == 3
    assert all(isinstance(bundle, Bundle) for bundle in bundles)


def test_fhirclient_reads_a_version_and_the_history(connect, carol):
    patient = PatientFactory(name="Ann Marlowe")
    server = connect(carol.token)

    version = ClientPatient.read_from(f"Patient/{patient.pk}/_history/1", server)
    history = Bundle.read_from(f"Patient/{patient.pk}/_history", server)

    assert version.meta.versionId == "1"
    assert history.type == "history"
    assert history.entry[0].resource.id == str(patient.pk)


def test_fhirclient_without_a_token_gets_its_unauthorized_error(connect):
    patient_id = "00000000-0000-4000-8000-000000000000"

    with pytest.raises(FHIRUnauthorizedException) as refused:
        ClientPatient.read(patient_id, connect(None))

    body = refused.value.response.json()
    # The error holds the response, which holds its socket open: let go of both, so the
    # server's thread for it ends (with its database connection) before the test database.
    del refused
    gc.collect()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "login"


def test_a_resource_fhirclient_read_updates_with_if_match_and_a_stale_one_is_412(connect, bob):
    # fhirclient's update() sends no If-Match; its session (with the token) sends one here.
    server = connect(bob.token)
    patient = PatientFactory(name="Ann Marlowe", version=2)
    resource = ClientPatient.read(str(patient.pk), server).as_json()
    url = f"{server.base_uri}Patient/{patient.pk}"
    headers = {"Content-Type": "application/fhir+json"}

    stale = server.session.put(url, json=resource, headers={**headers, "If-Match": 'W/"1"'})
    current = server.session.put(url, json=resource, headers={**headers, "If-Match": 'W/"2"'})

    assert stale.status_code == 412
    assert stale.headers["ETag"] == 'W/"2"'
    assert current.status_code == 200
