"""Tokens from /auth/login, refreshed on use and capped, and every token's revocation with its
user's access. Apart from accounts.services because the token authentication uses it, and DRF
loads that while importing its views, which the services' errors (api.exceptions) import."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import LoginToken

log = logging.getLogger(__name__)


@transaction.atomic
def login_token_create(*, user: AbstractBaseUser) -> tuple[AuthToken, str]:
    """A token for a login: it expires after TOKEN_IDLE_TIMEOUT unless used (each use moves
    that on, see login_token_touch), and TOKEN_MAX_AGE after now in any case."""
    instance, token = AuthToken.objects.create(
        user=user, expiry=min(settings.TOKEN_IDLE_TIMEOUT, settings.TOKEN_MAX_AGE)
    )
    LoginToken.objects.create(token=instance)
    return instance, token


# Moving an expiry by less than this is not worth a database write on every request.
_REFRESH_STEP = timedelta(seconds=60)


def login_token_touch(*, token: AuthToken) -> None:
    """A login token was used: it now expires TOKEN_IDLE_TIMEOUT from now, but never later
    than TOKEN_MAX_AGE after its login. Other tokens are left as they were issued."""
    if token.expiry is None or not LoginToken.objects.filter(token_id=token.digest).exists():
        return
    expiry = min(
        timezone.now() + settings.TOKEN_IDLE_TIMEOUT, token.created + settings.TOKEN_MAX_AGE
    )
    if expiry - token.expiry >= _REFRESH_STEP:
        AuthToken.objects.filter(digest=token.digest).update(expiry=expiry)
        token.expiry = expiry


def user_tokens_revoke(*, user_id: int, reason: str) -> int:
    """Revoke every API token of the user at once; how many there were."""
    count, _ = AuthToken.objects.filter(user_id=user_id).delete()
    if count:
        log.info("revoked %d API tokens of user %s: %s", count, user_id, reason)
    return count


def user_tokens_revoke_if_roleless(*, user_id: int) -> int:
    """Revoke the user's tokens if they are in no role (group) any more, unless a superuser,
    who needs none."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or user.is_superuser or user.groups.exists():
        return 0
    return user_tokens_revoke(user_id=user_id, reason="removed from every role")
