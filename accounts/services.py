"""Staff access: the roles (groups with model permissions) and the API tokens."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction
from knox.models import AuthToken
from knox.settings import knox_settings

from api.exceptions import ApplicationError

# Role -> model -> the permissions its members get. Reading needs `view` in the API too;
# `add_notification` allows resending a notice from the admin.
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
    },
}


class UnknownRole(ApplicationError):
    message = "Unknown role"


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
                codename__in=[f"{action}_{model_name}" for action in actions],
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
    Without a ttl the token lives as long as a login's (TOKEN_TTL). Returns the user and the
    token, which is shown once and stored only as a hash.
    """
    user_model = get_user_model()
    if create:
        user, created = user_model.objects.get_or_create(username=username)
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
    _, token = AuthToken.objects.create(user=user, expiry=ttl or knox_settings.TOKEN_TTL)
    return user, token


@transaction.atomic
def demo_user_setup(*, username: str = "demo") -> tuple[str, str]:
    """Make (or reset) the demo superuser for `make run`: a fresh random password and token.

    Returns the password and the token, for the console only; nothing is written elsewhere.
    """
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    password = secrets.token_urlsafe(15)
    user.set_password(password)
    user.is_staff = user.is_superuser = user.is_active = True
    user.save()
    # The previous run's tokens go with its password.
    AuthToken.objects.filter(user=user).delete()
    _, token = AuthToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL)
    return password, token
