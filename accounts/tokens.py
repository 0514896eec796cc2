"""Tokens from /auth/login, refreshed on use and capped, and every token's revocation with its
user's access. Apart from accounts.services because the token authentication uses it, and DRF
loads that while importing its views, which the services' errors (api.exceptions) import."""

import binascii
import logging
from datetime import timedelta
from hmac import compare_digest

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS

from accounts.models import LoginToken

log = logging.getLogger(__name__)


@transaction.atomic
def login_token_create(*, user: AbstractBaseUser) -> tuple[AuthToken, str]:
    """A token for a login: it expires after TOKEN_IDLE_TIMEOUT unless used (each use moves
    that on, see _login_token_touch), and TOKEN_MAX_AGE after now in any case."""
    instance, token = AuthToken.objects.create(
        user=user, expiry=min(settings.TOKEN_IDLE_TIMEOUT, settings.TOKEN_MAX_AGE)
    )
    LoginToken.objects.create(token=instance)
    return instance, token


# Moving an expiry by less than this is not worth a database write on every request.
_REFRESH_STEP = timedelta(seconds=60)


def token_authenticate(*, token: str) -> AuthToken | None:
    """The live token row that a bearer token is, with its user; None if there is none.

    One query: knox's own lookup also reads every other token of the user, to delete the
    expired ones, on every request (tokens_expired_delete does that on a schedule instead),
    and the check for a login token would be a third. As knox does, the row is found by the
    token's first characters and the full digest compared in constant time; an expired token
    is deleted and refused. A login token's expiry is moved on (_login_token_touch).
    """
    candidates = (
        AuthToken.objects.filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH])
        .select_related("user")
        .annotate(is_login=Exists(LoginToken.objects.filter(token_id=OuterRef("digest"))))
    )
    try:
        digest = hash_token(token)
    except (TypeError, binascii.Error, ValueError):
        return None
    now = timezone.now()
    for auth_token in candidates:
        if not compare_digest(digest, auth_token.digest):
            continue
        if auth_token.expiry is not None and auth_token.expiry < now:
            auth_token.delete()
            return None
        if auth_token.is_login:
            _login_token_touch(auth_token, now)
        return auth_token
    return None


def tokens_expired_delete() -> int:
    """Delete every expired token (they are refused anyway); how many went."""
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted


def _login_token_touch(token: AuthToken, now) -> None:
    """A login token was used: it now expires TOKEN_IDLE_TIMEOUT from now, but never later
    than TOKEN_MAX_AGE after its login. Only for tokens from /auth/login (token_authenticate
    knows which); other tokens keep the expiry they were issued with."""
    if token.expiry is None:
        return
    expiry = min(now + settings.TOKEN_IDLE_TIMEOUT, token.created + settings.TOKEN_MAX_AGE)
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
