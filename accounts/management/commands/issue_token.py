"""`manage.py issue_token USERNAME`: print a new API token for a user as the last line."""

from django.core.management.base import CommandError

from accounts.services import ROLES, token_issue
from api import commands
from api.durations import parse_duration
from api.exceptions import ApplicationError


class Command(commands.Command):
    help = "Issue a new API token for USERNAME; the token is the last line of the output."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--create", action="store_true", help="create the user if absent")
        parser.add_argument("--role", choices=sorted(ROLES), help="add the user to this role")
        parser.add_argument(
            "--ttl",
            help="token lifetime such as 90d, 12h or 30m, used or not (default: TOKEN_MAX_AGE)",
        )

    def handle(self, *args, username, create, role, ttl, **options):
        try:
            lifetime = parse_duration(ttl) if ttl is not None else None
        except ValueError as exc:
            raise CommandError(f"--ttl: {exc}") from None
        try:
            user, token = token_issue(username=username, create=create, role=role, ttl=lifetime)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(f"Token for {user.get_username()} (shown once, store it safely):")
        self.stdout.write(token)
