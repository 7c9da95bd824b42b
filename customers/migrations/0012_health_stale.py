"""
``Customer.health_stale``: a score waiting for the minute's health sweep, set by what customers do
from outside (a survey answer), with a partial index of the few rows that carry it.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0011_customer_team_owner_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='customer',
            name='health_stale',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('health_stale', True)), fields=['id'], name='customer_health_stale'),
        ),
    ]
