"""
The customer's book — its team and account manager — copied onto the rows that belong to a
customer, and kept true by the database.

Some pages count or cut many such rows by book at every request: Today a book's birthdays, Records
and Today the promises kept on time, Records and the dashboard the complaints, the survey results
every invitation and answer (through their tallies, ``surveys/tallies.py``). Joining each row to
its customer to read two columns was most of their time at a million customers. So these rows
carry a copy of what they need (``COPIES``; the model fields are ``copy_fields``), and
triggers keep it whatever writes the rows (a form, an import's COPY, a campaign's
``INSERT … SELECT``, the one-click answer, a seed, the admin):

- a row written without its copy gets its customer's;
- a row moved to another customer, or saved with a copy that is not its customer's (an instance
  read before its customer moved), gets its customer's instead: the copy cannot be written wrong;
- a customer moved to another team or account manager (a reassignment, an import, a bulk change:
  any UPDATE) takes its rows along, in the same transaction.

The triggers are made by the migrations that add the copies, and made again after every
``migrate`` (``install_after_migrate``, from ``CustomersConfig.ready``): SQLite rebuilds a table
to alter it, and a rebuilt table has lost its triggers. Each is made for the tables that have
their copy columns, so the migrations of any app may run in any order.
"""

from django.conf import settings
from django.db import connections, migrations, models

CUSTOMERS = "customers_customer"

# Each table with a copy, and the customer's columns it copies, under the same names.
COPIES = {
    "customers_contact": ("team_id", "owner_id"),  # Today's birthdays of a book
    "touchpoints_promise": ("team_id",),  # kept-on-time rates (Records, Today); its owner is its own
    "touchpoints_complaint": ("team_id", "owner_id"),  # a book's complaints (Records, the dashboard)
    "surveys_invitation": ("team_id", "owner_id"),  # the survey results
    "surveys_response": ("team_id", "owner_id"),
}
FOLLOW = "customers_book_follow"


def copy_fields(*names):
    """
    The model fields of a copy of the customer's ``names`` ("team", "owner"): not editable, no
    constraint or index of their own (a model indexes them as its queries need).
    """
    fields = {
        "team": lambda: models.ForeignKey(
            "customers.Team", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
            null=True, blank=True, editable=False, related_name="+",
        ),
        "owner": lambda: models.ForeignKey(
            settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
            null=True, blank=True, editable=False, related_name="+",
        ),
    }
    return {name: fields[name]() for name in names}


def _new(columns):
    return ", ".join(f"NEW.{column}" for column in columns)


def _changed(columns, differ="IS DISTINCT FROM"):
    """The row moved to another customer, or its copy written other than it was."""
    return " OR ".join(f"NEW.{column} {differ} OLD.{column}" for column in ("customer_id", *columns))


def _postgresql(copies):
    statements = []
    for table, columns in copies.items():
        statements += [
            f"""
            CREATE OR REPLACE FUNCTION {table}_book_fill() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                SELECT {", ".join(columns)} INTO {_new(columns)}
                FROM {CUSTOMERS} WHERE id = NEW.customer_id;
                RETURN NEW;
            END $$
            """,
            f"""
            CREATE OR REPLACE TRIGGER {table}_book BEFORE INSERT ON {table}
            FOR EACH ROW WHEN (NEW.team_id IS NULL) EXECUTE FUNCTION {table}_book_fill()
            """,
            f"""
            CREATE OR REPLACE TRIGGER {table}_book_keep BEFORE UPDATE ON {table}
            FOR EACH ROW WHEN ({_changed(columns)}) EXECUTE FUNCTION {table}_book_fill()
            """,
        ]
    if not copies:
        return statements + [f"DROP TRIGGER IF EXISTS {FOLLOW} ON {CUSTOMERS}"]
    updates = "".join(
        f"""
                UPDATE {table} SET ({", ".join(columns)}) = ROW({_new(columns)})
                WHERE customer_id = NEW.id
                  AND ROW({", ".join(columns)}) IS DISTINCT FROM ROW({_new(columns)});"""
        for table, columns in copies.items()
    )
    moved = "OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.owner_id IS DISTINCT FROM NEW.owner_id"
    return statements + [
        f"""
        CREATE OR REPLACE FUNCTION {FOLLOW}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN{updates}
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE OR REPLACE TRIGGER {FOLLOW} AFTER UPDATE OF team_id, owner_id ON {CUSTOMERS}
        FOR EACH ROW WHEN ({moved}) EXECUTE FUNCTION {FOLLOW}()
        """,
    ]


