"""`manage.py notifications_status`: counts by status and the oldest undelivered notice."""

from django.core.management.base import CommandError
from django.db import DatabaseError

from api import commands
from notifications.selectors import notifications_status


class Command(commands.Command):
    help = "Print notification counts by status and the age of the oldest undelivered one."

    def handle(self, *args, **options):
        try:
            counts, oldest = notifications_status()
        except DatabaseError as exc:
            # One line and exit status 1, not a traceback, for a monitor to report.
            raise CommandError(f"cannot read the outbox: {' '.join(str(exc).split())}") from None
        for status, count in counts.items():
            self.stdout.write(f"{status:<8} {count}")
        age = f"{oldest.total_seconds():.0f}s" if oldest is not None else "none"
        self.stdout.write(f"oldest undelivered: {age}")
