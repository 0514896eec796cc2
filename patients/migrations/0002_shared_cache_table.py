"""Once the table of the "shared" cache (the old login throttle). The login lockout now counts
in its own table (accounts) and the rate limits in Redis, so there is nothing left to create;
0007 drops the table where an earlier release made it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = []
