"""`manage.py setup_roles`: create the clinician, front_desk and auditor groups (idempotent)."""

from accounts.services import roles_setup
from api import commands


class Command(commands.Command):
    help = "Create the role groups (accounts.services.ROLES) with their permissions."

    def handle(self, *args, **options):
        for role, codenames in roles_setup().items():
            self.stdout.write(f"{role}: {', '.join(codenames)}")