def _sqlite(copies):
    # SQLite has no CREATE OR REPLACE TRIGGER: each is dropped and made, so a changed one is made anew.
    statements = []
    for table, columns in copies.items():
        fill = ", ".join(f"{c} = (SELECT {c} FROM {CUSTOMERS} WHERE id = NEW.customer_id)" for c in columns)
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_book",
            f"""
            CREATE TRIGGER {table}_book AFTER INSERT ON {table}
            FOR EACH ROW WHEN NEW.team_id IS NULL BEGIN
                UPDATE {table} SET {fill} WHERE id = NEW.id;
            END
            """,
            f"DROP TRIGGER IF EXISTS {table}_book_keep",
            f"""
            CREATE TRIGGER {table}_book_keep AFTER UPDATE OF customer_id, {", ".join(columns)} ON {table}
            FOR EACH ROW WHEN {_changed(columns, differ="IS NOT")} BEGIN
                UPDATE {table} SET {fill} WHERE id = NEW.id;
            END
            """,
        ]
    statements.append(f"DROP TRIGGER IF EXISTS {FOLLOW}")
    if copies:
        updates = "".join(
            f"""
                UPDATE {table} SET {", ".join(f"{c} = NEW.{c}" for c in columns)}
                WHERE customer_id = NEW.id;"""
            for table, columns in copies.items()
        )
        statements.append(f"""
            CREATE TRIGGER {FOLLOW} AFTER UPDATE OF team_id, owner_id ON {CUSTOMERS}
            FOR EACH ROW WHEN OLD.team_id IS NOT NEW.team_id OR OLD.owner_id IS NOT NEW.owner_id
            BEGIN{updates}
            END
        """)
    return statements


def present(using="default", exclude=()):
    """The ``COPIES`` whose tables exist with their copy columns (and the customers' table)."""
    connection = connections[using]
    tables = set(connection.introspection.table_names())
    if CUSTOMERS not in tables:
        return {}
    copies = {}
    with connection.cursor() as cursor:
        for table, columns in COPIES.items():
            if table in tables and table not in exclude:
                described = connection.introspection.get_table_description(cursor, table)
                if set(columns) <= {column.name for column in described}:
                    copies[table] = columns
    return copies


def install(using="default", exclude=()):
    """Make the triggers (again) for every copy in place; the customers' one follows them all."""
    connection = connections[using]
    make = {"postgresql": _postgresql, "sqlite": _sqlite}[connection.vendor]
    statements = make(present(using, exclude))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def uninstall(tables, using="default"):
    """Drop the triggers of ``tables`` (their migration undone); the others are kept."""
    connection = connections[using]
    with connection.cursor() as cursor:
        for table in tables:
            for name in (f"{table}_book", f"{table}_book_keep"):
                on = f" ON {table}" if connection.vendor == "postgresql" else ""
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP FUNCTION IF EXISTS {table}_book_fill()")
    install(using, exclude=tables)


def backfill(tables, using="default"):
    """Copy every customer's book onto its rows in ``tables`` where it is not already."""
    with connections[using].cursor() as cursor:
        for table in tables:
            columns = COPIES[table]
            cursor.execute(f"""
                UPDATE {table} SET {", ".join(f"{c} = c.{c}" for c in columns)}
                FROM {CUSTOMERS} AS c
                WHERE c.id = {table}.customer_id
                  AND ({" OR ".join(f"{table}.{c} IS DISTINCT FROM c.{c}" for c in columns)})
            """)


def copy_and_keep(tables):
    """
    The migration operation for copies added to ``tables``: every row gets its customer's book,
    then the triggers keep it (undone: their triggers are dropped, the others kept).
    """

    def forward(apps, schema_editor):
        backfill(tables, schema_editor.connection.alias)
        install(schema_editor.connection.alias)

    def backward(apps, schema_editor):
        uninstall(tables, schema_editor.connection.alias)

    return migrations.RunPython(forward, backward, elidable=False)


def install_after_migrate(sender, using="default", **kwargs):
    """``post_migrate``: the triggers, for the copies whose tables exist."""
    install(using)
