"""`manage.py demo_user`: the demo superuser for `make run`, with a fresh password and token."""

from django.core.management.base import CommandError

from accounts.services import demo_user_setup
from api import commands
from api.exceptions import ApplicationError


class Command(commands.Command):
    help = "Create or reset the demo superuser and print its new password and an API token."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username, **options):
        try:
            password, token = demo_user_setup(username=username)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Demo superuser: {username}")
        self.stdout.write(f"Password:       {password}")
        self.stdout.write(f"API token:      {token}")
