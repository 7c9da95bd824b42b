"""
After a bulk load: fresh planner statistics, and the customer table compacted, so the pages and
scans are planned and run as on a database grown by normal use.
"""

import time

from django.db import connection

from customers.models import Contact, Customer, KeyDate, Purchase, Tag
from touchpoints.models import Complaint, FollowUp, Promise, Touchpoint

LOADED_MODELS = [Customer, Contact, Touchpoint, Touchpoint.contacts.through, Purchase, FollowUp,
                 Customer.tags.through, KeyDate, Tag, Promise, Complaint]


def analyze(models=None):
    """Statistics of ``models`` (by default every table a seeding loads)."""
    models = LOADED_MODELS if models is None else models
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("ANALYZE")
        elif connection.in_atomic_block:  # VACUUM cannot run in a transaction (tests)
            cursor.execute("ANALYZE " + ", ".join(m._meta.db_table for m in models))
        else:
            # VACUUM too: it sets the visibility map, so index-only scans work on fresh rows.
            cursor.execute("VACUUM (ANALYZE) " + ", ".join(m._meta.db_table for m in models))
            # And every other table: autovacuum never analyses the three-row team tables, and
            # the visibility rule's subquery planned on default estimates picks seq scans.
            cursor.execute("ANALYZE")


def compact_customers(wait=120):
    """
    Rewrite the customer table (PostgreSQL, outside a transaction): the denormalising UPDATEs
    leave dead versions of every row behind, which made it three times its size and every scan
    of it slower than on a table grown by normal use. A few seconds at 100,000 customers.

    VACUUM FULL must keep the old versions while any transaction in the database may still see
    them, and autovacuum, woken by the load, analyses the big tables in long transactions: so
    first wait (at most ``wait`` seconds) for its workers here to finish. Returns the sizes of the
    table before and after, in bytes, or None where there is nothing to do.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND backend_type = 'autovacuum worker'")
            if not cursor.fetchone()[0]:
                break
            time.sleep(1)
        cursor.execute("SELECT pg_relation_size(%s)", [table])
        before = cursor.fetchone()[0]
        cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")
        cursor.execute("SELECT pg_relation_size(%s)", [table])
        return before, cursor.fetchone()[0]
