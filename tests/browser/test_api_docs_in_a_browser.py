"""The Swagger UI and ReDoc pages in a real browser, with no network beyond the service: they
load, list every operation of the OpenAPI document, and Swagger's "Try it out" reads a
patient with a token."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.services import token_issue
from patients.tests.factories import PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}


@pytest.fixture
def offline(page, live_server):
    """Abort every request for anything but the live server, and keep what was asked for: as
    on a machine without internet, where a page that needs a CDN or a font host breaks."""
    service = urlsplit(live_server.url).netloc
    elsewhere = []

    def only_the_service(route):
        url = route.request.url
        if urlsplit(url).netloc == service:
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    page.context.route("**/*", only_the_service)
    yield page
    assert elsewhere == [], f"the page asked for other hosts: {elsewhere}"


def _operations() -> dict[str, tuple[str, str]]:
    """The document's operations: operationId -> (METHOD, path)."""
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return {
        operation["operationId"]: (method.upper(), path)
        for path, item in response.json()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_swagger_ui_lists_every_operation_without_the_internet(offline):
    operations = _operations()

    offline.goto("/api/docs/")
    blocks = offline.locator(".opblock")
    expect(blocks).to_have_count(len(operations))
    offline.screenshot_step("swagger-ui")

    shown = {
        (
            block.locator(".opblock-summary-method").inner_text().strip(),
            block.locator(".opblock-summary-path").get_attribute("data-path"),
        )
        for block in blocks.all()
    }
    assert shown == set(operations.values())


def test_redoc_lists_every_operation_without_the_internet(offline):
    operations = _operations()

    offline.goto("/api/redoc/")
    expect(offline.locator("h1").first).to_contain_text("Telehealth patient records API")
    items = offline.locator("li[data-item-id*='operation/']")
    expect(items).to_have_count(len(operations))
    offline.screenshot_step("redoc")

    shown = {item.get_attribute("data-item-id").rsplit("operation/", 1)[1] for item in items.all()}
    assert shown == set(operations)


def test_swagger_try_it_out_with_a_token_reads_a_patient(offline, staff):
    patient = PatientFactory(name="Ann Lee")
    staff("desk", role="front_desk")
    _, token = token_issue(username="desk")

    offline.goto("/api/docs/")
    offline.click("button.authorize")
    bearer = offline.locator(".auth-container", has_text="bearerAuth")
    bearer.locator("input").fill(token)
    bearer.locator("button.authorize").click()
    expect(bearer).to_contain_text("Authorized")
    offline.screenshot_step("authorized")
    offline.locator("button.close-modal").click()

    operation = offline.locator("#operations-patients-patients_retrieve")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("tr[data-param-name='id'] input").fill(str(patient.pk))
    operation.get_by_role("button", name="Execute").click()

    answer = operation.locator(".live-responses-table tbody .response")
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".response-col_description")).to_contain_text('"name": "Ann Lee"')
    offline.screenshot_step("try-it-out")
