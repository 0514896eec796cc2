"""Staff access: the roles (groups with model permissions), the API tokens (issued, refreshed,
revoked), the login lockout and the second factor (TOTP devices)."""

import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework import status

from accounts.models import LoginFailureCounter
from api import metrics
from api.exceptions import ApplicationError

log = logging.getLogger(__name__)

# Role -> model -> the permissions its members get: an action (`view` is `view_<model>`), or
# a model's own permission by its codename (one with a "_", like `export_patients`).
# Reading needs `view` in the API too; `add_notification` allows resending a notice from the
# admin.
ROLES = {
    "clinician": {
        "patients.patient": ["view", "add", "change", "delete"],
        "notifications.notification": ["view", "add"],
    },
    "front_desk": {
        "patients.patient": ["view", "add", "change"],
        "notifications.notification": ["view", "add"],
    },
    "auditor": {
        "patients.patient": ["view"],
        "notifications.notification": ["view"],
        "audit.accessrecord": ["view"],
    },
    # The FHIR bulk export of every patient (GET /fhir/Patient/$export), and nothing else.
    "data_manager": {
        "exports.exportjob": ["export_patients"],
    },
}


class UnknownRole(ApplicationError):
    message = "Unknown role"


def _existing_user(username: str) -> AbstractBaseUser:
    user_model = get_user_model()
    try:
        return user_model.objects.get(username=username)
    except user_model.DoesNotExist:
        raise ApplicationError(f"No user {username!r}") from None


def _valid_username(username: str) -> str:
    """The username if Django would accept it in its forms, else an ApplicationError (a NUL
    byte or an over-long name would otherwise fail in the database, or not at all)."""
    field = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD)
    try:
        field.clean(username, None)
    except ValidationError as exc:
        raise ApplicationError(f"Invalid username {username!r}: {' '.join(exc.messages)}") from None
    return username


def _expiry_from_now(lifetime: timedelta) -> timedelta:
    """The lifetime, if an expiry that far ahead can be stored."""
    try:
        timezone.now() + lifetime
    except OverflowError:
        raise ApplicationError(f"Token lifetime too long: {lifetime.days} days") from None
    return lifetime


def _codename(action: str, model_name: str) -> str:
    return action if "_" in action else f"{action}_{model_name}"


@transaction.atomic
def roles_setup() -> dict[str, list[str]]:
    """Create the role groups and grant their permissions; safe to run again.

    Permissions are only ever added, so a permission staff granted a group in the admin
    survives a re-run.
    """
    granted = {}
    for role, models in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for model, actions in models.items():
            app_label, model_name = model.split(".")
            permissions += Permission.objects.filter(
                content_type__app_label=app_label,
                codename__in=[_codename(action, model_name) for action in actions],
            )
        group.permissions.add(*permissions)
        granted[role] = sorted(p.codename for p in permissions)
    return granted


@transaction.atomic
def token_issue(
    *,
    username: str,
    create: bool = False,
    role: str | None = None,
    ttl: timedelta | None = None,
) -> tuple[AbstractBaseUser, str]:
    """Issue a new API token for a user (optionally creating it and putting it in a role).

    A created user has no usable password: it is a service account that only has tokens.
    The token lives for `ttl` (TOKEN_MAX_AGE without one) whether used or not: unlike a
    login's, it is neither refreshed nor capped. Returns the user and the token, which is
    shown once and stored only as a hash.
    """
    lifetime = _expiry_from_now(ttl or settings.TOKEN_MAX_AGE)
    user_model = get_user_model()
    if create:
        user, created = user_model.objects.get_or_create(username=_valid_username(username))
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    else:
        try:
            user = user_model.objects.get(username=username)
        except user_model.DoesNotExist:
            raise ApplicationError(f"No user {username!r} (use --create to make one)") from None
    if role is not None:
        try:
            group = Group.objects.get(name=role)
        except Group.DoesNotExist:
            raise UnknownRole(
                f"No role {role!r}: roles are {', '.join(ROLES)} (run setup_roles first)"
            ) from None
        user.groups.add(group)
    _, token = AuthToken.objects.create(user=user, expiry=lifetime)
    return user, token


