"""
Customers in and out as CSV, in the columns DESIGN.md fixes ("Stable interfaces"). Import from the
module that holds what you need:

- ``columns``: the column contract (``COLUMNS``, ``COLUMN_HELP``, lengths, ``example_csv``) and the
  formula-neutralising rule that export applies and import undoes;
- ``reading``: the file (size and encoding checks, delimiter, the header resolved to columns, the
  rows streamed) and the ``Report`` of ``Problem`` lines (``row N: COLUMN: message``);
- ``rows``: one data row parsed cell by cell into a ``Row``;
- ``importer``: the import engine, ``CsvImport`` (check, then run all or nothing) and
  ``ImportRefused``, which checks rows against the database;
- ``writing``: how a run writes, in batches, through the customer rules of ``customers.changes``;
- ``export``: customers out, streamed and logged;
- ``uploads``: the web import's workflow (size-limited upload, check, queue, confirm, clean).
"""
