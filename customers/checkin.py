"""
The check-in clock: when each customer is due a check-in and when they count as overdue.

Every path that writes or reads the clock uses what is here or the model methods it mirrors:

- one customer: ``Customer.checkin_clock_start()``, ``Customer.compute_next_checkin_due()`` and
  ``Customer.checkin_state()``, called by the services, the CSV import and the demo seeding;
- many customers at once, in SQL: ``next_checkin_due_recompute`` (the bench seeding and any
  set-based repair) and ``overdue_on`` (the list's "overdue" filter), proven by the tests to agree
  with the model methods;
- the default "overdue after" for a cadence: ``default_cadence_max``.

The rule: the clock starts at the local date (in the customer's time zone) of the last contact,
else the day they became a customer, else the day they were added; the check-in is due
``cadence_days`` later and overdue ``cadence_max_days`` after the clock's start. A snooze moves
the due date; "overdue" counts from the due date, so a snoozed check-in is not overdue early.
"""

import datetime

from django.db import connection
from django.db.models import DateField, DurationField, ExpressionWrapper, F, Value

from .models import Customer

ONE_DAY = Value(datetime.timedelta(days=1), output_field=DurationField())


def default_cadence_max(cadence_days):
    """"Overdue after" when nobody chose it: one and a half times the cadence."""
    return cadence_days + cadence_days // 2


def overdue_on():
    """
    ``Customer.checkin_state``'s overdue date as an expression:
    ``next_checkin_due + (cadence_max_days - cadence_days)`` days, on SQLite and PostgreSQL alike.
    """
    slack = ExpressionWrapper(
        (F("cadence_max_days") - F("cadence_days")) * ONE_DAY, output_field=DurationField()
    )
    return ExpressionWrapper(F("next_checkin_due") + slack, output_field=DateField())


def next_checkin_due_recompute(*, customers, batch_size=1000):
    """
    Set ``next_checkin_due`` of ``customers`` (a Customer queryset) from their stored
    ``last_contacted_at``, ``customer_since``, ``created_at``, ``timezone`` and ``cadence_days``:
    ``Customer.compute_next_checkin_due()`` for many rows. One UPDATE on PostgreSQL; on SQLite,
    which has no time zones in SQL, the model method in batches. Returns how many rows it wrote.
    """
    if connection.vendor == "postgresql":
        ids = customers.order_by().values("pk")
        sql, params = ids.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Customer._meta.db_table} SET next_checkin_due = COALESCE(
                    (last_contacted_at AT TIME ZONE timezone)::date, customer_since,
                    (created_at AT TIME ZONE timezone)::date) + cadence_days
                WHERE id IN ({sql})
                """,
                params,
            )
            return cursor.rowcount
    written = 0
    fields = ["pk", "last_contacted_at", "customer_since", "created_at", "timezone", "cadence_days"]
    batch = []
    for customer in customers.order_by("pk").only(*fields).iterator(chunk_size=batch_size):
        customer.next_checkin_due = customer.compute_next_checkin_due()
        batch.append(customer)
        if len(batch) >= batch_size:
            written += Customer.objects.bulk_update(batch, ["next_checkin_due"])
            batch = []
    if batch:
        written += Customer.objects.bulk_update(batch, ["next_checkin_due"])
    return written
