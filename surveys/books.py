"""
The customer's book (team and account manager) on every invitation and answer, kept by the database.

The results page counts answers by team and account manager, and cuts them to what the reader may
see, at every request: joining 100,000 customers to read two columns was most of its time. So each
invitation and response carries a copy (``team``, ``owner``: ``models.customer_book_fields``),
and triggers keep it true whatever writes the rows (a campaign's ``INSERT … SELECT``, the one-click
answer, an import, a seed, the admin):

- a row written without its copy gets its customer's team and account manager;
- a customer moved to another team or account manager (a reassignment, an import, a bulk change:
  any UPDATE) takes its invitations and answers along, in the same transaction.

The triggers are made by the migration that added the copies and made again, if missing, after
every ``migrate`` (``install``, from ``SurveysConfig.ready``): SQLite rebuilds a table to alter it,
and a rebuilt table has lost its triggers.
"""

from django.db import connections

TABLES = ("surveys_invitation", "surveys_response")
CUSTOMERS = "customers_customer"

_POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION surveys_book_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT team_id, owner_id INTO NEW.team_id, NEW.owner_id FROM {CUSTOMERS} WHERE id = NEW.customer_id;
        RETURN NEW;
    END $$
    """,
    *(
        f"""
        CREATE OR REPLACE TRIGGER {table}_book BEFORE INSERT ON {table}
        FOR EACH ROW WHEN (NEW.team_id IS NULL) EXECUTE FUNCTION surveys_book_fill()
        """
        for table in TABLES
    ),
    f"""
    CREATE OR REPLACE FUNCTION surveys_book_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {TABLES[0]} SET team_id = NEW.team_id, owner_id = NEW.owner_id WHERE customer_id = NEW.id;
        UPDATE {TABLES[1]} SET team_id = NEW.team_id, owner_id = NEW.owner_id WHERE customer_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE TRIGGER surveys_book_follow AFTER UPDATE OF team_id, owner_id ON {CUSTOMERS}
    FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION surveys_book_follow()
    """,
]

_SQLITE = [
    *(
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_book AFTER INSERT ON {table}
        FOR EACH ROW WHEN NEW.team_id IS NULL BEGIN
            UPDATE {table} SET
                team_id = (SELECT team_id FROM {CUSTOMERS} WHERE id = NEW.customer_id),
                owner_id = (SELECT owner_id FROM {CUSTOMERS} WHERE id = NEW.customer_id)
            WHERE id = NEW.id;
        END
        """
        for table in TABLES
    ),
    f"""
    CREATE TRIGGER IF NOT EXISTS surveys_book_follow AFTER UPDATE OF team_id, owner_id ON {CUSTOMERS}
    FOR EACH ROW WHEN OLD.team_id IS NOT NEW.team_id OR OLD.owner_id IS NOT NEW.owner_id BEGIN
        UPDATE {TABLES[0]} SET team_id = NEW.team_id, owner_id = NEW.owner_id WHERE customer_id = NEW.id;
        UPDATE {TABLES[1]} SET team_id = NEW.team_id, owner_id = NEW.owner_id WHERE customer_id = NEW.id;
    END
    """,
]

_BACKFILL = [
    f"""
    UPDATE {table} SET
        team_id = (SELECT team_id FROM {CUSTOMERS} c WHERE c.id = {table}.customer_id),
        owner_id = (SELECT owner_id FROM {CUSTOMERS} c WHERE c.id = {table}.customer_id)
    WHERE team_id IS NULL
    """
    for table in TABLES
]


def install(using="default"):
    """Make the triggers (again): a no-op where they are in place."""
    connection = connections[using]
    statements = {"postgresql": _POSTGRESQL, "sqlite": _SQLITE}[connection.vendor]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def uninstall(using="default"):
    """Drop the triggers (the migration undone)."""
    connection = connections[using]
    triggers = [(f"{table}_book", table) for table in TABLES] + [("surveys_book_follow", CUSTOMERS)]
    with connection.cursor() as cursor:
        for name, table in triggers:
            on = f" ON {table}" if connection.vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS surveys_book_fill(), surveys_book_follow()")


def backfill(using="default"):
    """Copy every customer's book onto its invitations and answers that lack it."""
    with connections[using].cursor() as cursor:
        for statement in _BACKFILL:
            cursor.execute(statement)


def install_after_migrate(sender, using="default", **kwargs):
    """``post_migrate``: the triggers, once the tables they need exist."""
    tables = connections[using].introspection.table_names()
    if CUSTOMERS in tables and all(table in tables for table in TABLES):
        install(using)
