"""Drop the old "shared" cache's table (see 0002): it held only login-throttle counters."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("patients", "0006_canonical_contacts")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS telehealth_shared_cache", migrations.RunSQL.noop)
    ]
