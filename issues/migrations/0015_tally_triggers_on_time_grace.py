# The tally triggers count a visit's on-time grace from issues.filters.VISIT_ON_TIME, written in
# seconds ('86400 seconds', the same day as 0014's '24 hours'): the functions change, the counts
# do not, so they are installed again and nothing is recounted.

from django.db import migrations

from issues.migrations import _tallies_0014, _tallies_0015


class Migration(migrations.Migration):

    dependencies = [
        ("issues", "0014_dashboard_tallies"),
    ]

    operations = [
        migrations.RunPython(_tallies_0015.install, _tallies_0014.install),
    ]
