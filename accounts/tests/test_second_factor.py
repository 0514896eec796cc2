"""The second factor: a user with a confirmed authenticator (TOTP) gives its current code at
every login, /auth/login as `otp` and the session logins in their code field; a wrong code is
a failed login. With ADMIN_REQUIRE_MFA the admin admits only sessions verified by a code.
Staff enrol with `manage.py enrol_totp` (or in the admin); the codes here are real TOTP codes."""

import threading
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.tests.clients import bearer, login
from accounts.tests.commands import last_line, run
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to("2026-03-02 09:00:00Z", tick=False)
    return time_machine


@pytest.fixture
def erin():
    return UserFactory(username="erin", password=PASSWORD, staff=True, role="clinician")


@pytest.fixture
def device(erin):
    return TOTPDevice.objects.create(user=erin, name="phone", confirmed=True)


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def otp_login(username: str, password: str, otp: str):
    """POST /auth/login with a code."""
    return APIClient().post(
        "/auth/login", {"username": username, "password": password, "otp": otp}, format="json"
    )


def test_an_enrolled_user_without_a_code_gets_401_and_no_token(device):
    response = login("erin", PASSWORD)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"error": "OTP code required"}
    assert not AuthToken.objects.exists()


def test_an_enrolled_user_with_the_current_code_gets_a_working_token(device):
    response = otp_login("erin", PASSWORD, code(device))

    assert response.status_code == HTTPStatus.OK
    assert bearer(response.json()["token"]).get("/patients").status_code == HTTPStatus.OK


def test_a_wrong_code_is_401_and_gives_no_token(device):
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"

    response = otp_login("erin", PASSWORD, wrong)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"error": "Invalid OTP code"}
    assert not AuthToken.objects.exists()


def test_a_code_is_good_only_once(device):
    first = code(device)
    assert otp_login("erin", PASSWORD, first).status_code == HTTPStatus.OK

    assert otp_login("erin", PASSWORD, first).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_logins_with_one_code_give_one_token():
    erin = UserFactory(username="erin", password=PASSWORD, staff=True, role="clinician")
    the_code = code(TOTPDevice.objects.create(user=erin, name="phone", confirmed=True))
    start = threading.Barrier(10)
    statuses = []

    def attempt(n: int):
        try:
            start.wait()
            # Each from its own address, so the lockout does not stand in for the device's check.
            response = APIClient().post(
                "/auth/login",
                {"username": "erin", "password": PASSWORD, "otp": the_code},
                format="json",
                REMOTE_ADDR=f"203.0.113.{n}",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()  # each thread's own

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [HTTPStatus.OK] + [HTTPStatus.UNAUTHORIZED] * 9
    assert AuthToken.objects.count() == 1


def test_wrong_codes_count_as_failed_logins(device, clock):
    for _ in range(5):
        clock.shift(timedelta(seconds=40))  # past django-otp's own back-off
        assert otp_login("erin", PASSWORD, "000000").status_code == HTTPStatus.UNAUTHORIZED

    clock.shift(timedelta(seconds=40))
    refused = otp_login("erin", PASSWORD, code(device))

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_asking_for_the_code_again_and_again_is_not_counted(device):
    statuses = [login("erin", PASSWORD).status_code for _ in range(8)]

    assert statuses == [HTTPStatus.UNAUTHORIZED] * 8
    assert otp_login("erin", PASSWORD, code(device)).status_code == HTTPStatus.OK


def test_a_wrong_password_with_the_right_code_is_a_plain_failed_login(device):
    response = otp_login("erin", "wrong", code(device))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "Invalid username or password"


def test_users_without_a_confirmed_device_log_in_with_their_password_alone(erin):
    TOTPDevice.objects.create(user=erin, name="never scanned", confirmed=False)

    assert login("erin", PASSWORD).status_code == HTTPStatus.OK


@pytest.mark.parametrize("login_page", ["/admin/login/", "/api-auth/login/"])
def test_session_logins_ask_an_enrolled_user_for_the_code(device, login_page):
    client = Client()

    without = client.post(login_page, {"username": "erin", "password": PASSWORD})
    with_code = client.post(
        login_page, {"username": "erin", "password": PASSWORD, "otp_token": code(device)}
    )

    assert without.status_code == HTTPStatus.OK
    assert "Enter the code from your authenticator app." in without.content.decode()
    assert with_code.status_code == HTTPStatus.FOUND
    assert client.session["_auth_user_id"] == str(device.user_id)


def test_with_admin_require_mfa_a_code_lets_staff_into_the_admin(device, settings):
    settings.ADMIN_REQUIRE_MFA = True
    client = Client()

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "erin", "password": PASSWORD, "otp_token": code(device), "next": "/admin/"},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_with_admin_require_mfa_staff_without_a_device_are_refused(erin, settings):
    settings.ADMIN_REQUIRE_MFA = True
    client = Client()

    response = client.post("/admin/login/", {"username": "erin", "password": PASSWORD})

    assert response.status_code == HTTPStatus.OK
    assert "ask an administrator to enrol one" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_with_admin_require_mfa_a_session_without_a_code_is_sent_to_the_login(
    admin_client, settings
):
    settings.ADMIN_REQUIRE_MFA = True

    response = admin_client.get("/admin/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


def test_without_admin_require_mfa_the_admin_takes_a_password(admin_client):
    assert admin_client.get("/admin/").status_code == HTTPStatus.OK


def test_enrol_totp_prints_a_setup_link_and_confirm_requires_the_code(erin):
    url = last_line(run("enrol_totp", "erin"))
    parsed = urlparse(url)
    pending = TOTPDevice.objects.get(user=erin)
    assert login("erin", PASSWORD).status_code == HTTPStatus.OK  # not asked before confirmed

    run("enrol_totp", "erin", "--confirm", code(pending))

    assert parsed.scheme == "otpauth"
    assert parse_qs(parsed.query)["issuer"] == ["Telehealth Clinic"]
    assert TOTPDevice.objects.get(user=erin).confirmed
    assert login("erin", PASSWORD).status_code == HTTPStatus.UNAUTHORIZED


def test_enrol_totp_draws_a_qr_code_on_request(erin):
    output = run("enrol_totp", "erin", "--qr")

    assert len(output.splitlines()) > 10
    assert last_line(output).startswith("otpauth://totp/")


def test_enrol_totp_confirm_with_a_wrong_code_is_an_error(erin):
    run("enrol_totp", "erin")

    with pytest.raises(CommandError, match="Wrong code"):
        run("enrol_totp", "erin", "--confirm", "000000")

    assert not TOTPDevice.objects.get(user=erin).confirmed


@pytest.mark.parametrize(
    "args", [("ghost",), ("ghost", "--confirm", "123456"), ("erin", "--confirm", "123456")]
)
def test_enrol_totp_errors_are_one_line(erin, args):
    with pytest.raises(CommandError) as refused:
        run("enrol_totp", *args)

    assert "\n" not in str(refused.value)


def test_an_admin_shows_a_devices_qr_code_to_scan(device, admin_client):
    listing = admin_client.get("/admin/otp_totp/totpdevice/")
    qr = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/")

    assert listing.status_code == HTTPStatus.OK
    assert qr.status_code == HTTPStatus.OK
    assert qr["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content
