"""
The survey results' counts, kept by PostgreSQL as invitations and answers are written.

The results page counts every invitation and answer its reader may see, at every request: at a
million customers, reading half a million answers to count them took most of a second. So
PostgreSQL keeps the counts the page shows in two small tables, one row per group the page counts
by, and the page adds up a few thousand rows instead:

- ``surveys_answer_tally``: answers by book (team, account manager), kind, score, local month and
  campaign (``AnswerTally``);
- ``surveys_invitation_tally``: invitations sent, opened and answered, by book and campaign
  (``InvitationTally``).

Statement triggers with transition tables keep them, whatever writes the rows: a campaign's
``INSERT … SELECT`` of 100,000 invitations adds to a few dozen rows once; a one-click answer, an
amendment, a customer moved to another book (``customers/books.py``), a deletion or a TRUNCATE
move the counts with them, in the same transaction. "None" (no campaign, team or account
manager) is kept as 0, so each group has one row. The months are those of ``TIME_ZONE``; the
counts are made again from the rows when it changes (``install``).

On SQLite, the embedded default for small books, there are no tallies: the results count the
rows themselves (``surveys.results``).
"""

from django.conf import settings
from django.db import connections

ANSWERS = "surveys_answer_tally"
INVITATIONS = "surveys_invitation_tally"
SOURCES = {ANSWERS: "surveys_response", INVITATIONS: "surveys_invitation"}

# Each tally's groups, and what each row of its source adds to them.
_GROUPS = {
    ANSWERS: {
        "team_id": "COALESCE(team_id, 0)", "owner_id": "COALESCE(owner_id, 0)", "kind": "kind",
        "score": "score", "category": "category",
        "month": "date_trunc('month', created_at AT TIME ZONE {zone})::date",
        "campaign_id": "COALESCE(campaign_id, 0)",
    },
    INVITATIONS: {
        "team_id": "COALESCE(team_id, 0)", "owner_id": "COALESCE(owner_id, 0)",
        "campaign_id": "COALESCE(campaign_id, 0)",
    },
}
_COUNTS = {
    ANSWERS: {"answers": "1"},
    INVITATIONS: {
        "sent": "1",
        "opened": "(opened_at IS NOT NULL OR answered_at IS NOT NULL)::int",
        "answered": "(answered_at IS NOT NULL)::int",
    },
}
_TABLES = {
    ANSWERS: """
        CREATE TABLE IF NOT EXISTS surveys_answer_tally (
            team_id bigint NOT NULL, owner_id integer NOT NULL, kind varchar(10) NOT NULL,
            score smallint NOT NULL, category varchar(10) NOT NULL, month date NOT NULL,
            campaign_id bigint NOT NULL, answers integer NOT NULL,
            PRIMARY KEY (team_id, owner_id, kind, score, category, month, campaign_id)
        )
    """,
    INVITATIONS: """
        CREATE TABLE IF NOT EXISTS surveys_invitation_tally (
            team_id bigint NOT NULL, owner_id integer NOT NULL, campaign_id bigint NOT NULL,
            sent integer NOT NULL, opened integer NOT NULL, answered integer NOT NULL,
            PRIMARY KEY (team_id, owner_id, campaign_id)
        )
    """,
}


def _zone():
    """``TIME_ZONE`` as an SQL string literal."""
    return "'" + settings.TIME_ZONE.replace("'", "''") + "'"


def _select(tally, rows, sign, zone):
    """What the rows of transition table ``rows`` add (sign 1) or take (-1) from ``tally``."""
    groups = [f"{expression.format(zone=zone)} AS {name}" for name, expression in _GROUPS[tally].items()]
    counts = [f"{sign} * {expression} AS {name}" for name, expression in _COUNTS[tally].items()]
    return f"SELECT {', '.join(groups + counts)} FROM {rows}"


def _add(tally, selects):
    """An upsert of ``selects`` (UNION ALL) into ``tally``, in key order (no deadlock between two)."""
    groups, counts = list(_GROUPS[tally]), list(_COUNTS[tally])
    return f"""
        INSERT INTO {tally} AS tally ({", ".join(groups + counts)})
        SELECT {", ".join(groups)}, {", ".join(f"SUM({c})" for c in counts)}
        FROM ({" UNION ALL ".join(selects)}) AS changes
        GROUP BY {", ".join(groups)}
        HAVING {" OR ".join(f"SUM({c}) <> 0" for c in counts)}
        ORDER BY {", ".join(groups)}
        ON CONFLICT ({", ".join(groups)}) DO UPDATE
        SET {", ".join(f"{c} = tally.{c} + EXCLUDED.{c}" for c in counts)}
    """


def _statements(tally, zone):
    source = SOURCES[tally]
    added, taken = _select(tally, "added", 1, zone), _select(tally, "taken", -1, zone)
    return [
        _TABLES[tally],
        f"COMMENT ON TABLE {tally} IS {zone}",
        f"""
        CREATE OR REPLACE FUNCTION {tally}_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN {_add(tally, [added])};
            ELSIF TG_OP = 'DELETE' THEN {_add(tally, [taken])};
            ELSE {_add(tally, [added, taken])};
            END IF;
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE OR REPLACE TRIGGER {tally}_insert AFTER INSERT ON {source}
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {tally}_count()
        """,
        f"""
        CREATE OR REPLACE TRIGGER {tally}_update AFTER UPDATE ON {source}
        REFERENCING OLD TABLE AS taken NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {tally}_count()
        """,
        f"""
        CREATE OR REPLACE TRIGGER {tally}_delete AFTER DELETE ON {source}
        REFERENCING OLD TABLE AS taken FOR EACH STATEMENT EXECUTE FUNCTION {tally}_count()
        """,
        f"""
        CREATE OR REPLACE FUNCTION {tally}_empty() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            TRUNCATE {tally};
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE OR REPLACE TRIGGER {tally}_truncate AFTER TRUNCATE ON {source}
        FOR EACH STATEMENT EXECUTE FUNCTION {tally}_empty()
        """,
    ]


def install(using="default"):
    """
    Make the tallies and their triggers (again), on PostgreSQL, once their sources exist; count
    them afresh from the rows when they are new or ``TIME_ZONE`` has changed since.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    tables = connection.introspection.table_names()
    zone = _zone()
    for tally, source in SOURCES.items():
        if source not in tables:
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", [tally])
            counted_in = cursor.fetchone()[0]
            for statement in _statements(tally, zone):
                cursor.execute(statement)
        if counted_in != settings.TIME_ZONE:
            recount(tally, using)


def recount(tally, using="default"):
    """Count ``tally`` afresh from every row of its source."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"TRUNCATE {tally}")
        cursor.execute(_add(tally, [_select(tally, SOURCES[tally], 1, _zone())]))


def uninstall(using="default"):
    """Drop the tallies and their triggers (their migration undone)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for tally, source in SOURCES.items():
            for event in ("insert", "update", "delete", "truncate"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {tally}_{event} ON {source}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {tally}_count(), {tally}_empty()")
            cursor.execute(f"DROP TABLE IF EXISTS {tally}")


def install_after_migrate(sender, using="default", **kwargs):
    """
    ``post_migrate``: the tallies' triggers again, and a recount if ``TIME_ZONE`` has changed,
    where their migration made them (none after it is undone).
    """
    connection = connections[using]
    if connection.vendor == "postgresql" and ANSWERS in connection.introspection.table_names():
        install(using)
