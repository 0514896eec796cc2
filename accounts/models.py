"""What the accounts keep besides Django's users and knox's tokens: login failure counters and
which tokens came from a login."""

from django.db import models


class LoginFailureCounter(models.Model):
    """Failed logins counted under one lockout key (an address, or a username at an address)
    since `window_ends` minus LOGIN_LOCKOUT_WINDOW.

    The key holds a keyed hash of the username, never the username itself. Rows are only
    changed while locked (accounts.services.login_attempt_begin), so concurrent attempts
    are counted one after the other; unlike a cache entry, a row is never evicted.
    """

    key = models.CharField(max_length=120, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    window_ends = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["window_ends"], name="login_failure_window_ends")]

    def __str__(self) -> str:
        return f"{self.failures} until {self.window_ends:%Y-%m-%d %H:%M:%S}"


class LoginToken(models.Model):
    """Marks a knox token as issued by /auth/login: it expires after TOKEN_IDLE_TIMEOUT
    without use and TOKEN_MAX_AGE after the login. Tokens without this mark (issue_token's
    service tokens) keep the expiry they were issued with."""

    token = models.OneToOneField(
        "knox.AuthToken",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="login_mark",
    )

    def __str__(self) -> str:
        return f"login token {self.token.token_key}"