@transaction.atomic
def demo_user_setup(*, username: str = "demo") -> tuple[str, str]:
    """Make (or reset) the demo superuser for `make run`: a fresh random password and token.

    Returns the password and the token, for the console only; nothing is written elsewhere.
    """
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=_valid_username(username), defaults={"is_staff": True, "is_superuser": True}
    )
    password = secrets.token_urlsafe(15)
    user.set_password(password)
    user.is_staff = user.is_superuser = user.is_active = True
    user.save()
    # The new password revokes the previous run's tokens (accounts.signals). The printed
    # token is for a day's tour by hand, so it does not lapse after a coffee break.
    _, token = AuthToken.objects.create(user=user, expiry=settings.TOKEN_MAX_AGE)
    return password, token


# The login lockout: failed logins counted per address and per username at an address.


class LoginLocked(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    message = "Too many failed logins from your address."

    def __init__(self, retry_after: int):
        super().__init__(f"{self.message} Try again in {retry_after} seconds.")
        self.retry_after = retry_after


class LoginUnavailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    message = "Logins are unavailable for a moment; try again shortly."


@dataclass(frozen=True)
class LoginAttempt:
    """A login attempt counted (as a failure until it is known to have succeeded)."""

    ip_key: str
    user_key: str
    username_hash: str
    ip: str


def _username_hash(username: str) -> str:
    """A keyed hash of the username: stable for the lockout's keys and the logs, without
    keeping or printing the name. Case-folded, so `Alice` and `alice` share their count."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), username.casefold().encode(), hashlib.sha256
    ).hexdigest()
    return digest[:32]


def login_attempt_begin(*, username: str, ip: str | None) -> LoginAttempt:
    """Count a login attempt before the password is checked, or refuse it.

    Raises LoginLocked if the address has LOGIN_LOCKOUT_IP_FAILURES failures in the current
    window, or this username at this address LOGIN_LOCKOUT_USER_FAILURES; the refused
    attempt is not counted. Otherwise the attempt counts as a failure (the caller reports
    success or a non-attempt after checking the password), so that of many concurrent wrong
    attempts no more than the limit ever reach the password check: the counters' rows are
    read and written under a lock (SELECT ... FOR UPDATE; SQLite's IMMEDIATE transactions
    take the whole database's write lock). Raises LoginUnavailable if the database does not
    answer: a login that cannot be counted is not tried.
    """
    ip = ip or "unknown"
    username_hash = _username_hash(username)
    attempt = LoginAttempt(
        ip_key=f"ip:{ip}", user_key=f"user:{username_hash}:{ip}", username_hash=username_hash, ip=ip
    )
    limits = {
        attempt.ip_key: settings.LOGIN_LOCKOUT_IP_FAILURES,
        attempt.user_key: settings.LOGIN_LOCKOUT_USER_FAILURES,
    }
    now = timezone.now()
    try:
        _forget_past_windows(now)
        with transaction.atomic():
            counters = []
            # Always the same order (the address first), so two attempts never wait on
            # each other's second lock.
            for key in limits:
                counter, _ = LoginFailureCounter.objects.select_for_update().get_or_create(
                    key=key, defaults={"window_ends": now + settings.LOGIN_LOCKOUT_WINDOW}
                )
                if counter.window_ends <= now:
                    counter.failures = 0
                    counter.window_ends = now + settings.LOGIN_LOCKOUT_WINDOW
                counters.append(counter)
            locked_until = max(
                (c.window_ends for c in counters if c.failures >= limits[c.key]), default=None
            )
            if locked_until is None:
                for counter in counters:
                    counter.failures += 1
                    counter.save()
    except DatabaseError as exc:
        log.error("login lockout: the database did not answer (%s)", type(exc).__name__)
        raise LoginUnavailable() from exc
    if locked_until is not None:
        metrics.LOGIN_REFUSALS.inc()
        raise LoginLocked(retry_after=max(1, math.ceil((locked_until - now).total_seconds())))
    return attempt


def _forget_past_windows(now) -> None:
    """Delete counters whose window has passed, so the table holds only live ones."""
    try:
        with transaction.atomic():
            LoginFailureCounter.objects.filter(window_ends__lte=now).delete()
    except DatabaseError:
        pass  # another attempt is deleting them; the next one will


def login_attempt_failed(*, attempt: LoginAttempt) -> None:
    """The attempt's password (or second factor) was wrong: it stays counted. Logs the
    lockout when this failure reached a limit (the address and the username's hash). Both
    are counted in the metrics (api.metrics), without the address or the username."""
    metrics.LOGIN_FAILURES.inc()
    counters = LoginFailureCounter.objects.filter(key__in=[attempt.ip_key, attempt.user_key])
    for counter in counters:
        if counter.key == attempt.ip_key:
            scope, limit, what = "address", settings.LOGIN_LOCKOUT_IP_FAILURES, "for any usernames"
        else:
            scope, limit, what = (
                "username",
                settings.LOGIN_LOCKOUT_USER_FAILURES,
                "for user #" + attempt.username_hash[:12],
            )
        if counter.failures == limit:
            metrics.LOGIN_LOCKOUTS.labels(scope=scope).inc()
            log.warning(
                "login lockout: address %s refused until %s after %d failed logins %s",
                attempt.ip,
                counter.window_ends.isoformat(timespec="seconds"),
                limit,
                what,
            )


def login_attempt_succeeded(*, attempt: LoginAttempt) -> None:
    """The login succeeded: this username's failures at this address are forgiven, and the
    attempt no longer counts against the address."""
    LoginFailureCounter.objects.filter(key=attempt.user_key).delete()
    LoginFailureCounter.objects.filter(key=attempt.ip_key, failures__gt=0).update(
        failures=F("failures") - 1
    )


def login_attempt_withdrawn(*, attempt: LoginAttempt) -> None:
    """The attempt was not a failure, nor a login (the password was right, the second factor
    not yet given): it no longer counts. Nothing is forgiven, so asking for the code again
    and again buys no extra guesses at it."""
    LoginFailureCounter.objects.filter(
        key__in=[attempt.ip_key, attempt.user_key], failures__gt=0
    ).update(failures=F("failures") - 1)


# The second factor: TOTP devices (authenticator apps).


def otp_devices(user: AbstractBaseUser) -> list[Device]:
    """The user's confirmed OTP devices; a login must give a code from one of them."""
    return list(devices_for_user(user, confirmed=True))


def otp_verify(*, user: AbstractBaseUser, code: str) -> Device | None:
    """The user's confirmed device that accepts this code, or None. A code is good once
    (django-otp remembers the last one used), and each device slows down guessing after a
    wrong code (OTP_TOTP_THROTTLE_FACTOR).

    django-otp compares the code with the last one used as it is in the device object, so
    each device is read again under a row lock (SQLite: its IMMEDIATE write lock) for the
    check: two logins sending the same code at once would otherwise both see it unused."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) > 8:
        return None
    for device in otp_devices(user):
        with transaction.atomic():
            device = type(device).objects.select_for_update().filter(pk=device.pk).first()
            if device is not None and device.verify_token(code):
                return device
    return None


@transaction.atomic
def totp_enrol(*, username: str, name: str = "Authenticator app") -> TOTPDevice:
    """A new, unconfirmed TOTP device for the user, in place of any unconfirmed one. It is
    not asked for at login until totp_confirm has seen a code from it, so an enrolment that
    was never scanned locks nobody out."""
    user = _existing_user(username)
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=name, confirmed=False)


@transaction.atomic
def totp_confirm(*, username: str, code: str) -> TOTPDevice:
    """Confirm the user's unconfirmed TOTP device with a code from it: from now on every
    login of the user asks for a code."""
    user = _existing_user(username)
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=False))
    if not devices:
        raise ApplicationError(f"{username!r} has no device waiting to be confirmed: enrol first")
    code = code.strip().replace(" ", "")
    for device in devices:
        if code.isdigit() and device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            return device
    raise ApplicationError("Wrong code: check the device's clock, and use a fresh code")
