"""Fixtures for the patient admin: clients logged in to it as a superuser or as staff in a
role."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", superuser=True)


@pytest.fixture
def superuser_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def staff_client(db):
    """Log in a new staff user in the given role (or in none) and return the client."""

    def login(role: str | None) -> Client:
        client = Client()
        client.force_login(UserFactory(staff=True, role=role))
        return client

    return login
