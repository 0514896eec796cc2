"""Writes the FHIR face makes for itself: its POST searches' saved parameters."""

import logging
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from fhir_r4.models import SavedSearch

logger = logging.getLogger(__name__)


def saved_search_create(*, user: AbstractBaseUser, params: dict[str, list[str]]) -> SavedSearch:
    """Keep a POST search's parameters under a new random id, for FHIR_SEARCH_LIFETIME."""
    return SavedSearch.objects.create(
        id=secrets.token_urlsafe(32),
        user=user,
        params=params,
        expires_at=timezone.now() + settings.FHIR_SEARCH_LIFETIME,
    )


def saved_searches_expire() -> int:
    """Delete the saved searches past their expiry; returns how many."""
    deleted, _ = SavedSearch.objects.filter(expires_at__lte=timezone.now()).delete()
    if deleted:
        logger.info("%s expired FHIR searches deleted", deleted)
    return deleted
