"""Fixtures for the accounts' tests."""

import pytest


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    # Lockout tests make dozens of failed logins, each of which hashes a password; the real
    # hasher's cost (a third of a second) is the point in production and only time here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
