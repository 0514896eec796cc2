"""API clients as a caller holds them: with a bearer token, or logging in with a password."""

from rest_framework.test import APIClient


def bearer(token: str, scheme: str = "Bearer") -> APIClient:
    """A client sending `Authorization: <scheme> <token>`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client


def login(username: str, password: str, client: APIClient | None = None, **extra):
    """POST /auth/login with a username and password; the response."""
    return (client or APIClient()).post(
        "/auth/login", {"username": username, "password": password}, format="json", **extra
    )
