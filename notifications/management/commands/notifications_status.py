"""`manage.py notifications_status`: counts by status and the oldest undelivered notice."""

from django.core.management.base import BaseCommand

from notifications.selectors import notifications_status


class Command(BaseCommand):
    help = "Print notification counts by status and the age of the oldest undelivered one."

    def handle(self, *args, **options):
        counts, oldest = notifications_status()
        for status, count in counts.items():
            self.stdout.write(f"{status:<8} {count}")
        age = f"{oldest.total_seconds():.0f}s" if oldest is not None else "none"
        self.stdout.write(f"oldest undelivered: {age}")
