"""
Seeding work spread over the machine's cores. Most of a seeding's time goes to Python (making
rows, assessing health) which runs on one core at a time in a process, while the database, on
its own connection, waits for the rows: so the work is split into parts (batches of customers,
ranges of ids) and forked processes take them side by side, each with its own connection.

Inline, in order, where the caller holds a transaction (tests: another connection could not see
its rows) or the database is not PostgreSQL (SQLite takes one writer at a time).
"""

import multiprocessing

from django.db import connection, connections

PROCESSES = 2  # on a 2-core machine: Python on both cores, PostgreSQL working while they wait on it


def side_by_side(work, parts, *, processes=PROCESSES):
    """
    ``work(part)`` for each of ``parts``, yielding what each returns (which must pickle) as it
    comes back, in no particular order. An exception in one stops the others and is raised here.
    """
    if processes < 2 or not forking():
        for part in parts:
            yield work(part)
        return
    global _WORK
    _WORK = work  # the forked processes find it here: a closure cannot be sent to them
    connections.close_all()  # each process opens its own: a connection cannot be shared
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            yield from pool.imap_unordered(_run, parts)
            pool.close()
            pool.join()
    finally:
        _WORK = None


def forking():
    """Whether ``side_by_side`` would fork (so what is handed to the processes must be shared)."""
    return not connection.in_atomic_block and connection.vendor == "postgresql"


_WORK = None


def _run(part):
    try:
        return _WORK(part)
    finally:
        connections.close_all()  # a process of the pool may exit without closing it
